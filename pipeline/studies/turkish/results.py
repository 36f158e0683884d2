"""The study's MLflow runs as the report and the answer sheet read them, once per report.

Light on purpose (no torch): every number comes from the runs behind the current
`metrics/turkish/*.json`, `plots/turkish/*.csv` and timings (found by `ReportContext.run_for`;
the benchmark's run by its metrics and timings alone, `BENCHMARK_LINEAGE`).
`paired_scores` compares two runs' test translations with sacrebleu's paired bootstrap: the
spread the test sample alone allows (each run has one seed, so seed-to-seed spread is not in it).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pipeline.reporting import ReportContext, artifact_table, metric_curve
from pipeline.studies.turkish import STUDY
from pipeline.studies.turkish.params import BENCHMARK_LINEAGE, BENCHMARK_RUN, TurkishParams

BENCHMARK_STAGE = "benchmark_turkish"
BOOTSTRAP_SAMPLES = 1000
SIGNIFICANCE = 0.05  # a paired-bootstrap p-value at or above it: the two runs cannot be told apart


@dataclass
class TurkishRun:
    name: str
    cell: str
    changes: dict  # settings that differ from the recipe
    metrics: dict[str, float]
    curve: pd.DataFrame  # epoch, iterations, train_loss, val_loss
    samples: pd.DataFrame  # turkish, reference, translation
    run_id: str = ""


def load_runs(ctx: ReportContext, config: TurkishParams) -> list[TurkishRun]:
    """Every entry of `turkish.runs`, read from MLflow once per report."""

    def load() -> list[TurkishRun]:
        runs = []
        for name in config.runs:
            run = ctx.run_for(STUDY, name, STUDY.stage_name(name))
            run_id = run.info.run_id
            runs.append(
                TurkishRun(
                    name=name,
                    cell=config.recipe_for(name).cell,
                    changes=config.changes(name),
                    metrics=run.data.metrics,
                    curve=metric_curve(ctx.client, run_id),
                    samples=artifact_table(ctx.client, run_id, "tables/sample_translations.json"),
                    run_id=run_id,
                )
            )
        return runs

    return ctx.memo(f"{STUDY.name}:runs:{','.join(config.runs)}", load)


def architecture_runs(runs: list[TurkishRun]) -> list[TurkishRun]:
    """The recipe once per architecture: runs that change nothing but the cell, and the transformer
    (which brings its own width, dropout, learning rate and teacher forcing); the rest are ablations."""
    return [run for run in runs if not set(run.changes) - {"cell"} or run.cell == "transformer"]


def load_benchmark(ctx: ReportContext) -> pd.DataFrame:
    """The benchmark's table: one row per (run, mode, length) with the median and min/max seconds per batch."""

    def load() -> pd.DataFrame:
        run = ctx.run_for(STUDY, BENCHMARK_RUN, BENCHMARK_STAGE, lineage=BENCHMARK_LINEAGE)
        return artifact_table(ctx.client, run.info.run_id, "tables/benchmark.json")

    return ctx.memo(f"{STUDY.name}:benchmark", load)


def translations_of(ctx: ReportContext, run: TurkishRun) -> pd.DataFrame:
    """Every test sentence with its reference and the run's translation."""
    return ctx.memo(f"{STUDY.name}:test:{run.run_id}", lambda: artifact_table(ctx.client, run.run_id, "tables/test_translations.json"))


@dataclass(frozen=True)
class Paired:
    """Run `other` against `base` on the same test sentences: scores and the paired-bootstrap p-value."""

    base: str
    other: str
    metric: str  # BLEU | chrF
    base_score: float
    other_score: float
    p_value: float

    @property
    def delta(self) -> float:
        return self.other_score - self.base_score

    @property
    def distinct(self) -> bool:
        return self.p_value < SIGNIFICANCE


