"""The IsoFLOP grid and its fits as the report and the answers read them, from MLflow.

The runs are found by the hash of their current DVC outputs; the fits from the grid's parent
run, which `fit_scaling` tagged with the hash of metrics/scaling.json and
plots/scaling/budgets.csv; the decoder-only run the verdict is about, by its own outputs.
Read once per report (`load`), whoever asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pipeline.core.tracking import PARENT_RUN_TAG
from pipeline.reporting import ReportContext, artifact_table, metric_curve
from pipeline.studies import decoder_only
from pipeline.studies.decoder_only import params as decoder_only_params
from pipeline.studies.isoflop import APPROACHES, FIT_STAGE, PARENT_RUN_NAME, SCALING_METRICS, SCALING_TABLE, STUDY, params, stage_name
from pipeline.studies.isoflop.params import Setup


@dataclass
class IsoflopResults:
    setup: Setup
    runs: dict[str, list[Any]]  # model -> its MLflow runs, one per seed (isoflop.matrix.seed order)
    curves: dict[str, list[pd.DataFrame]]  # model -> per seed: epoch, cumulative FLOPs and tokens, both losses
    parent: Any  # the grid's MLflow parent run, holding the fits
    metrics: dict  # the fits (nested as metrics/scaling.json)
    table: pd.DataFrame  # one row per loss definition and budget
    points: pd.DataFrame
    best: pd.DataFrame  # per budget: the best member and the inversions
    draws: pd.DataFrame  # every bootstrap draw
    decoder: Any | None  # the decoder-only run behind the current outputs (None: not in the fit)

    @property
    def config(self):
        return self.setup.config

    @property
    def level(self) -> float:
        return self.config.scaling.bootstrap.level

    def estimate(self, loss: str, approach: str, readout: str) -> tuple[float, float, float]:
        """(value, low, high) of one readout; NaN where the fit had none."""
        values = self.metrics["estimates"][loss][approach]
        return tuple(float(values.get(k, np.nan)) for k in (readout, f"{readout}_low", f"{readout}_high"))

    def agree(self, loss: str, readout: str = "n_opt") -> bool:
        """Whether the three approaches' intervals of `readout` overlap."""
        bounds = [self.estimate(loss, approach, readout)[1:] for approach in APPROACHES]
        return max(low for low, _ in bounds) <= min(high for _, high in bounds)


def load(ctx: ReportContext) -> IsoflopResults:
    return ctx.memo("isoflop", lambda: _read(ctx))


def _read(ctx: ReportContext) -> IsoflopResults:
    setup = params.load()
    config, client = setup.config, ctx.client
    runs, curves = {}, {}
    for model in config.matrix.model:
        runs[model] = [ctx.run_for(STUDY, run, stage_name(run)) for run, (m, _) in config.matrix.runs().items() if m == model]
        curves[model] = [
            metric_curve(client, r.info.run_id, ("cumulative_flops", "cumulative_tokens", "val_loss", "val_loss_batch_mean"))
            for r in runs[model]
        ]
    parent = ctx.run_for(STUDY, PARENT_RUN_NAME, FIT_STAGE, lineage=[SCALING_METRICS, SCALING_TABLE])
    metrics = unflatten(parent.data.metrics)
    decoder = None
    if "reference_setup" in metrics:
        name = decoder_only_params.load().config.run_name
        decoder = ctx.run_for(decoder_only.STUDY, name, decoder_only.STAGE)
    run_id = parent.info.run_id
    return IsoflopResults(
        setup,
        runs,
        curves,
        parent,
        metrics,
        artifact_table(client, run_id, "tables/budget_fits.json"),
        artifact_table(client, run_id, "tables/isoflop_points.json"),
        artifact_table(client, run_id, "tables/best_models.json"),
        artifact_table(client, run_id, "tables/bootstrap_draws.json"),
        decoder,
    )


def parent_ids(results: IsoflopResults) -> set[str]:
    return {r.data.tags.get(PARENT_RUN_TAG) for runs in results.runs.values() for r in runs}


def unflatten(flat: dict[str, float]) -> dict:
    nested: dict = {}
    for key, value in flat.items():
        *parents, leaf = key.split(".")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def verdict(value: float, low: float, high: float) -> str:
    """Where an actual value lies against an interval: `smaller`, `larger` or `within the uncertainty`."""
    return "smaller" if value < low else "larger" if value > high else "within the uncertainty"


def interval(value: float, low: float, high: float) -> str:
    """`3.1e+06 [1.2e+06, 9.9e+06]`; the interval left out where there is none."""
    return f"{value:.3g} [{low:.3g}, {high:.3g}]" if np.isfinite(low) else f"{value:.3g}"


