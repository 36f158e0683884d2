"""Report section: the BERT variants (MLflow experiment `bert`).

Light on purpose (no torch/transformers). The numbers come from the MLflow runs that
produced the current `metrics/bert/*.json` and `plots/bert/*.csv` (found by
`ReportContext.run_for`); the split sizes from the `arithmetic` study's label counts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.core import figures
from pipeline.core.io import require_inputs
from pipeline.reporting import (
    FIGURES,
    TABLES,
    ReportContext,
    Section,
    artifact_table,
    metric_curve,
)
from pipeline.studies.arithmetic import PREPARE_STAGE, STATISTICS
from pipeline.studies.arithmetic.data import LABELS
from pipeline.studies.bert import STUDY, params, stage_name
from pipeline.studies.bert.figures import confusion_figure, training_figure
from pipeline.studies.bert.params import BertParams


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


def load_variant_runs(ctx: ReportContext, config: BertParams) -> list[VariantRun]:
    client = ctx.client
    runs = []
    for name in config.variants:
        run = ctx.run_for(STUDY, name, stage_name(name))
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


def render(ctx: ReportContext) -> list[str]:
    loaded = params.load()
    config, data = loaded.bert, loaded.arithmetic
    out = ctx.out
    runs = load_variant_runs(ctx, config)
    require_inputs([ctx.root / STATISTICS], PREPARE_STAGE)
    splits = json.loads((ctx.root / STATISTICS).read_text())
    summary = summary_table(config, runs, splits)
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

    recipe = config.recipe
    split_line = ", ".join(f"{v['rows']} {k}" for k, v in splits.items())
    return [
        f"## BERT on verbal arithmetic (MLflow experiment `{STUDY.experiment}`)",
        "",
        f"Sentences `a plus b` / `a minus b` (a, b in zero..nineteen) classified by the sign of the result. "
        f"Data: {split_line} (validation: stratified {data.val_fraction:.0%} of the train CSV, seed "
        f"{data.split_seed}; the test CSV is held out). Reference recipe: AdamW lr {recipe.lr:g}, "
        f"linear warm-up over {recipe.warmup_fraction:.0%} of steps, clipping {recipe.grad_clip:g}, "
        f"batch {recipe.batch_size}, {recipe.epochs} epochs, max length {recipe.max_length}; "
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


def summary_table(config: BertParams, runs: list[VariantRun], splits: dict) -> pd.DataFrame:
    def majority(split: str) -> float:
        counts = [splits[split][label] for label in LABELS]
        return round(max(counts) / sum(counts), 4)

    rows = []
    for run in runs:
        low, high = config.published_val_accuracy.get(run.name, (float("nan"), float("nan")))
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


SECTION = Section(STUDY.name, render)
