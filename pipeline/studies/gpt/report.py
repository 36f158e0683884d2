"""Report section: the GPT-style classifier beside BERT (MLflow experiments `gpt-classifier` and `bert`).

Light on purpose (no torch/transformers). Every number comes from the MLflow runs that
produced the current `metrics/{gpt,bert}/*.json` and `plots/{gpt,bert}/*.csv` (found by
`ReportContext.run_for`); the published figures from `gpt.published` in params.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.core.params import load_section
from pipeline.reporting import TABLES, ReportContext, Section, artifact_table, metric_curve, versus
from pipeline.studies.arithmetic.data import LABELS
from pipeline.studies.bert import STUDY as BERT
from pipeline.studies.bert import stage_name as bert_stage_name
from pipeline.studies.bert.params import BertParams
from pipeline.studies.gpt import STUDY, params, stage_name
from pipeline.classification.report import write_run_outputs
from pipeline.studies.gpt.params import GptParams


@dataclass
class ClassifierRun:
    family: str  # "GPT-style (causal)" or "BERT (bi-directional)"
    name: str
    model: str  # what it started from, as tagged on the run
    frozen: bool
    params: dict[str, str]
    metrics: dict[str, float]
    curve: pd.DataFrame | None = None
    probes: pd.DataFrame | None = None
    confusion_test: np.ndarray | None = None
    split_labels: pd.DataFrame | None = None

    @property
    def label(self) -> str:
        return f"{'gpt' if self.family.startswith('GPT') else 'bert'}/{self.name}"


def load_gpt_runs(ctx: ReportContext, config: GptParams) -> list[ClassifierRun]:
    runs = []
    for name in config.variants:
        run = ctx.run_for(STUDY, name, stage_name(name))
        run_id = run.info.run_id
        runs.append(
            ClassifierRun(
                family="GPT-style (causal)",
                name=name,
                model=run.data.tags.get("model", "?"),
                frozen=run.data.params.get("variant.freeze_backbone") == "True",
                params=run.data.params,
                metrics=run.data.metrics,
                curve=metric_curve(ctx.client, run_id, keys=("iterations", "train_loss", "val_loss", "val_accuracy")),
                probes=artifact_table(ctx.client, run_id, "tables/probe_predictions.json"),
                confusion_test=artifact_table(ctx.client, run_id, "tables/confusion_test.json").drop(columns="true").to_numpy(),
                split_labels=artifact_table(ctx.client, run_id, "tables/split_labels.json"),
            )
        )
    return runs


def load_bert_runs(ctx: ReportContext) -> list[ClassifierRun]:
    """BERT's variants as its own report finds them: the runs behind its current outputs."""
    runs = []
    for name in load_section(BERT.name, BertParams).variants:
        run = ctx.run_for(BERT, name, bert_stage_name(name))
        runs.append(
            ClassifierRun(
                family="BERT (bi-directional)",
                name=name,
                model=run.data.tags.get("model", "?"),
                frozen=run.data.params.get("variant.freeze_encoder") == "True",
                params=run.data.params,
                metrics=run.data.metrics,
            )
        )
    return runs


def render(ctx: ReportContext) -> list[str]:
    loaded = params.load()
    config = loaded.gpt
    out = ctx.out
    gpt_runs = load_gpt_runs(ctx, config)
    bert_runs = load_bert_runs(ctx)
    side_by_side = comparison_table(config, gpt_runs + bert_runs)
    splits = gpt_runs[0].split_labels

    side_by_side.to_csv(out.path(TABLES / "gpt_vs_bert.csv"), index=False)
    per_epoch, probes = write_run_outputs(out, "gpt", gpt_runs)

    recipe, split = config.recipe, config.split
    split_line = ", ".join(f"{int(row['negative'] + row['zero'] + row['positive'])} {row['split']}" for _, row in splits.iterrows())
    return [
        f"## GPT-style (decoder-only) classifier vs BERT (MLflow experiments `{STUDY.experiment}`, `{BERT.experiment}`)",
        "",
        f"A causal language model ({gpt_runs[0].model}) with the Hugging Face sequence-classification head, "
        "a linear layer on the hidden state of the last non-padding token, classifies the same sentences by the "
        f"sign of their result. Data as in the reference notebook: {split_line} (validation: "
        f"{'stratified' if split.stratify else 'not stratified'} {split.val_fraction:.0%} of the train CSV, "
        f"random_state {split.seed}); BERT's validation split is another (stratified, see its section), the "
        f"160-row test CSV is the same for both. Recipe: AdamW lr {recipe.lr:g} (eps {recipe.eps:g}), linear "
        f"schedule with {recipe.warmup_fraction:.0%} warm-up, clipping {recipe.grad_clip:g}, batch {recipe.batch_size}, "
        f"{recipe.epochs} epochs, max length {recipe.max_length} tokens; a variant may train with other epochs and "
        "lr (columns `epochs`, `lr`; params.yaml `gpt` says why a value differs from the reference).",
        "",
        "### Side by side",
        "",
        side_by_side.to_markdown(index=False),
        "",
        "`published`: the notebook this task comes from (`openai-gpt` fine-tuned; `bert-base-uncased` fine-tuned and "
        "frozen); `vs published`: where our test accuracy falls against it. Trainable parameters count what the "
        "optimizer updates; train seconds are the epochs' wall time on this machine (loading not included).",
        "",
        *answer(gpt_runs, bert_runs, splits),
        "",
        "### Validation accuracy per epoch",
        "",
        per_epoch.to_markdown(),
        "",
        "![training loss and validation accuracy](figures/gpt_training.png)",
        "",
        "### Confusion matrices (test set)",
        "",
        "![confusion matrices](figures/gpt_confusion_test.png)",
        "",
        "### Predictions on probe sentences",
        "",
        probes.to_markdown(index=False),
        "",
    ]


