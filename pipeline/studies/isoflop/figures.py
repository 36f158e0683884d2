"""The IsoFLOP figures, drawn by `fit_scaling` (logged to the parent run) and by the report."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.studies.isoflop import LOSSES, PRIMARY_LOSS
from pipeline.studies.isoflop.params import IsoflopParams

APPROACH_STYLE = {"envelope": ("1: envelope", "C1", "v"), "isoflop": ("2: IsoFLOP", "C0", "o"), "parametric": ("3: L(N, D)", "C2", "D")}


def draw_figures(
    curves: dict[str, list[pd.DataFrame]],
    table: pd.DataFrame,
    points: pd.DataFrame,
    metrics: dict,
    draws: pd.DataFrame,
    config: IsoflopParams,
) -> dict:
    """curves: [model] -> one frame per seed; table, points, draws: `fit.ScalingResult`'s (column `loss`)."""
    return {
        "loss_vs_flops": loss_vs_flops_figure(curves, config.scaling.budgets.values()),
        "isoflop_profiles": isoflop_profiles_figure(table, points),
        "compute_optimal": compute_optimal_figure(table, metrics, draws, config),
    }


def loss_vs_flops_figure(curves: dict[str, list[pd.DataFrame]], budgets: list[float]):
    import matplotlib.pyplot as plt

    from pipeline.core import figures

    figure, axis = plt.subplots(figsize=(7, 4.5))
    for i, (model, runs) in enumerate(curves.items()):
        for j, curve in enumerate(runs):  # one line per seed, the model's colour
            axis.plot(
                curve["cumulative_flops"],
                curve["val_loss"],
                color=f"C{i}",
                label=model if j == 0 else None,
                marker=".",
                markersize=2,
                lw=1,
                alpha=1 if j == 0 else 0.6,
            )
    for budget in budgets:
        axis.axvline(budget, color="grey", ls=":", lw=1)
    seeds = max(len(runs) for runs in curves.values())
    figures.log_axes(
        axis,
        legend={"title": "model"},
        xlabel="cumulative training FLOPs",
        ylabel="validation loss",
        title=f"Validation loss vs compute ({seeds} seed(s) per model; dotted: budgets)",
    )
    figure.tight_layout()
    return figure


def isoflop_profiles_figure(table: pd.DataFrame, points: pd.DataFrame):
    """One panel per loss definition: each budget's runs (dots), member means and parabola."""
    import matplotlib.pyplot as plt

    from pipeline.core import figures

    losses = list(dict.fromkeys(table["loss"]))
    figure, axes = plt.subplots(1, len(losses), figsize=(6.5 * len(losses), 4.8), squeeze=False)
    for axis, loss in zip(axes[0], losses):
        rows, at_loss = table[table["loss"] == loss], points[points["loss"] == loss]
        colours = plt.cm.viridis(np.linspace(0, 0.9, len(rows)))
        for colour, row in zip(colours, rows.itertuples()):
            at_budget = at_loss[at_loss["budget"] == row.budget]
            means = at_budget.groupby("parameters")["value"].mean()
            axis.scatter(at_budget["parameters"], at_budget["value"], color=colour, s=8, alpha=0.5)
            if row.counts:
                axis.scatter(means.index, means.to_numpy(), color=colour, s=22, zorder=3)
                x = np.linspace(np.log10(means.index.min()) - 0.2, np.log10(means.index.max()) + 0.2, 100)
                axis.plot(
                    10**x,
                    row.a * x**2 + row.b * x + row.c,
                    color=colour,
                    label=f"C = {row.budget:.3g}: N_opt = {row.n_opt:.3g} (R² {row.r2:.2f})",
                )
                axis.scatter([row.n_opt], [row.loss_at_n_opt], color=colour, marker="*", s=150, edgecolor="black", zorder=4)
            else:
                axis.scatter(
                    means.index,
                    means.to_numpy(),
                    facecolor="none",
                    edgecolor=colour,
                    s=22,
                    zorder=3,
                    label=f"C = {row.budget:.3g}: left out",
                )
        figures.log_axes(
            axis,
            legend={"fontsize": 6.5},
            xlabel="non-embedding parameters N",
            ylabel="validation loss at budget",
            title=f"IsoFLOP profiles, {LOSSES.get(loss, loss)}",
        )
    figure.suptitle("Quadratic fits in log10 N (stars: optima; small dots: single runs; hollow: budget left out)")
    figure.tight_layout()
    return figure