def paired(base: str, base_hypotheses: list[str], other: str, other_hypotheses: list[str], references: list[str]) -> dict[str, Paired]:
    """BLEU and chrF of `other` against `base` on the same references, with sacrebleu's paired bootstrap
    (`BOOTSTRAP_SAMPLES` resamples of the sentences, sacrebleu's fixed seed): {"BLEU": ..., "chrF": ...}."""
    from sacrebleu.metrics import BLEU, CHRF
    from sacrebleu.significance import PairedTest

    test = PairedTest(
        [(base, base_hypotheses), (other, other_hypotheses)],
        {"BLEU": BLEU(), "chrF": CHRF()},
        [references],
        test_type="bs",
        n_samples=BOOTSTRAP_SAMPLES,
    )
    _, results = test()
    # sacrebleu counts an exactly zero difference as significant (p = 1 / (n + 1)); identical outputs get p = 1 here.
    identical = base_hypotheses == other_hypotheses
    return {
        metric: Paired(
            base,
            other,
            metric,
            float(results[key][0].score),
            float(results[key][1].score),
            1.0 if identical else float(results[key][1].p_value),
        )
        for metric, key in (("BLEU", "BLEU"), ("chrF", "chrF2"))
    }


def paired_scores(ctx: ReportContext, base: TurkishRun, other: TurkishRun) -> dict[str, Paired]:
    """Run `other` against run `base` on their test translations."""

    def compute() -> dict[str, Paired]:
        ours, theirs = translations_of(ctx, base), translations_of(ctx, other)
        if ours["reference"].tolist() != theirs["reference"].tolist():
            raise ValueError(f"runs {base.name} and {other.name} were tested on different sentences")
        return paired(base.name, ours["translation"].tolist(), other.name, theirs["translation"].tolist(), ours["reference"].tolist())

    return ctx.memo(f"{STUDY.name}:paired:{base.run_id}:{other.run_id}", compute)


def paired_against_copy(ctx: ReportContext, run: TurkishRun) -> dict[str, Paired]:
    """Run `run` against copying the Turkish source as the translation (the baseline the scores table shows)."""

    def compute() -> dict[str, Paired]:
        table = translations_of(ctx, run)
        return paired("copy source", table["turkish"].tolist(), run.name, table["translation"].tolist(), table["reference"].tolist())

    return ctx.memo(f"{STUDY.name}:paired-copy:{run.run_id}", compute)


CLEAR = 0.02  # nats: a smaller change of the best validation loss is not credited to a setting (one seed per run)


def effects_table(config: TurkishParams, cells: list[TurkishRun], ablations: list[TurkishRun]) -> pd.DataFrame:
    """Each ablation against the recipe run of its cell, and the LSTM against the RNN: differences other - base."""
    by_cell = {run.cell: run for run in cells}
    compared = []
    if "rnn" in by_cell and "lstm" in by_cell:
        compared.append((by_cell["rnn"], by_cell["lstm"], "cell: rnn -> lstm"))
    for ablation in ablations:
        base = by_cell.get(ablation.cell)
        if base is not None:
            was = config.recipe_for(base.name).model_dump() | {"train_pairs": int(base.metrics["train_pairs"])}
            change = ", ".join(f"{k}: {was[k]} -> {v}" for k, v in ablation.changes.items() if k != "cell")
            compared.append((base, ablation, change))
    rows = []
    for base, other, change in compared:
        b, o = base.metrics, other.metrics
        rows.append(
            {
                "change": change,
                "base": base.name,
                "run": other.name,
                "Δ train loss at best": round(o["train_loss_at_best"] - b["train_loss_at_best"], 3),
                "Δ final train loss": round(o["final_train_loss"] - b["final_train_loss"], 3),
                "Δ best val loss": round(o["best_val_loss"] - b["best_val_loss"], 3),
                "Δ val chrF at kept": round(o["val_chrf_at_best"] - b["val_chrf_at_best"], 2),
                "Δ kept epoch": int(o["best_epoch"] - b["best_epoch"]),
                "Δ BLEU": round(o["bleu"] - b["bleu"], 2),
                "Δ train BLEU": round(o["train_bleu"] - b["train_bleu"], 2),
            }
        )
    return pd.DataFrame(rows)