def comparison_table(config: GptParams, runs: list[ClassifierRun]) -> pd.DataFrame:
    published = config.published
    rows = []
    for run in runs:
        gpt = run.family.startswith("GPT")
        backbone = "frozen" if run.frozen else "fine-tuned"
        if gpt:
            low, high = published.test_accuracy if not run.frozen else (None, None)
            published_val = "" if run.frozen else span(published.val_accuracy)
        else:
            # The notebook's BERT was pretrained (bert-base-uncased): no figure for a from-scratch baseline.
            value = None if "no pretraining" in run.model else published.bert_test_accuracy.get(backbone)
            low, high = (value, value) if value is not None else (None, None)
            published_val = ""
        test = run.metrics["test_accuracy"]
        rows.append(
            {
                "model": run.family,
                "run": run.label,
                "starts from": run.model,
                "backbone": backbone,
                "trainable parameters": int(run.metrics["trainable_parameters"]),
                "epochs": int(run.params["recipe.epochs"]),
                "lr": float(run.params["recipe.lr"]),
                "val accuracy": round(run.metrics["val_accuracy"], 4),
                "published val": published_val,
                "test accuracy": round(test, 4),
                "published test": "" if low is None else span((low, high)),
                "vs published": "" if low is None else versus(test, (low, high)),
                "train seconds": round(run.metrics["train_seconds"], 1),
            }
        )
    return pd.DataFrame(rows)


def span(bounds: tuple[float, float]) -> str:
    low, high = bounds
    return f"{low:.3g}" if low == high else f"{low:.3g}-{high:.3g}"


def best(runs: list[ClassifierRun], frozen: bool) -> ClassifierRun | None:
    chosen = [run for run in runs if run.frozen == frozen and "no pretraining" not in run.model]
    return max(chosen, key=lambda run: run.metrics["val_accuracy"]) if chosen else None


def describe_gap(a: ClassifierRun, b: ClassifierRun, test_rows: int) -> str:
    """`a` against `b` on the shared test set, in sentences of it."""
    gap = round((a.metrics["test_accuracy"] - b.metrics["test_accuracy"]) * test_rows)
    if gap == 0:
        return "the same test accuracy"
    return f"{abs(gap)} test sentence{'s' if abs(gap) > 1 else ''} of {test_rows} {'more' if gap > 0 else 'fewer'} right"


def answer(gpt_runs: list[ClassifierRun], bert_runs: list[ClassifierRun], splits: pd.DataFrame) -> list[str]:
    """The assignment's question, answered with the runs' numbers."""
    test = splits.set_index("split").loc["test", list(LABELS)]
    test_rows, majority = int(test.sum()), test.max() / test.sum()
    lines = [
        "### Uni-directional vs bi-directional encoder for this task",
        "",
        "A bi-directional encoder (BERT) lets every token attend to every other one, so the [CLS] summary the head reads "
        "has seen both numbers and the operator at every layer. A uni-directional (causal) model lets each token attend "
        "only to itself and the tokens before it: only the last token's state has read the whole sentence, which is why "
        "the head classifies from the last non-padding token (padding after it changes no logit: the study's tests check "
        "this), and why left-context-only features must carry the answer by the end of the sentence. The sign of "
        "`a plus b` / `a minus b` needs all three words, and the last one is the second number, so the last token of a "
        "causal model sees everything it needs: nothing in this task requires looking ahead, and a causal model is not "
        "at a disadvantage in what it can see, only in how many positions summarise the whole sentence (one instead of all).",
        "",
    ]
    tuned_gpt, tuned_bert = best(gpt_runs, frozen=False), best(bert_runs, frozen=False)
    if tuned_gpt and tuned_bert:
        g, b = tuned_gpt.metrics, tuned_bert.metrics
        lines.append(
            f"- Fine-tuned: `{tuned_gpt.label}` reaches test accuracy {g['test_accuracy']:.4f} (validation "
            f"{g['val_accuracy']:.4f}) with {int(g['trainable_parameters']):,} trainable parameters in "
            f"{g['train_seconds']:.0f} s; the best fine-tuned BERT variant `{tuned_bert.label}` "
            f"{b['test_accuracy']:.4f} (validation {b['val_accuracy']:.4f}) with {int(b['trainable_parameters']):,} in "
            f"{b['train_seconds']:.0f} s: the causal model gets {describe_gap(tuned_gpt, tuned_bert, test_rows)}, "
            f"with {g['trainable_parameters'] / b['trainable_parameters']:.1f}x the trainable parameters and "
            f"{g['train_seconds'] / max(b['train_seconds'], 1e-9):.1f}x the training time."
        )
    frozen_gpt, frozen_bert = best(gpt_runs, frozen=True), best(bert_runs, frozen=True)
    if frozen_gpt and frozen_bert:
        def against_majority(run: ClassifierRun) -> str:
            sentences = round((run.metrics["test_accuracy"] - majority) * test_rows)
            if abs(sentences) <= 1:
                return "no better than"
            return f"{abs(sentences)} sentences {'above' if sentences > 0 else 'below'}"

        lines.append(
            f"- Frozen (only the head trains): `{frozen_gpt.label}` {frozen_gpt.metrics['test_accuracy']:.4f}, "
            f"{against_majority(frozen_gpt)} always answering the majority class ({majority:.4f} on test); "
            f"`{frozen_bert.label}` {frozen_bert.metrics['test_accuracy']:.4f}, {against_majority(frozen_bert)} it. "
            "A linear head on pretrained features alone tells how much of the sign those features already carry, "
            "at the one position each model pools."
        )
    return lines


SECTION = Section(STUDY.name, render)