def _band(draws: pd.DataFrame, slope: str, intercept: str, compute: np.ndarray, level: float):
    """The central `level` band of a power law over the bootstrap draws, at each C."""
    fitted = draws[[slope, intercept]].dropna().to_numpy()
    curves = 10 ** (fitted[:, :1] * np.log10(compute) + fitted[:, 1:])  # (draws, C)
    return np.quantile(curves, [(1 - level) / 2, (1 + level) / 2], axis=0)


def compute_optimal_figure(table: pd.DataFrame, metrics: dict, draws: pd.DataFrame, config: IsoflopParams):
    """N_opt and D_opt against C: approach 2's vertices, laws and bootstrap bands (our loss),
    the three approaches at the target in both loss definitions, and the decoder-only run."""
    import matplotlib.pyplot as plt

    from pipeline.core import figures

    level = config.scaling.bootstrap.level
    primary = PRIMARY_LOSS
    fitted = table[(table["loss"] == primary) & table["counts"].astype(bool)]
    target = metrics["target_compute"]
    reference = metrics.get("reference_setup")
    c = np.logspace(np.log10(fitted["budget"].min()), np.log10(max(target, reference["compute"] if reference else 0)), 80)
    ours = draws[draws["loss"] == primary]
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    for axis, key, slope, intercept, columns, label in (
        (axes[0], "n_opt", metrics["slope"], metrics["intercept"], ("isoflop.slope", "isoflop.intercept"), "N_opt (parameters)"),
        (
            axes[1],
            "d_opt",
            metrics["tokens_slope"],
            metrics["tokens_intercept"],
            ("isoflop.d_slope", "isoflop.d_intercept"),
            "D_opt (training tokens)",
        ),
    ):
        axis.scatter(fitted["budget"], fitted[key], color="C0", zorder=3, label="approach 2: vertex per budget")
        axis.plot(c, 10 ** (slope * np.log10(c) + intercept), color="C0", label=f"log10 y = {slope:.3f} log10 C {intercept:+.3f}")
        if ours[list(columns)].notna().all(axis=1).any():
            low, high = _band(ours, *columns, c, level)
            axis.fill_between(c, low, high, color="C0", alpha=0.15, label=f"{level:.0%} bootstrap band (models and seeds)")
        for (loss, by_approach), shift in zip(metrics["estimates"].items(), (1.0, 1.25)):
            for approach, (name, colour, marker) in APPROACH_STYLE.items():
                values = by_approach[approach]
                point, low, high = (values.get(k, np.nan) for k in (key, f"{key}_low", f"{key}_high"))
                if not np.isfinite(point):
                    continue
                hollow = loss != primary
                axis.errorbar(
                    [target * shift * (1.12 ** list(APPROACH_STYLE).index(approach))],
                    [point],
                    yerr=[[max(point - low, 0)], [max(high - point, 0)]] if np.isfinite([low, high]).all() else None,
                    color=colour,
                    marker=marker,
                    mfc="white" if hollow else colour,
                    capsize=3,
                    ls="none",
                    label=f"{name}, {'notebooks' if hollow else 'our'} loss" if axis is axes[0] else None,
                )
        figures.log_axes(axis, xlabel="compute C (FLOPs)", ylabel=label)
    low, high = config.published.n_opt_at_1e15
    axes[0].errorbar(
        [1e15 / 1.3],
        [(low * high) ** 0.5],
        yerr=[[(low * high) ** 0.5 - low], [high - (low * high) ** 0.5]],
        color="grey",
        capsize=4,
        ls="none",
        label="peers at 1e15",
    )
    if reference:
        for axis, key, actual in ((axes[0], "n_opt", "parameters"), (axes[1], "d_opt", "tokens")):
            axis.scatter([reference["compute"]], [reference[actual]], marker="s", color="C3", zorder=5, label="decoder-only run (actual)")
            low, high = reference.get(f"{key}_low", np.nan), reference.get(f"{key}_high", np.nan)
            if np.isfinite([low, high]).all():  # approach 2's interval at its compute
                axis.errorbar(
                    [reference["compute"]],
                    [reference[key]],
                    capsize=4,
                    ls="none",
                    color="C0",
                    yerr=[[max(reference[key] - low, 0)], [max(high - reference[key], 0)]],
                )
    for axis in axes:
        axis.legend(fontsize=6.5)
    figure.suptitle("Compute-optimal model size and tokens (at the target: the three approaches, both losses, intervals)")
    figure.tight_layout()
    return figure
