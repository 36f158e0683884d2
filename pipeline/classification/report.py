"""What the BERT and GPT report sections, and the comparison above them, write about classifier runs.

Light on purpose (no torch). Every number is read from the MLflow runs behind the current
outputs (`load_runs`, shared through `ctx.memo` by every section and answer that shows
them); every recipe value printed is the one the run logged (`recipe.*`, `split.*`), never
the one params.yaml holds now.

A run whose predictions collapsed to one class (`collapsed: 1`, logged by
`evaluation.finish_run`) is called the majority baseline wherever it appears, and is left
out of the comparisons that need a model that learned something.

Tables and figures are named `<prefix>_val_accuracy_per_epoch.csv`,
`<prefix>_probe_predictions.csv`, `<prefix>_confusion_test_<run>.csv`, `<prefix>_training.png`
and `<prefix>_confusion_test.png`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.classification.figures import confusion_figure, training_figure
from pipeline.core import figures
from pipeline.core.io import StagedOutputs
from pipeline.core.paths import Study
from pipeline.datasets.arithmetic.data import LABELS
from pipeline.reporting import FIGURES, TABLES, ReportContext, artifact_table, metric_curve

# What a recipe is, as the runs log it (`recipe.<key>`, `split.<key>`), in the order the tables show it.
RECIPE_KEYS = ("lr", "epochs", "batch_size", "warmup_fraction", "weight_decay", "grad_clip", "eps")
SPLIT_KEYS = ("source", "val_fraction", "seed", "stratify")
PHASES = ("forward", "backward", "optimizer")  # timing.PHASES, without importing torch
# A model "clearly" beats the others on a sentence when it alone is right and gives the true class
# at least this much more probability than any other model does.
CLEAR_MARGIN = 0.2


@dataclass
class ClassifierRun:
    study: str  # "bert" or "gpt"
    name: str
    model: str  # what it started from, as tagged on the run
    frozen: bool
    pretrained: bool
    params: dict[str, str]  # as logged, flattened: recipe.lr, split.seed...
    metrics: dict[str, float]
    curve: pd.DataFrame  # epoch, iterations, train_loss, val_loss, val_accuracy
    probes: pd.DataFrame  # sentence, truth, prediction, probability, p_<label>...
    confusion_test: np.ndarray  # (C, C): rows true, columns predicted
    test_predictions: pd.DataFrame  # index, input, label, prediction, correct[, p_<label>...]

    @property
    def label(self) -> str:
        return f"{self.study}/{self.name}"

    @property
    def collapsed(self) -> bool:
        return bool(self.metrics["collapsed"])

    @property
    def only_class(self) -> str:
        """The one class a collapsed run answers (the column holding all its test predictions)."""
        return LABELS[int(self.confusion_test.sum(axis=0).argmax())]

    @property
    def steps(self) -> int:
        return int(self.curve["iterations"].iloc[-1])

    @property
    def test_rows(self) -> int:
        return int(self.confusion_test.sum())

    def recipe(self) -> dict[str, str]:
        return {key: self.params.get(f"recipe.{key}", "") for key in RECIPE_KEYS}

    def split(self) -> dict[str, str]:
        return {key: self.params.get(f"split.{key}", "") for key in SPLIT_KEYS}


def load_runs(
    ctx: ReportContext, study: Study, names: Sequence[str], frozen_param: str, pretrained_param: str | None = None
) -> list[ClassifierRun]:
    """The runs behind the current outputs of `names`; read once per report, whoever asks.
    `frozen_param` / `pretrained_param`: the logged params that say so (absent: pretrained)."""

    def load() -> list[ClassifierRun]:
        runs = []
        for name in names:
            run = ctx.run_for(study, name, study.stage_name(name))
            run_id, logged = run.info.run_id, run.data.params
            confusion = artifact_table(ctx.client, run_id, "tables/confusion_test.json")
            runs.append(
                ClassifierRun(
                    study=study.name,
                    name=name,
                    model=run.data.tags.get("model", "?"),
                    frozen=logged.get(frozen_param) == "True",
                    pretrained=pretrained_param is None or logged.get(pretrained_param) == "True",
                    params=logged,
                    metrics=run.data.metrics,
                    curve=metric_curve(ctx.client, run_id, keys=("iterations", "train_loss", "val_loss", "val_accuracy")),
                    probes=artifact_table(ctx.client, run_id, "tables/probe_predictions.json"),
                    confusion_test=confusion.drop(columns="true").to_numpy(),
                    test_predictions=artifact_table(ctx.client, run_id, "tables/test_predictions.json"),
                )
            )
        return runs

    return ctx.memo(f"classifier-runs:{study.name}:{','.join(names)}", load)


# ------------------------------------------------------------------------------- recipes


def recipe_text(run: ClassifierRun) -> str:
    """The run's recipe in words, from its logged params."""
    r = run.recipe()
    warmup = float(r["warmup_fraction"])
    schedule = f"linear warm-up over {warmup:.0%} of the steps, then linear decay" if warmup else "linear decay from the first step"
    return (
        f"AdamW lr {float(r['lr']):g} (eps {float(r['eps']):g}, weight decay {float(r['weight_decay']):g}), {schedule}, "
        f"clipping {float(r['grad_clip']):g}, batch {r['batch_size']}, {r['epochs']} epochs ({run.steps} steps)"
    )


