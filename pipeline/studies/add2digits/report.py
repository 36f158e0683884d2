"""Report section: Add2Digits, RNN vs LSTM over sequence length (MLflow experiment `add2digits`).

Light on purpose (no torch). Every number comes from the MLflow runs that produced the current
`metrics/add2digits/*` and `plots/add2digits/*` files (read through `results`, shared with the
answer sheet's entries in `answers`) or from the prepare stage's statistics; the published
figures come from params.yaml. The closing paragraph is generated from the extended grid's numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.reporting import TABLES, ReportContext, Section, save_figure
from pipeline.studies.add2digits import GRADIENTS_RUN, STUDY, length_value, run_name
from pipeline.studies.add2digits.answers import ANSWERS, EXTENDED, GRADIENTS, PROTOCOL_TABLE, gradient_summary, protocol_heading
from pipeline.studies.add2digits.figures import gradient_figure, reference_figure
from pipeline.studies.add2digits.params import Add2DigitsParams
from pipeline.studies.add2digits.results import Results, load, load_gradients, mean_std, published_figures, statistics

# What the reference run states, as the protocol table's `published` column words it.
PUBLISHED_COLUMN = {
    "best_test_accuracy": "best ≈{:.2f}",
    "final_test_accuracy": "final ≈{:.2f}",
    "test_accuracy": "≈{:.2f}",
    "train_accuracy_1_by_epoch": "train 1.0 by epoch ≈{}",
}


def render(ctx: ReportContext) -> list[str]:
    results = load(ctx)
    config = results.config
    grid = config.extended.active

    reference = reference_table(results)
    extended = extended_table(results)
    per_seed = seed_table(results)
    gradients = gradient_table(ctx, config)
    reference.to_csv(ctx.out.path(TABLES / "add2digits_reference.csv"), index=False)
    extended.to_csv(ctx.out.path(TABLES / "add2digits_extended.csv"), index=False)
    per_seed.to_csv(ctx.out.path(TABLES / "add2digits_extended_runs.csv"), index=False)
    gradients.to_csv(ctx.out.path(TABLES / "add2digits_input_gradients.csv"), index=False)
    expected = statistics(ctx)["label_distribution_majority"]

    protocol = config.reference
    published = config.published
    variant = published.later_variant
    variant_text = ", ".join(f"{name} {value:.3f}" for name, value in variant.test_accuracy.items())
    return [
        f"## Add2Digits: RNN vs LSTM over sequence length (MLflow experiment `{STUDY.experiment}`)",
        "",
        "Random digits with one marker -1 (never in the last two positions); the label is the digit after the "
        "marker plus the last digit (19 classes), one-hot input over 11 tokens. "
        f"`torch.nn.RNN` / `torch.nn.LSTM` (hidden {config.model.hidden_size}, {config.model.num_layers} layers) "
        f"+ `Linear({config.model.hidden_size}, 19)` on the last step. The homework's protocol: {protocol.examples:,} "
        f"examples per length, the first {protocol.train_examples} train and the rest test, full-batch Adam for "
        f"{protocol.epochs} epochs (one step each), lr {protocol.lr.rnn:g} (RNN) / {protocol.lr.lstm:g} (LSTM). "
        f"Majority-class baseline (always the training split's commonest class): {baseline_range(results.baselines)} on the "
        f"test splits; {expected:.2f} in expectation (P(a + b = 9)); published "
        f"{published.majority_baseline:.2f}.",
        "",
        *[line for length in results.reference_lengths for line in protocol_lines(ctx, results, length, expected)],
        f"### {PROTOCOL_TABLE}",
        "",
        reference.to_markdown(index=False),
        "",
        "`published`: the homework's reference run (approximate, from its text and plots; it shows the RNN only). The "
        "train accuracy of an epoch is measured on its full batch before that epoch's step, like its loss.",
        *not_run_lines(config),
        "",
        f"### {EXTENDED}",
        "",
        f"{grid.train_examples:,} training examples per (length, seed), {len(grid.seeds)} seeds (preset "
        f"`{config.extended.preset}`): mini-batches of {grid.batch_size}, Adam lr {grid.lr.rnn:g} (RNN) / {grid.lr.lstm:g} "
        f"(LSTM), at most {grid.epochs} epochs with early stopping on {grid.val_examples:,} validation examples (patience "
        f"{grid.patience}); the lowest-validation-loss weights are scored on {grid.test_examples:,} test examples. Each seed "
        "draws its own data set and initialisation; the RNN and LSTM of a seed share its data. Mean ± standard deviation "
        f"over seeds. A later published variant of the course, not the homework's protocol ({variant.train_examples:,} "
        f"training examples, {variant.epochs} epochs), reported {variant_text}; preset `train_5000` trains on as many examples "
        f"(`dvc exp run -S {STUDY.name}.extended.preset=train_5000`).",
        "",
        extended.to_markdown(index=False),
        "",
        conclusions(results),
        "",
        *gradient_lines(ctx, gradients),
    ]


def protocol_lines(ctx: ReportContext, results: Results, length: str, expected: float) -> list[str]:
    """HW3-1.2 at one length: the two graphs, and the numbers they end at."""
    cells = results.config.matrix.cell
    figure = reference_figure(results.curves, cells, [length], expected)
    alt = f"loss and accuracy per step, length {length_value(length)}"
    image = save_figure(ctx, figure, f"add2digits_reference_{length}.png", alt)
    finals = ", ".join(f"{cell.upper()} {results.reference[(cell, length)]['final_test_accuracy']:.3f}" for cell in cells)
    return [
        f"### {protocol_heading(length)}",
        "",
        f"Training loss per step (top), training (solid) and test (dashed) accuracy per step (bottom). Final test "
        f"accuracy: {finals}; majority-class baseline {results.baselines[f'{length}/reference']:.2f}.",
        "",
        image,
        "",
    ]


def gradient_table(ctx: ReportContext, config: Add2DigitsParams) -> pd.DataFrame:
    """Per length and cell: the first-over-last gradient ratio, initial and trained, with the test accuracies."""
    summary = gradient_summary(ctx)
    rows = []
    for length in sorted(config.matrix.length, key=length_value):
        for cell in config.matrix.cell:
            at = summary[(summary["length"] == length_value(length)) & (summary["cell"] == cell)]
            seeds = at[at["grid"] == "extended"]
            initial, trained = seeds[seeds["weights"] == "initial"], seeds[seeds["weights"] == "trained"]
            protocol = at[(at["grid"] == "reference") & (at["weights"] == "trained")]
            rows.append(
                {
                    "length": length_value(length),
                    "cell": cell.upper(),
                    "initial weights (seeds)": " / ".join(f"{v:.2g}" for v in initial["first_over_last"]),
                    "per step, initial": " / ".join(f"{v:.3f}" for v in initial["per_step"]),
                    "trained, homework protocol": f"{protocol['first_over_last'].iloc[0]:.2g}" if len(protocol) else "not run",
                    "trained (seeds)": " / ".join(f"{v:.2g}" for v in trained["first_over_last"]),
                    "test accuracy (seeds)": " / ".join(f"{v:.3f}" for v in trained["test_accuracy"]),
                }
            )
    return pd.DataFrame(rows)


def gradient_lines(ctx: ReportContext, table: pd.DataFrame) -> list[str]:
    return [
        f"### {GRADIENTS}",
        "",
        f"Run `{GRADIENTS_RUN}` (stage `measure_add2digits`, no training): for every trained model and for its initial weights "
        "(rebuilt from its training run's seed), the norm of the gradient of the loss with respect to each one-hot input, "
        "averaged over the test split of its data set, by the input's distance from the end (0: the last digit). The label "
        "needs the digit after the marker, anywhere from the second input to the third-last, so a model that solves the task "
        "must carry gradient that far back. The table gives the norm at the first input over the norm at the last (and, for "
        "the initial weights, the factor per step that amounts to).",
        "",
        save_figure(ctx, gradient_figure(load_gradients(ctx)), "add2digits_input_gradients.png", "input gradients"),
        "",
        table.to_markdown(index=False),
        "",
    ]


def not_run_lines(config: Add2DigitsParams) -> list[str]:
    skipped = [length for length in config.matrix.length if not config.runs_reference(length)]
    if not skipped:
        return []
    every = ",".join(config.matrix.length)
    return [
        "",
        f"The protocol is not run at length {', '.join(name.removeprefix('L') for name in skipped)} "
        f"(`{STUDY.name}.reference.lengths`); the extended grid below covers it. "
        f"To run it: `dvc exp run -S '{STUDY.name}.reference.lengths=[{every}]'`.",
    ]


def baseline_range(baselines: dict[str, float]) -> str:
    low, high = min(baselines.values()), max(baselines.values())
    return f"{low:.2f}" if round(low, 2) == round(high, 2) else f"{low:.2f}-{high:.2f}"


def reference_table(results: Results) -> pd.DataFrame:
    config = results.config
    rows = []
    for length in results.reference_lengths:
        for cell in config.matrix.cell:
            m = results.reference[(cell, length)]
            first_perfect = m.get("first_epoch_train_accuracy_1")
            published = published_figures(config.published.reference.get(run_name(cell, length)), PUBLISHED_COLUMN)
            rows.append(
                {
                    "length": int(length.removeprefix("L")),
                    "cell": cell.upper(),
                    "final test accuracy": round(m["final_test_accuracy"], 3),
                    "best test accuracy (epoch)": f"{m['best_test_accuracy']:.3f} ({int(m['best_test_epoch'])})",
                    "final train accuracy": round(m["final_train_accuracy"], 3),
                    "train accuracy 1.0 from epoch": "never" if first_perfect is None else int(first_perfect),
                    "published": published or "n/a",
                    "majority baseline": results.baselines[f"{length}/reference"],
                    "seconds per epoch": round(m["seconds_per_epoch"], 3),
                }
            )
    return pd.DataFrame(rows)


def extended_table(results: Results) -> pd.DataFrame:
    config = results.config
    rows = []
    for length in config.matrix.length:
        for cell in config.matrix.cell:
            runs = results.extended[(cell, length)]
            test, test_std = mean_std([m["test_accuracy"] for m in runs])
            train, train_std = mean_std([m["kept_train_accuracy"] for m in runs])
            published = config.published.later_variant.test_accuracy.get(run_name(cell, length))
            rows.append(
                {
                    "length": int(length.removeprefix("L")),
                    "cell": cell.upper(),
                    "test accuracy": f"{test:.3f} ± {test_std:.3f}",
                    "per seed": " / ".join(f"{m['test_accuracy']:.3f}" for m in runs),
                    "train accuracy": f"{train:.3f} ± {train_std:.3f}",
                    "kept epoch (mean)": round(float(np.mean([m["best_epoch"] for m in runs])), 1),
                    later_variant_column(config): "n/a" if published is None else f"{published:.3g}",
                    "seconds per epoch": round(float(np.mean([m["seconds_per_epoch"] for m in runs])), 3),
                }
            )
    return pd.DataFrame(rows)


def later_variant_column(config: Add2DigitsParams) -> str:
    variant = config.published.later_variant
    return f"later variant ({variant.train_examples:,} train, {variant.epochs} epochs)"


def seed_table(results: Results) -> pd.DataFrame:
    """Every extended run: the numbers behind the mean ± std."""
    config = results.config
    rows = [
        {
            "length": int(length.removeprefix("L")),
            "cell": cell,
            "seed": seed,
            **{
                k: m[k]
                for k in ("test_accuracy", "kept_val_accuracy", "kept_train_accuracy", "best_epoch", "epochs_trained", "seconds_per_epoch")
            },
        }
        for length in config.matrix.length
        for cell in config.matrix.cell
        for seed, m in zip(config.extended.active.seeds, results.extended[(cell, length)])
    ]
    return pd.DataFrame(rows)


def conclusions(results: Results) -> str:
    """The paragraph answering the homework's question, generated from the numbers: a claim that one cell
    is ahead at a length only where a cell learns the task at this data size and the seeds do not overlap."""
    config = results.config
    threshold = config.fails_below
    grid = config.extended.active
    lengths = sorted(config.matrix.length, key=length_value)
    sentences = []
    if len(config.matrix.cell) == 2:
        verdicts = [results.verdict(length) for length in lengths]
        sentences.append(f"With {grid.train_examples:,} training examples, " + "; ".join(verdicts) + ".")
    for cell in config.matrix.cell:
        failing = [length for length in lengths if np.mean(results.accuracies(length)[cell]) < threshold]
        from_length = next((length for i, length in enumerate(lengths) if all(longer in failing for longer in lengths[i:])), None)
        if not failing:
            sentences.append(f"The {cell.upper()} does not fail at any length tried (mean test accuracy at least {threshold:g}).")
        elif from_length is not None:
            sentences.append(
                f"The {cell.upper()} fails (mean test accuracy below {threshold:g}) from length {from_length.removeprefix('L')} on."
            )
        else:
            sentences.append(
                f"The {cell.upper()} fails (mean test accuracy below {threshold:g}) at length "
                f"{', '.join(name.removeprefix('L') for name in failing)} but not at every longer one."
            )
    finals = [m["final_test_accuracy"] for m in results.reference.values()]
    perfect = [m for m in results.reference.values() if m.get("first_epoch_train_accuracy_1") is not None]
    sentences.append(
        f"In the homework's protocol ({config.reference.train_examples} training examples) {len(perfect)} of "
        f"{len(finals)} runs reach training accuracy 1.0 while their final test accuracy is "
        f"{min(finals):.2f}-{max(finals):.2f}, against a majority-class baseline of {baseline_range(results.baselines)}: "
        "with so few examples of the 100 digit pairs the models memorise, so the protocol's comparison is limited "
        "by its data more than by the cell."
        if perfect
        else f"In the homework's protocol no run reaches training accuracy 1.0; final test accuracy "
        f"{min(finals):.2f}-{max(finals):.2f}, majority-class baseline {baseline_range(results.baselines)}."
    )
    return " ".join(sentences)


SECTION = Section(STUDY.name, render, ANSWERS)