def best_sentences(r: IsoflopResults) -> list[str]:
    """Which model is best at each budget, and is a larger one always better (two sentences)."""
    best = r.best[r.best["models"] > 0]
    always = best["larger_always_better"].astype(bool)
    sizes = r.config.matrix.hidden_sizes()
    winners = ", ".join(f"{model} at {', '.join(f'{b:.3g}' for b in group['budget'])}" for model, group in best.groupby("best", sort=False))
    grows = bool(np.all(np.diff([sizes[m] for m in best["best"]]) >= 0))
    first = f"At a fixed budget the lowest loss belongs to {winners} FLOPs: the best size " + (
        "grows with the budget." if grows else "does not grow steadily with the budget."
    )
    if always.all():
        return [
            first,
            f"At every one of the {len(best)} budgets the loss falls with every step up in size among the "
            "models that reached it: a larger model is always better at equal compute here.",
        ]
    beyond = pd.to_numeric(best["inversions_beyond_spread"], errors="coerce")
    count = int(best["inversions"].fillna("").str.count("worse than").sum())
    noise = (
        "no run-to-run spread was measured (one seed), so they may be noise"
        if beyond.isna().all()
        else f"{int(beyond.sum())} of these {count} inversions exceed the seed range, so "
        + ("they are not run noise" if int(beyond.sum()) == count else "not all are run noise")
    )
    return [
        first,
        f"A larger model is not always better at equal compute: at {int((~always).sum())} of {len(best)} budgets "
        f"a larger model has a higher loss than the next smaller one; {noise}.",
    ]


@dataclass(frozen=True)
class Reference:
    """The decoder-only run (A25-2.2.3a) against approach 2's compute-optimal N and D at its compute."""

    run: str  # its MLflow run name
    compute: float
    parameters: float
    tokens: float
    epochs: int
    n_opt: tuple[float, float, float]  # value, low, high at its compute
    d_opt: tuple[float, float, float]
    extrapolation_decades: float  # log10 of its compute over the largest budget that counts

    @property
    def size(self) -> str:
        return verdict(self.parameters, *self.n_opt[1:])

    @property
    def data(self) -> str:
        return verdict(self.tokens, *self.d_opt[1:])

    def sentences(self, level: float) -> list[str]:
        """Three sentences: the numbers, the verdict against the intervals, what to change and the caveat."""
        words = {"smaller": "fewer", "larger": "more"}
        numbers = (
            f"The decoder-only run `{self.run}` spent C = {self.compute:.3g} FLOPs on N = {self.parameters:,.0f} "
            f"parameters and D = {self.tokens:.3g} tokens ({self.epochs} epochs), where approach 2 puts the "
            f"compute-optimal N_opt at {interval(*self.n_opt)} and D_opt at {interval(*self.d_opt)} tokens "
            f"({level:.0%} bootstrap intervals)."
        )
        if self.size == "within the uncertainty" and self.data == "within the uncertainty":
            judged = (
                f"Its size (N / N_opt = {self.parameters / self.n_opt[0]:.2g}) and its tokens (D / D_opt = "
                f"{self.tokens / self.d_opt[0]:.2g}) are both within the uncertainty, so the grid cannot tell "
                "whether it spends its compute suboptimally or which way it should change."
            )
        else:
            size = (
                "its size is within the uncertainty"
                if self.size == "within the uncertainty"
                else f"its model is {self.size} than compute-optimal (outside the interval)"
            )
            data = (
                "its tokens are within the uncertainty"
                if self.data == "within the uncertainty"
                else f"it trains on {words[self.data]} tokens than compute-optimal"
            )
            change = (
                "a larger model on fewer tokens" if self.size == "smaller" or self.data == "larger" else "a smaller model on more tokens"
            )
            judged = f"So {size} and {data}: for the same compute, train {change}."
        caveat = (
            f"Its C lies {self.extrapolation_decades:.1f} decades beyond the largest budget that counts, so the verdict "
            "rests on the power law holding that far."
            if self.extrapolation_decades > 0
            else "Its C lies within the budgets that count."
        )
        return [numbers, judged, caveat]


def reference(r: IsoflopResults) -> Reference | None:
    setup = r.metrics.get("reference_setup")
    if not setup or r.decoder is None:
        return None
    m = r.decoder.data.metrics
    triple = lambda key: tuple(float(setup.get(k, np.nan)) for k in (key, f"{key}_low", f"{key}_high"))  # noqa: E731
    return Reference(
        r.decoder.info.run_name,
        m["cumulative_flops"],
        m["non_embedding_parameters"],
        m["cumulative_tokens"],
        int(m["epochs_trained"]),
        triple("n_opt"),
        triple("d_opt"),
        float(setup["extrapolation_decades"]),
    )