def split_text(run: ClassifierRun) -> str:
    s = run.split()
    rows = f"{int(run.metrics['train_rows'])}/{int(run.metrics['val_rows'])}" if "train_rows" in run.metrics else ""
    how = f"{'stratified' if s['stratify'] == 'True' else 'not stratified'} {float(s['val_fraction']):.0%}, seed {s['seed']}"
    return f"{s['source']}: {how}" + (f" ({rows} train/val)" if rows else "")


def recipe_table(runs: Sequence[ClassifierRun]) -> pd.DataFrame:
    """One row per run: every recipe value as the run logged it, and its train/validation split."""
    return pd.DataFrame(
        [
            {"run": run.label, **{key: run.recipe()[key] for key in RECIPE_KEYS}, "steps": run.steps, "split": split_text(run)}
            for run in runs
        ]
    )


def recipe_differences(a: ClassifierRun, b: ClassifierRun) -> list[str]:
    """The logged recipe and split values in which two runs differ ("lr 5e-05 vs 0.0001"); [] for the same recipe."""
    differences = []
    for key in RECIPE_KEYS:
        x, y = a.recipe()[key], b.recipe()[key]
        same = x == y or (_number(x) is not None and _number(x) == _number(y))
        if not same:
            differences.append(f"{key} {x or '(not logged)'} vs {y or '(not logged)'}")
    for key in SPLIT_KEYS:
        x, y = a.split()[key], b.split()[key]
        if not (x == y or (_number(x) is not None and _number(x) == _number(y))):
            differences.append(f"split {key} {x or '(not logged)'} vs {y or '(not logged)'}")
    return differences


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


# ---------------------------------------------------------------- collapse and accuracy


def accuracy_note(run: ClassifierRun) -> str:
    """Empty, or what a collapsed run is: the majority baseline."""
    if not run.collapsed:
        return ""
    return f"collapsed: always {run.only_class!r}, i.e. the majority baseline"


def against_majority(run: ClassifierRun, split: str = "test") -> str:
    """Where the run stands against always answering the training majority class, in sentences of `split`."""
    rows = run.test_rows if split == "test" else int(run.metrics["val_rows"])
    gap = round((run.metrics[f"{split}_accuracy"] - run.metrics[f"majority_{split}_accuracy"]) * rows)
    if run.collapsed:
        return "the majority baseline itself (it collapsed to one class)"
    if gap == 0:
        return "level with always answering the majority class"
    return f"{abs(gap)} {split} sentence{'s' if abs(gap) > 1 else ''} {'above' if gap > 0 else 'below'} always answering the majority class"


# ------------------------------------------------------------------------ step timings


def timing_table(runs: Sequence[ClassifierRun]) -> pd.DataFrame:
    """Seconds per training batch by phase, the whole step, and the epochs' wall time."""
    rows = []
    for run in runs:
        phases = {phase: run.metrics[f"{phase}_seconds_per_batch"] for phase in PHASES}
        rows.append(
            {
                "run": run.label,
                "encoder": "frozen" if run.frozen else "fine-tuned",
                "trainable parameters": int(run.metrics["trainable_parameters"]),
                **{f"{phase} s/batch": round(seconds, 4) for phase, seconds in phases.items()},
                "step s/batch": round(sum(phases.values()), 4),
                "train seconds": round(run.metrics["train_seconds"], 1),
                "seconds per epoch": round(run.metrics["train_seconds"] / int(run.metrics["epochs_trained"]), 2),
            }
        )
    return pd.DataFrame(rows)


def step_seconds(run: ClassifierRun) -> float:
    return sum(run.metrics[f"{phase}_seconds_per_batch"] for phase in PHASES)


# ------------------------------------------------------------------ inspecting sentences


def verdicts(runs: Sequence[ClassifierRun], source: str) -> pd.DataFrame:
    """One row per sentence of `source` ("probes" or "test"): the truth, each run's prediction and
    the probability it gives the true class, and which run (if any) clearly beats the others.

    `clear_winner`: the one run that is right where all others are wrong, with a true-class
    probability at least CLEAR_MARGIN above every other run's; `all_wrong`: no run is right.
    """
    frames = [_sentences(run, source) for run in runs]
    table = frames[0][["sentence", "truth"]].copy()
    for run, frame in zip(runs, frames):
        frame = frame.set_index("sentence").loc[table["sentence"]]
        table[run.label] = frame["prediction"].to_numpy()
        table[f"p_true {run.label}"] = frame["p_true"].to_numpy()
    right = np.stack([table[run.label].to_numpy() == table["truth"].to_numpy() for run in runs], axis=1)  # (N, R)
    p_true = np.stack([table[f"p_true {run.label}"].to_numpy(dtype=float) for run in runs], axis=1)  # (N, R)
    winners = []
    for row_right, row_p in zip(right, p_true):
        alone = np.flatnonzero(row_right)
        if len(alone) == 1 and len(runs) > 1:
            others = np.delete(row_p, alone[0])
            winners.append(runs[alone[0]].label if row_p[alone[0]] - others.max() >= CLEAR_MARGIN else "")
        else:
            winners.append("")
    table["clear_winner"] = winners
    table["all_wrong"] = ~right.any(axis=1)
    return table


