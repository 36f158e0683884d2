"""The ablation runs as the report and the answers read them: each variant with all its replicates.

A variant's figure is the mean over its replicates; its run-to-run spread is max - min over
them (`pipeline.reporting.seed_spread`). Two variants are told apart only where their means
differ by more than the larger of their spreads (`pipeline.reporting.compare`); with a single
replicate no spread is measured, and the comparisons say so.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pandas as pd

from pipeline.reporting import ReportContext, TranslatorResult, artifact_table, compare, load_results, seed_spread, told_apart
from pipeline.studies.ablations import EVALUATE_STAGE, LENGTH_RUN, STUDY, attention_run, params, positions_run, stage_name, unmasked_run
from pipeline.studies.ablations.data import bucket_table

NOTEBOOKS = "best_val_loss_batch_mean"  # the notebooks' validation loss, the mean of per-batch means
OURS = "best_val_loss"  # every batch weighted by its characters
ACCURACY = "val_word_accuracy"
TRAIN_LOSS = "final_train_loss"
SECONDS_PER_EPOCH = "seconds_per_epoch"  # derived here: train_seconds / epochs_trained


@dataclass(frozen=True)
class Variant:
    """One setting of an experiment, trained once per replicate."""

    label: str  # e.g. `sinusoidal`, `causal`, `additive`
    runs: list[TranslatorResult]

    def values(self, key: str) -> list[float]:
        """The replicates' figures (a length bucket with nothing representable has none)."""
        return [run.metrics[key] for run in self.runs if run.metrics.get(key) is not None]

    def mean(self, key: str) -> float:
        values = self.values(key)
        return sum(values) / len(values) if values else float("nan")

    def spread(self, key: str) -> float | None:
        return seed_spread(self.values(key))

    def cell(self, key: str, digits: int = 3) -> str:
        """The mean, with the replicates' range when there are several: `0.274 (0.250-0.298)`."""
        values = self.values(key)
        text = f"{self.mean(key):.{digits}f}"
        return text + (f" ({min(values):.{digits}f}-{max(values):.{digits}f})" if len(values) > 1 else "")

    def numbers(self, key: str, what: str, digits: int = 4) -> list[tuple[str, str]]:
        """(label naming the MLflow run, value) for every replicate."""
        return [(f"{what}, run `{run.name}`", f"{run.metrics[key]:.{digits}f}") for run in self.runs]


def noise(a: Variant, b: Variant, key: str) -> float | None:
    """The spread two variants are judged against: the larger of theirs (None: a single replicate)."""
    spreads = [s for s in (a.spread(key), b.spread(key)) if s is not None]
    return max(spreads, default=None)


def versus(a: Variant, b: Variant, key: str, digits: int = 3) -> str:
    """`a` against `b` as a clause, the difference of means stated only beyond the spread."""
    return compare(f"{a.label}", a.mean(key), f"{b.label}", b.mean(key), noise(a, b, key), digits)


def apart(a: Variant, b: Variant, key: str) -> bool:
    return told_apart(a.mean(key), b.mean(key), noise(a, b, key))


@dataclass(frozen=True)
class Results:
    setup: params.Setup
    positions: dict[str, Variant]  # encoding -> its runs
    causal: Variant  # the sinusoidal runs: the unmasked runs' twins
    unmasked: Variant
    attention: dict[str, Variant]  # kind -> its runs
    length_rows: pd.DataFrame  # the length test: one row per (run, source length)
    length_run: str  # the MLflow run name of the length test

    @property
    def replicates(self) -> int:
        return len(self.setup.config.replicates)

    def spread_note(self) -> str:
        if self.replicates == 1:
            return (
                "Each variant was trained once (one replicate), so no run-to-run spread was measured: differences are "
                "stated as measured and may be noise."
            )
        return (
            f"Each variant was trained {self.replicates} times (seeds `seed + r`, r in {self.setup.config.replicates}); "
            "tables give the mean and, in brackets, the range over them. A difference is stated only where the means "
            "differ by more than the larger of the two ranges; otherwise they cannot be told apart."
        )

    def length_variant(self, encoding: str) -> Variant:
        """The encoding's runs with their length-test figures as metrics, `<stat>.<bucket>` (`data.LONGER` included)."""
        config = self.setup.config
        runs = []
        for run in self.positions[encoding].runs:
            rows = self.length_rows[self.length_rows["run"] == run.name]
            table = bucket_table(rows, config.length_buckets, config.train_max_length)
            metrics = {f"{stat}.{bucket}": value for bucket, row in table.items() for stat, value in row.items()}
            runs.append(dataclasses.replace(run, metrics=metrics))
        return Variant(encoding, runs)


def load(ctx: ReportContext) -> Results:
    """The runs behind the current outputs; read once per report (the section and its answers share it)."""

    def read() -> Results:
        setup = params.load()
        config = setup.config
        replicates = config.replicates

        def variant(label: str, names: list[str]) -> Variant:
            runs = load_results(ctx, STUDY, names, stage_name, extra_curves=("val_loss_batch_mean",))
            per_epoch = [{SECONDS_PER_EPOCH: run.metrics["train_seconds"] / run.metrics["epochs_trained"]} for run in runs]
            return Variant(label, [dataclasses.replace(run, metrics=run.metrics | extra) for run, extra in zip(runs, per_epoch)])

        positions = {e: variant(e, [positions_run(e, r) for r in replicates]) for e in config.positions.encodings}
        attention = {k: variant(k, [attention_run(k, r) for r in replicates]) for k in config.attention.kinds}
        length = ctx.run_for(STUDY, LENGTH_RUN, EVALUATE_STAGE)
        rows = artifact_table(ctx.client, length.info.run_id, "tables/scores_by_length.json")
        return Results(
            setup=setup,
            positions=positions,
            causal=Variant("causal", positions["sinusoidal"].runs),
            unmasked=variant("unmasked", [unmasked_run(r) for r in replicates]),
            attention=attention,
            length_rows=rows,
            length_run=LENGTH_RUN,
        )

    return ctx.memo(f"{STUDY.name}:results", read)
