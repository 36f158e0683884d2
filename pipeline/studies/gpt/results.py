"""The GPT runs as the report, the answers and the GPT-vs-BERT comparison read them.

Light on purpose (no torch). Read once per report through `ctx.memo`: the classifier
variants (`load`) and the greedy continuations of the `generate_gpt` stage (`continuations`).
"""

from __future__ import annotations

import pandas as pd

from pipeline.classification.report import ClassifierRun, load_runs
from pipeline.reporting import ReportContext, artifact_table
from pipeline.studies.gpt import GENERATION_RUN, GENERATION_STAGE, STUDY, params

HEADING = f"GPT-style (decoder-only) classifier (MLflow experiment `{STUDY.experiment}`)"  # report headings the answers link to
GENERATION = "Continuing a prompt left to right: what the causal model can do and BERT cannot"


def load(ctx: ReportContext) -> list[ClassifierRun]:
    """The classifier runs behind the current outputs; read once per report (the section, its answers and the
    GPT-vs-BERT comparison share it)."""
    return ctx.memo(f"{STUDY.name}:results", lambda: load_runs(ctx, STUDY, list(params.load().config.variants), "variant.freeze_backbone"))


def continuations(ctx: ReportContext) -> tuple[pd.DataFrame, dict[str, float], str]:
    """(prompt, continuation, new_tokens) rows, the run's metrics, and the model it ran, from the generate_gpt run."""

    def read():
        paths = STUDY.paths(GENERATION_RUN)
        run = ctx.run_for(STUDY, GENERATION_RUN, GENERATION_STAGE, lineage=[paths.metrics_file, paths.timings_file])
        return (artifact_table(ctx.client, run.info.run_id, "tables/continuations.json"), run.data.metrics, run.data.tags.get("model", "?"))

    return ctx.memo("gpt-continuations", read)
