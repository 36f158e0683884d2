"""What the Add2Digits report and answers read, once per report: the training runs behind the current
metrics and curves, the input-gradient run, and the comparisons both state.

Light (pandas, no torch). Every number comes from the MLflow runs found by `ReportContext.run_for`;
`compare` decides what a set of seeds supports, so the section and the answer sheet say the same.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.core.io import require_inputs
from pipeline.reporting import ReportContext, artifact_table, metric_curve
from pipeline.studies.add2digits import (
    GRADIENTS_RUN,
    MEASURE_STAGE,
    PREPARE_STAGE,
    STATISTICS,
    STUDY,
    extended_run,
    length_value,
    params,
    run_name,
)
from pipeline.studies.add2digits.gradient_table import ARTIFACT, from_logged
from pipeline.studies.add2digits.params import Add2DigitsParams, PublishedRun

CURVE_KEYS = ("iterations", "train_loss", "test_loss", "train_accuracy", "test_accuracy")  # the reference runs' epochs


@dataclass
class Results:
    """What the section and its answers show, read once per report (`load`); runs keyed by (cell, length)."""

    config: Add2DigitsParams
    baselines: dict[str, float]  # majority-class test accuracy per data set (`majority_baselines`)
    reference: dict[tuple[str, str], dict[str, float]]  # the reference run's metrics
    curves: dict[tuple[str, str], pd.DataFrame]  # its per-epoch curve
    extended: dict[tuple[str, str], list[dict[str, float]]]  # one metrics dict per seed

    @property
    def reference_lengths(self) -> list[str]:
        return reference_lengths(self.config)

    def accuracies(self, length: str) -> dict[str, list[float]]:
        """Each cell's extended-grid test accuracies at `length`, one per seed."""
        return {cell: [m["test_accuracy"] for m in self.extended[(cell, length)]] for cell in self.config.matrix.cell}

    def comparison(self, length: str) -> Comparison:
        return compare(self.accuracies(length), self.config.fails_below)

    def verdict(self, length: str) -> str:
        """What the extended grid's seeds support at `length`, as a clause (`comparison_text`)."""
        train_examples, fails_below = self.config.extended.active.train_examples, self.config.fails_below
        return comparison_text(self.comparison(length), length, train_examples, fails_below)


def config_of(ctx: ReportContext) -> Add2DigitsParams:
    return ctx.memo("add2digits:params", lambda: params.load().config)


def statistics(ctx: ReportContext) -> dict:
    """The prepare stage's data statistics (class histograms, majority baselines per split)."""

    def load() -> dict:
        require_inputs([ctx.root / STATISTICS], PREPARE_STAGE)
        return json.loads((ctx.root / STATISTICS).read_text())

    return ctx.memo("add2digits:statistics", load)


def majority_baselines(stats: dict, config: Add2DigitsParams) -> dict[str, float]:
    """Test-split accuracy of always answering the training split's commonest class, per data set."""
    keys = [f"{length}/reference" for length in reference_lengths(config)]
    keys += [f"{length}/extended-s{seed}" for length in config.matrix.length for seed in config.extended.active.seeds]
    return {key: stats[key]["test"]["majority_accuracy"] for key in keys}


def reference_lengths(config: Add2DigitsParams) -> list[str]:
    """The matrix lengths that ran the homework's protocol, in matrix order."""
    return [length for length in config.matrix.length if config.runs_reference(length)]


def load(ctx: ReportContext) -> Results:
    """The runs behind the current outputs and the data's baselines; read once per report (the section and its
    answers share it)."""

    def read() -> Results:
        config = config_of(ctx)
        results = Results(config, majority_baselines(statistics(ctx), config), {}, {}, {})
        for cell in config.matrix.cell:
            for length in config.matrix.length:
                stage = STUDY.stage_name(cell, length)
                if config.runs_reference(length):
                    run = ctx.run_for(STUDY, run_name(cell, length), stage)
                    results.reference[(cell, length)] = dict(run.data.metrics)
                    results.curves[(cell, length)] = metric_curve(ctx.client, run.info.run_id, CURVE_KEYS)
                results.extended[(cell, length)] = [
                    dict(ctx.run_for(STUDY, extended_run(cell, length, seed), stage).data.metrics) for seed in config.extended.active.seeds
                ]
        return results

    return ctx.memo("add2digits:results", read)


def load_gradients(ctx: ReportContext) -> pd.DataFrame:
    """The input-gradient curves: model, cell, length, grid, replicate, weights, distance, gradient_norm(_median)."""

    def load() -> pd.DataFrame:
        run = ctx.run_for(STUDY, GRADIENTS_RUN, MEASURE_STAGE)
        return from_logged(artifact_table(ctx.client, run.info.run_id, ARTIFACT))

    return ctx.memo("add2digits:gradients", load)


def published_figures(run: PublishedRun | None, wording: dict[str, str]) -> str:
    """What the homework's reference run states for one run: each figure it gives, in the order and words of
    `wording` (a `PublishedRun` field -> its format: the report table's short form, the answer's prose), joined
    by commas; "" when it gives none."""
    if run is None:
        return ""
    return ", ".join(template.format(value) for field, template in wording.items() if (value := getattr(run, field)) is not None)


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    array = np.asarray(values, dtype=float)
    return float(array.mean()), float(array.std(ddof=1)) if len(array) > 1 else 0.0


@dataclass(frozen=True)
class Comparison:
    """What the seeds of two cells at one length support."""

    kind: str  # "ahead" (every seed of `leader` above every seed of the other), "overlap", "neither" (neither learns)
    leader: str  # the cell with the higher mean
    difference: float  # mean(leader) - mean(other)


def compare(accuracies: dict[str, list[float]], fails_below: float) -> Comparison:
    """Which cell is ahead, if the seeds say so: a claim needs the data size to let at least one cell
    learn the task (a mean test accuracy of `fails_below` or more), and the seeds not to overlap."""
    (a, first), (b, second) = sorted(accuracies.items(), key=lambda item: -np.mean(item[1]))
    difference = float(np.mean(first) - np.mean(second))
    if np.mean(first) < fails_below:
        return Comparison("neither", a, difference)
    return Comparison("ahead" if min(first) > max(second) else "overlap", a, difference)


def comparison_text(comparison: Comparison, length: str, train_examples: int, fails_below: float) -> str:
    n = length_value(length)
    if comparison.kind == "neither":
        return (
            f"at length {n} neither cell learns the task with {train_examples:,} training examples (mean test accuracy "
            f"below {fails_below:g}), so this data size cannot compare them there"
        )
    if comparison.kind == "ahead":
        return (
            f"at length {n} the {comparison.leader.upper()} is ahead: every one of its seeds scores above every seed of "
            f"the other cell (mean difference {comparison.difference:+.2f})"
        )
    return (
        f"at length {n} the two cannot be told apart: their seeds overlap (mean difference {comparison.difference:+.2f} "
        f"for the {comparison.leader.upper()})"
    )
