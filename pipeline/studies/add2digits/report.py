"""Report section: Add2Digits, RNN vs LSTM over sequence length (MLflow experiment `add2digits`).

Light on purpose (no torch). Every number comes from the MLflow runs that produced the
current `metrics/add2digits/*` and `plots/add2digits/*` files (found by
`ReportContext.run_for`) or from the prepare stage's statistics; the published figures
come from params.yaml. The closing paragraph is generated from the extended grid's numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.core import figures
from pipeline.core.io import require_inputs
from pipeline.reporting import FIGURES, TABLES, ReportContext, Section, metric_curve
from pipeline.studies.add2digits import PREPARE_STAGE, STATISTICS, STUDY, extended_run, params, run_name, stage_name
from pipeline.studies.add2digits.figures import reference_figure
from pipeline.studies.add2digits.params import Add2DigitsParams, PublishedRun

CURVE_KEYS = ("iterations", "train_loss", "test_loss", "train_accuracy", "test_accuracy")  # the reference runs' epochs


@dataclass
class Results:
    """What the section shows, keyed by (cell, length)."""

    reference: dict[tuple[str, str], dict[str, float]]  # the reference run's metrics
    curves: dict[tuple[str, str], pd.DataFrame]  # its per-epoch curve
    extended: dict[tuple[str, str], list[dict[str, float]]]  # one metrics dict per seed


def load_results(ctx: ReportContext, config: Add2DigitsParams) -> Results:
    results = Results({}, {}, {})
    for cell in config.matrix.cell:
        for length in config.matrix.length:
            stage = stage_name(cell, length)
            if config.runs_reference(length):
                run = ctx.run_for(STUDY, run_name(cell, length), stage)
                results.reference[(cell, length)] = dict(run.data.metrics)
                results.curves[(cell, length)] = metric_curve(ctx.client, run.info.run_id, CURVE_KEYS)
            results.extended[(cell, length)] = [
                dict(ctx.run_for(STUDY, extended_run(cell, length, seed), stage).data.metrics)
                for seed in config.extended.active.seeds
            ]
    return results


def render(ctx: ReportContext) -> list[str]:
    _, config = params.load()
    require_inputs([ctx.root / STATISTICS], PREPARE_STAGE)
    stats = json.loads((ctx.root / STATISTICS).read_text())
    results = load_results(ctx, config)
    grid = config.extended.active
    baselines = majority_baselines(stats, config)

    reference = reference_table(config, results, baselines)
    extended = extended_table(config, results)
    per_seed = seed_table(config, results)
    reference.to_csv(ctx.out.path(TABLES / "add2digits_reference.csv"), index=False)
    extended.to_csv(ctx.out.path(TABLES / "add2digits_extended.csv"), index=False)
    per_seed.to_csv(ctx.out.path(TABLES / "add2digits_extended_runs.csv"), index=False)
    figure = reference_figure(results.curves, config.matrix.cell, reference_lengths(config), stats["label_distribution_majority"])
    figures.save(figure, ctx.out.path(FIGURES / "add2digits_reference.png"))

    protocol = config.reference
    published = config.published
    more = published.more_data
    more_text = ", ".join(f"{name} {value:.2f}" for name, value in more.test_accuracy.items())
    return [
        f"## Add2Digits: RNN vs LSTM over sequence length (MLflow experiment `{STUDY.experiment}`)",
        "",
        "Random digits with one marker -1 (never in the last two positions); the label is the digit after the "
        "marker plus the last digit (19 classes), one-hot input over 11 tokens. "
        f"`torch.nn.RNN` / `torch.nn.LSTM` (hidden {config.model.hidden_size}, {config.model.num_layers} layers) "
        f"+ `Linear({config.model.hidden_size}, 19)` on the last step. Reference protocol: {protocol.examples:,} "
        f"examples per length, the first {protocol.train_examples} train and the rest test, full-batch Adam for "
        f"{protocol.epochs} epochs (one step each), lr {protocol.lr.rnn:g} (RNN) / {protocol.lr.lstm:g} (LSTM). "
        f"Majority-class baseline (always the training split's commonest class): {baseline_range(baselines)} on the "
        f"test splits; {stats['label_distribution_majority']:.2f} in expectation (P(a + b = 9)); published "
        f"{published.majority_baseline:.2f}.",
        "",
        "![loss and accuracy per step](figures/add2digits_reference.png)",
        "",
        "### Reference protocol: test accuracy per run",
        "",
        reference.to_markdown(index=False),
        "",
        "`published`: the reference's figures (approximate, from its text and plots). The train accuracy of an epoch is "
        "measured on its full batch before that epoch's step, like its loss.",
        *not_run_lines(config),
        "",
        f"### Beyond the reference: {grid.train_examples:,} training examples, {len(grid.seeds)} seeds (preset `{config.extended.preset}`)",
        "",
        f"Mini-batches of {grid.batch_size}, Adam lr {grid.lr.rnn:g} (RNN) / {grid.lr.lstm:g} (LSTM), at most "
        f"{grid.epochs} epochs with early stopping on {grid.val_examples:,} validation examples (patience {grid.patience}); "
        f"the lowest-validation-loss weights are scored on {grid.test_examples:,} test examples. Each seed draws its own "
        "data set and initialisation; the RNN and LSTM of a seed share its data. Mean ± standard deviation over seeds. "
        f"The reference's variant with {more.train_examples:,} training examples reported {more_text}.",
        "",
        extended.to_markdown(index=False),
        "",
        conclusions(config, results, baselines),
        "",
    ]


def reference_lengths(config: Add2DigitsParams) -> list[str]:
    """The matrix lengths that ran the reference protocol, in matrix order."""
    return [length for length in config.matrix.length if config.runs_reference(length)]


def not_run_lines(config: Add2DigitsParams) -> list[str]:
    skipped = [length for length in config.matrix.length if not config.runs_reference(length)]
    if not skipped:
        return []
    every = ",".join(config.matrix.length)
    return [
        "",
        f"The protocol is not run at length {', '.join(l.removeprefix('L') for l in skipped)} by default "
        f"(`{STUDY.name}.reference.lengths`): its 300 full-batch epochs there would take this study's `dvc repro` past "
        "its time budget. The reference reports no figure for that length "
        f"with {config.reference.train_examples} training examples (its length-30 figures use "
        f"{config.published.more_data.train_examples:,}; compare the extended grid below). "
        f"To run it: `dvc exp run -S '{STUDY.name}.reference.lengths=[{every}]'`.",
    ]


def majority_baselines(stats: dict, config: Add2DigitsParams) -> dict[str, float]:
    """Test-split accuracy of always answering the training split's commonest class, per data set."""
    keys = [f"{length}/reference" for length in reference_lengths(config)]
    keys += [f"{length}/extended-s{seed}" for length in config.matrix.length for seed in config.extended.active.seeds]
    return {key: stats[key]["test"]["majority_accuracy"] for key in keys}


