"""Report section: the GPT-style classifier (MLflow experiment `gpt-classifier`) and the greedy continuations.

Light on purpose (no torch/transformers). Every number comes from the MLflow runs that
produced the current `metrics/gpt/*.json` and `plots/gpt/*.csv` (found by
`ReportContext.run_for`), every recipe value from what the run logged. GPT against BERT
is a comparison across studies: `pipeline/comparisons/classifiers.py`.
"""

from __future__ import annotations

import pandas as pd

from pipeline.classification.report import recipe_table, recipe_text, split_text, write_run_outputs
from pipeline.reporting import TABLES, ReportContext, Section
from pipeline.studies.gpt import STUDY
from pipeline.studies.gpt.answers import ANSWERS
from pipeline.studies.gpt.results import GENERATION, HEADING, continuations, load


def render(ctx: ReportContext) -> list[str]:
    runs = load(ctx)
    out = ctx.out
    per_epoch, probes = write_run_outputs(out, "gpt", runs)
    recipes = recipe_table(runs)
    recipes.to_csv(out.path(TABLES / "gpt_recipes.csv"), index=False)
    first = runs[0]
    return [
        f"## {HEADING}",
        "",
        f"A causal language model ({first.model}) with the Hugging Face sequence-classification head, a linear layer "
        "on the hidden state of the last non-padding token, classifies the same sentences by the sign of their "
        f"result. Data as in the reference notebook, {split_text(first)}, and the {first.test_rows}-row test CSV "
        f"BERT is tested on too. `{first.name}` trained with {recipe_text(first)}; every run's recipe as it logged "
        "it (params.yaml `gpt` says why a value differs from the reference's):",
        "",
        recipes.to_markdown(index=False),
        "",
        "The comparison with BERT, at the same recipe and tuned for each, is in the section "
        '"GPT-style vs BERT classifiers" after the studies.',
        "",
        "### GPT validation accuracy per epoch",
        "",
        per_epoch.to_markdown(),
        "",
        "![training loss and validation accuracy](figures/gpt_training.png)",
        "",
        "### GPT confusion matrices (test set)",
        "",
        "![confusion matrices](figures/gpt_confusion_test.png)",
        "",
        "### GPT predictions on probe sentences",
        "",
        probes.to_markdown(index=False),
        "",
        *generation_section(ctx),
    ]


def generation_section(ctx: ReportContext) -> list[str]:
    table, metrics, model = continuations(ctx)
    shown = pd.DataFrame(
        {"prompt": table["prompt"], "greedy continuation": table["continuation"].map(repr), "new tokens": table["new_tokens"]}
    )
    return [
        f"### {GENERATION}",
        "",
        f"The same pretrained model ({model}), with its own output layer instead of a classification head and no "
        f"fine-tuning, continues each prompt by appending its most likely next token, up to "
        f"{int(shown['new tokens'].max())} tokens ({int(metrics['new_tokens'])} tokens in "
        f"{metrics['generation_seconds']:.1f} s; stage `generate_gpt`):",
        "",
        shown.to_markdown(index=False),
        "",
        "A causal model is trained to predict each token from the ones before it, so text comes out one token at a "
        "time, left to right. BERT is trained to fill in masked tokens from context on both sides: it has no "
        "distribution over the next token given only the past, and cannot continue a prompt this way.",
        "",
    ]


SECTION = Section(STUDY.name, render, ANSWERS)