def _sentences(run: ClassifierRun, source: str) -> pd.DataFrame:
    """sentence, truth, prediction (label names) and the probability of the truth, for one run."""
    if source == "probes":
        frame = run.probes
        truth, prediction = frame["truth"], frame["prediction"]
    else:
        frame = run.test_predictions.rename(columns={"input": "sentence"})
        truth = frame["label"].map(lambda i: LABELS[int(i)])
        prediction = frame["prediction"].map(lambda i: LABELS[int(i)])
    columns = [f"p_{label}" for label in LABELS]
    if all(column in frame for column in columns):
        probabilities = frame[columns].to_numpy(dtype=float)  # (N, C)
        p_true = probabilities[np.arange(len(frame)), truth.map(LABELS.index).to_numpy()]
    else:  # a run logged before test probabilities were: correctness only
        p_true = np.full(len(frame), np.nan)
    return pd.DataFrame({"sentence": frame["sentence"], "truth": truth, "prediction": prediction, "p_true": p_true})


def inspection_lines(table: pd.DataFrame, runs: Sequence[ClassifierRun], what: str, shown: int = 8) -> list[str]:
    """Markdown naming the sentences of `table` (from `verdicts`) where one run clearly wins and where all fail."""

    def listing(rows: pd.DataFrame) -> str:
        names = [f"`{s}` ({t})" for s, t in zip(rows["sentence"], rows["truth"])]
        more = f" and {len(names) - shown} more" if len(names) > shown else ""
        return ", ".join(names[:shown]) + more

    lines = []
    for run in runs:
        won = table[table["clear_winner"] == run.label]
        if len(won):
            lines.append(
                f"- `{run.label}` alone is right, by at least {CLEAR_MARGIN:g} in the true class's probability, "
                f"on {len(won)} of the {len(table)} {what}: {listing(won)}."
            )
    if not lines:
        lines.append(
            f"- No model alone is right by a clear margin ({CLEAR_MARGIN:g} in the true class's probability) "
            f"on any of the {len(table)} {what}."
        )
    failed = table[table["all_wrong"]]
    lines.append(f"- Every model is wrong on {len(failed)} of the {len(table)} {what}" + (f": {listing(failed)}." if len(failed) else "."))
    return lines


# ------------------------------------------------------------------- tables and figures


def val_accuracy_per_epoch(runs: Sequence[ClassifierRun]) -> pd.DataFrame:
    """Validation accuracy per epoch, a column per run; blank where a run trained fewer epochs."""
    table = pd.DataFrame({run.name: run.curve.set_index("epoch")["val_accuracy"].round(4) for run in runs})
    table.index.name = "epoch"
    return table.astype(object).where(table.notna(), "")


def probes_table(runs: Sequence[ClassifierRun]) -> pd.DataFrame:
    """The probe sentences with each run's prediction and its probability."""
    table = runs[0].probes[["sentence", "truth"]].copy()
    for run in runs:
        probes = run.probes.set_index("sentence").loc[table["sentence"]]
        table[run.name] = [f"{p} ({q:.2f})" for p, q in zip(probes["prediction"], probes["probability"])]
    return table


def write_run_outputs(out: StagedOutputs, prefix: str, runs: Sequence[ClassifierRun]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write the per-epoch, probe and confusion tables and the two figures; return (per-epoch, probes)."""
    per_epoch, probes = val_accuracy_per_epoch(runs), probes_table(runs)
    per_epoch.to_csv(out.path(TABLES / f"{prefix}_val_accuracy_per_epoch.csv"))
    probes.to_csv(out.path(TABLES / f"{prefix}_probe_predictions.csv"), index=False)
    for run in runs:
        pd.DataFrame(run.confusion_test, index=LABELS, columns=LABELS).rename_axis("true \\ predicted").to_csv(
            out.path(TABLES / f"{prefix}_confusion_test_{run.name}.csv")
        )
    figures.save(training_figure({run.name: run.curve for run in runs}), out.path(FIGURES / f"{prefix}_training.png"))
    figures.save(confusion_figure({run.name: run.confusion_test for run in runs}), out.path(FIGURES / f"{prefix}_confusion_test.png"))
    return per_epoch, probes