def baseline_range(baselines: dict[str, float]) -> str:
    low, high = min(baselines.values()), max(baselines.values())
    return f"{low:.2f}" if round(low, 2) == round(high, 2) else f"{low:.2f}-{high:.2f}"


def published_text(run: PublishedRun | None) -> str:
    if run is None:
        return "n/a"
    parts = []
    if run.best_test_accuracy is not None:
        parts.append(f"best ≈{run.best_test_accuracy:.2f}")
    if run.final_test_accuracy is not None:
        parts.append(f"final ≈{run.final_test_accuracy:.2f}")
    if run.test_accuracy is not None:
        parts.append(f"≈{run.test_accuracy:.2f}")
    if run.train_accuracy_1_by_epoch is not None:
        parts.append(f"train 1.0 by epoch ≈{run.train_accuracy_1_by_epoch}")
    return ", ".join(parts) or "n/a"


def reference_table(config: Add2DigitsParams, results: Results, baselines: dict[str, float]) -> pd.DataFrame:
    rows = []
    for length in reference_lengths(config):
        for cell in config.matrix.cell:
            m = results.reference[(cell, length)]
            first_perfect = m.get("first_epoch_train_accuracy_1")
            rows.append(
                {
                    "length": int(length.removeprefix("L")),
                    "cell": cell.upper(),
                    "final test accuracy": round(m["final_test_accuracy"], 3),
                    "best test accuracy (epoch)": f"{m['best_test_accuracy']:.3f} ({int(m['best_test_epoch'])})",
                    "final train accuracy": round(m["final_train_accuracy"], 3),
                    "train accuracy 1.0 from epoch": "never" if first_perfect is None else int(first_perfect),
                    "published": published_text(config.published.reference.get(run_name(cell, length))),
                    "majority baseline": baselines[f"{length}/reference"],
                    "seconds per epoch": round(m["seconds_per_epoch"], 3),
                }
            )
    return pd.DataFrame(rows)


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    array = np.asarray(values, dtype=float)
    return float(array.mean()), float(array.std(ddof=1)) if len(array) > 1 else 0.0


