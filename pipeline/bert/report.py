"""Report section and figures for the BERT variants (MLflow experiment `bert`).

Light on purpose (no torch/transformers): the report stage imports it. The numbers
come from the MLflow runs that produced the current `metrics/bert/*.json` and
`plots/bert/*.csv` (matched by their `dvc_outputs_sha256` tag).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import figures
from pipeline.data.arithmetic import LABELS
from pipeline.errors import PipelineError
from pipeline.io import StagedOutputs
from pipeline.lineage import find_run, outputs_fingerprint
from pipeline.params import Params
from pipeline.paths import ARITHMETIC_METRICS, bert_curve_file, bert_metrics_file
from pipeline.report import FIGURES, TABLES, artifact_table, metric_curve
from pipeline.tracking import client as mlflow_client

EXPERIMENT = "bert"


@dataclass
class VariantRun:
    name: str
    model: str  # what the encoder started from, as tagged on the run
    frozen: bool
    params: dict[str, str]  # as logged, flattened: recipe.epochs, recipe.lr...
    metrics: dict[str, float]
    curve: pd.DataFrame  # epoch, iterations, train_loss, val_loss, val_accuracy
    probes: pd.DataFrame  # sentence, truth, prediction, probability, p_<label>...
    confusion_test: np.ndarray  # (C, C): rows true, columns predicted


def load_variant_runs(params: Params, root: Path) -> list[VariantRun]:
    client = mlflow_client()
    runs = []
    for name in params.bert.variants:
        files = [root / bert_metrics_file(name), root / bert_curve_file(name)]
        for file in files:
            if not file.exists():
                raise PipelineError(f"{file}: missing; run `dvc repro train_bert@{name}` first")
        run = find_run(client, EXPERIMENT, outputs_fingerprint(*files), f"train_bert@{name}")
        run_id = run.info.run_id
        confusion = artifact_table(client, run_id, "tables/confusion_test.json")
        runs.append(
            VariantRun(
                name=name,
                model=run.data.tags.get("model", "?"),
                frozen=run.data.params.get("variant.freeze_encoder") == "True",
                params=run.data.params,
                metrics=run.data.metrics,
                curve=metric_curve(client, run_id, keys=("iterations", "train_loss", "val_loss", "val_accuracy")),
                probes=artifact_table(client, run_id, "tables/probe_predictions.json"),
                confusion_test=confusion.drop(columns="true").to_numpy(),
            )
        )
    return runs


def bert_section(params: Params, root: Path, out: StagedOutputs) -> list[str]:
    runs = load_variant_runs(params, root)
    splits = json.loads((root / ARITHMETIC_METRICS).read_text())
    summary = summary_table(params, runs, splits)
    per_epoch = pd.DataFrame({run.name: run.curve.set_index("epoch")["val_accuracy"].round(4) for run in runs})
    per_epoch.index.name = "epoch"
    per_epoch = per_epoch.astype(object).where(per_epoch.notna(), "")  # variants may train different epochs
    probes = probes_table(runs)

    summary.to_csv(out.path(TABLES / "bert_summary.csv"), index=False)
    per_epoch.to_csv(out.path(TABLES / "bert_val_accuracy_per_epoch.csv"))
    probes.to_csv(out.path(TABLES / "bert_probe_predictions.csv"), index=False)
    for run in runs:
        pd.DataFrame(run.confusion_test, index=LABELS, columns=LABELS).rename_axis("true \\ predicted").to_csv(
            out.path(TABLES / f"bert_confusion_test_{run.name}.csv")
        )
    figures.save(training_figure({run.name: run.curve for run in runs}), out.path(FIGURES / "bert_training.png"))
    figures.save(confusion_figure({run.name: run.confusion_test for run in runs}), out.path(FIGURES / "bert_confusion_test.png"))

    split_line = ", ".join(f"{v['rows']} {k}" for k, v in splits.items())
    return [
        "## BERT on verbal arithmetic (MLflow experiment `bert`)",
        "",
        f"Sentences `a plus b` / `a minus b` (a, b in zero..nineteen) classified by the sign of the result. "
        f"Data: {split_line} (validation: stratified {params.bert.data.val_fraction:.0%} of the train CSV, seed "
        f"{params.bert.data.split_seed}; the test CSV is held out). Reference recipe: AdamW lr {params.bert.recipe.lr:g}, "
        f"linear warm-up over {params.bert.recipe.warmup_fraction:.0%} of steps, clipping {params.bert.recipe.grad_clip:g}, "
        f"batch {params.bert.recipe.batch_size}, {params.bert.recipe.epochs} epochs, max length {params.bert.recipe.max_length}; "
        "a variant may train with other epochs and lr (columns `epochs`, `lr`).",
        "",
        "### Accuracy and training time per variant",
        "",
        summary.to_markdown(index=False),
        "",
        "`published val accuracy`: validation accuracies seen in published runs of the same assignment, which used",
        "`tbs17/MathBERT` (fine-tuned and frozen) and `vinai/bertweet-base` (second checkpoint); our checkpoints are in",
        "`starts from`. `majority baseline`: accuracy of always answering the most frequent class of that split.",
        "",
        "### Validation accuracy per epoch",
        "",
        per_epoch.to_markdown(),
        "",
        "![training loss and validation accuracy](figures/bert_training.png)",
        "",
        "### Confusion matrices (test set)",
        "",
        "![confusion matrices](figures/bert_confusion_test.png)",
        "",
        "### Predictions on probe sentences",
        "",
        "Each cell: predicted class (its probability).",
        "",
        probes.to_markdown(index=False),
        "",
    ]


def summary_table(params: Params, runs: list[VariantRun], splits: dict) -> pd.DataFrame:
    def majority(split: str) -> float:
        counts = [splits[split][label] for label in LABELS]
        return round(max(counts) / sum(counts), 4)

    rows = []
    for run in runs:
        low, high = params.bert.published_val_accuracy.get(run.name, (float("nan"), float("nan")))
        rows.append(
            {
                "variant": run.name,
                "starts from": run.model,
                "encoder": "frozen (classifier only)" if run.frozen else "fine-tuned",
                "trainable parameters": int(run.metrics["trainable_parameters"]),
                "epochs": int(run.params["recipe.epochs"]),
                "lr": float(run.params["recipe.lr"]),
                "val accuracy": round(run.metrics["val_accuracy"], 4),
                "published val accuracy": "n/a" if low != low else f"{low:.2f}" if low == high else f"{low:.2f}-{high:.2f}",
                "test accuracy": round(run.metrics["test_accuracy"], 4),
                "train seconds": round(run.metrics["train_seconds"], 1),
            }
        )
    table = pd.DataFrame(rows)
    table["majority baseline (val / test)"] = f"{majority('val')} / {majority('test')}"
    return table


def probes_table(runs: list[VariantRun]) -> pd.DataFrame:
    table = runs[0].probes[["sentence", "truth"]].copy()
    for run in runs:
        probes = run.probes.set_index("sentence").loc[table["sentence"]]
        table[run.name] = [f"{p} ({q:.2f})" for p, q in zip(probes["prediction"], probes["probability"])]
    return table


def training_figure(curves: dict[str, pd.DataFrame]):
    """Training loss and validation accuracy per epoch, one line per variant."""
    import matplotlib.pyplot as plt

    figure, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(10, 4))
    for colour, (name, curve) in enumerate(curves.items()):
        loss_axis.plot(curve["epoch"], curve["train_loss"], marker="o", color=f"C{colour}", label=f"{name} train")
        loss_axis.plot(curve["epoch"], curve["val_loss"], marker="o", ls="--", alpha=0.6, color=f"C{colour}", label=f"{name} validation")
        accuracy_axis.plot(curve["epoch"], curve["val_accuracy"], marker="o", color=f"C{colour}", label=name)
    loss_axis.set(xlabel="epoch", ylabel="cross-entropy", title="Loss")
    accuracy_axis.set(xlabel="epoch", ylabel="accuracy", title="Validation accuracy", ylim=(0, 1.02))
    for axis in (loss_axis, accuracy_axis):
        axis.xaxis.get_major_locator().set_params(integer=True)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def confusion_figure(matrices: dict[str, np.ndarray]):
    """One confusion matrix per panel (rows: true class, columns: predicted)."""
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    figure, axes = plt.subplots(1, len(matrices), figsize=(4 * len(matrices), 3.8), squeeze=False)
    for axis, (name, matrix) in zip(axes[0], matrices.items()):
        ConfusionMatrixDisplay(np.asarray(matrix), display_labels=list(LABELS)).plot(ax=axis, colorbar=False, cmap="Blues")
        axis.set_title(name)
    figure.tight_layout()
    return figure