def extended_table(config: Add2DigitsParams, results: Results) -> pd.DataFrame:
    rows = []
    for length in config.matrix.length:
        for cell in config.matrix.cell:
            runs = results.extended[(cell, length)]
            test, test_std = mean_std([m["test_accuracy"] for m in runs])
            train, train_std = mean_std([m["kept_train_accuracy"] for m in runs])
            published = config.published.more_data.test_accuracy.get(run_name(cell, length))
            rows.append(
                {
                    "length": int(length.removeprefix("L")),
                    "cell": cell.upper(),
                    "test accuracy": f"{test:.3f} ± {test_std:.3f}",
                    "per seed": " / ".join(f"{m['test_accuracy']:.3f}" for m in runs),
                    "train accuracy": f"{train:.3f} ± {train_std:.3f}",
                    "kept epoch (mean)": round(float(np.mean([m["best_epoch"] for m in runs])), 1),
                    f"published ({config.published.more_data.train_examples:,} train)": "n/a" if published is None else f"{published:.2f}",
                    "seconds per epoch": round(float(np.mean([m["seconds_per_epoch"] for m in runs])), 3),
                }
            )
    return pd.DataFrame(rows)


def seed_table(config: Add2DigitsParams, results: Results) -> pd.DataFrame:
    """Every extended run: the numbers behind the mean ± std."""
    rows = [
        {"length": int(length.removeprefix("L")), "cell": cell, "seed": seed, **{k: m[k] for k in (
            "test_accuracy", "kept_val_accuracy", "kept_train_accuracy", "best_epoch", "epochs_trained", "seconds_per_epoch")}}
        for length in config.matrix.length
        for cell in config.matrix.cell
        for seed, m in zip(config.extended.active.seeds, results.extended[(cell, length)])
    ]
    return pd.DataFrame(rows)


def conclusions(config: Add2DigitsParams, results: Results, baselines: dict[str, float]) -> str:
    """The paragraph answering the reference's question, generated from the numbers."""
    threshold = config.fails_below
    grid = config.extended.active
    lengths = sorted(config.matrix.length, key=lambda name: int(name.removeprefix("L")))
    accuracies = {key: [m["test_accuracy"] for m in runs] for key, runs in results.extended.items()}
    sentences = []
    if {"rnn", "lstm"} <= set(config.matrix.cell):
        real, unclear = [], []
        for length in lengths:
            lstm, rnn = accuracies[("lstm", length)], accuracies[("rnn", length)]
            difference = np.mean(lstm) - np.mean(rnn)
            text = f"{length.removeprefix('L')} ({difference:+.2f})"
            (real if min(lstm) > max(rnn) else unclear).append(text)
        if real:
            sentences.append(
                f"With {grid.train_examples:,} training examples the LSTM's advantage is real at length "
                f"{', '.join(real)}: every LSTM seed scores above every RNN seed (mean difference in brackets)."
            )
        if unclear:
            sentences.append(
                f"At length {', '.join(unclear)} it is not established: the seeds of the two cells overlap."
            )
    for cell in config.matrix.cell:
        failing = [length for length in lengths if np.mean(accuracies[(cell, length)]) < threshold]
        from_length = next(
            (length for i, length in enumerate(lengths) if all(l in failing for l in lengths[i:])), None
        )
        if not failing:
            sentences.append(f"The {cell.upper()} does not fail at any length tried (mean test accuracy at least {threshold:g}).")
        elif from_length is not None:
            sentences.append(
                f"The {cell.upper()} fails (mean test accuracy below {threshold:g}) from length "
                f"{from_length.removeprefix('L')} on."
            )
        else:
            sentences.append(
                f"The {cell.upper()} fails (mean test accuracy below {threshold:g}) at length "
                f"{', '.join(l.removeprefix('L') for l in failing)} but not at every longer one."
            )
    finals = [m["final_test_accuracy"] for m in results.reference.values()]
    perfect = [m for m in results.reference.values() if m.get("first_epoch_train_accuracy_1") is not None]
    sentences.append(
        f"In the reference protocol ({config.reference.train_examples} training examples) {len(perfect)} of "
        f"{len(finals)} runs reach training accuracy 1.0 while their final test accuracy is "
        f"{min(finals):.2f}-{max(finals):.2f}, against a majority-class baseline of {baseline_range(baselines)}: "
        "with so few examples of the 100 digit pairs the models memorise, so the reference's comparison is limited "
        "by its data more than by the cell."
        if perfect
        else f"In the reference protocol no run reaches training accuracy 1.0; final test accuracy "
        f"{min(finals):.2f}-{max(finals):.2f}, majority-class baseline {baseline_range(baselines)}."
    )
    return " ".join(sentences)


SECTION = Section(STUDY.name, render)
