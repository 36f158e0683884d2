"""The IsoFLOP figures, drawn by `fit_scaling` (logged to the parent run) and by the report."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.studies.isoflop.params import IsoflopParams


def draw_figures(curves: dict[str, pd.DataFrame], table: pd.DataFrame, points: pd.DataFrame, metrics: dict, config: IsoflopParams) -> dict:
    return {
        "loss_vs_flops": loss_vs_flops_figure(curves, config.scaling.budgets),
        "isoflop_profiles": isoflop_profiles_figure(table, points),
        "compute_optimal": compute_optimal_figure(table, metrics, config),
    }


def loss_vs_flops_figure(curves: dict[str, pd.DataFrame], budgets: list[float]):
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.5))
    for i, (model, curve) in enumerate(curves.items()):
        axis.plot(curve["cumulative_flops"], curve["val_loss"], color=f"C{i}", label=model, marker=".", markersize=3)
    for budget in budgets:
        axis.axvline(budget, color="grey", ls=":", lw=1)
    axis.set(xscale="log", yscale="log", xlabel="cumulative training FLOPs", ylabel="validation loss",
             title="IsoFLOP grid: validation loss vs compute (dotted: budgets)")
    axis.grid(alpha=0.3, which="both")
    axis.legend(title="model")
    figure.tight_layout()
    return figure


def isoflop_profiles_figure(table: pd.DataFrame, points: pd.DataFrame):
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.5))
    for i, row in enumerate(table.itertuples()):
        at_budget = points[points["budget"] == row.budget]
        colour = f"C{i}"
        axis.scatter(at_budget["parameters"], at_budget["loss"], color=colour, zorder=3)
        if isinstance(getattr(row, "n_opt", None), float) and not np.isnan(row.n_opt):
            x = np.linspace(np.log10(at_budget["parameters"].min()) - 0.2, np.log10(at_budget["parameters"].max()) + 0.2, 100)
            axis.plot(10**x, row.a * x**2 + row.b * x + row.c, color=colour,
                      label=f"C = {row.budget:.3g}: N_opt = {row.n_opt:.3g} (R² {row.r2:.2f})")
            axis.scatter([row.n_opt], [row.loss_at_n_opt], color=colour, marker="*", s=150, edgecolor="black", zorder=4)
        else:
            axis.plot([], [], color=colour, label=f"C = {row.budget:.3g}: skipped")
    axis.set(xscale="log", xlabel="non-embedding parameters N", ylabel="validation loss at budget",
             title="IsoFLOP profiles: quadratic fits in log10 N (stars: optima)")
    axis.grid(alpha=0.3, which="both")
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def compute_optimal_figure(table: pd.DataFrame, metrics: dict, config: IsoflopParams):
    import matplotlib.pyplot as plt

    fitted = table.dropna(subset=["n_opt"])
    target = metrics["target_compute"]
    c = np.logspace(np.log10(fitted["budget"].min()), np.log10(target), 50)
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for axis, key, slope, intercept, label in (
        (axes[0], "n_opt", metrics["slope"], metrics["intercept"], "N_opt (parameters)"),
        (axes[1], "d_opt", metrics["tokens_slope"], metrics["tokens_intercept"], "D_opt (training tokens)"),
    ):
        axis.scatter(fitted["budget"], fitted[key], color="C0", zorder=3, label="vertex per budget")
        axis.plot(c, 10 ** (slope * np.log10(c) + intercept), color="C0",
                  label=f"log10 y = {slope:.3f} log10 C {intercept:+.3f}")
        estimate = 10 ** (slope * np.log10(target) + intercept)
        axis.scatter([target], [estimate], marker="*", s=150, color="C3", zorder=4, label=f"{estimate:.3g} at C = {target:.3g}")
        axis.set(xscale="log", yscale="log", xlabel="compute C (FLOPs)", ylabel=label)
        axis.grid(alpha=0.3, which="both")
    low, high = config.published_n_opt_at_1e15
    axes[0].errorbar([1e15], [(low * high) ** 0.5], yerr=[[(low * high) ** 0.5 - low], [high - (low * high) ** 0.5]],
                     color="grey", capsize=4, label="peers at 1e15")
    reference = metrics.get("reference_setup")
    if reference:
        axes[0].scatter([reference["compute"]], [reference["parameters"]], marker="s", color="C2", zorder=4,
                        label="h128, 100 epochs (actual)")
        axes[1].scatter([reference["compute"]], [reference["tokens"]], marker="s", color="C2", zorder=4,
                        label="h128, 100 epochs (actual)")
    for axis in axes:
        axis.legend(fontsize=8)
    figure.suptitle("Compute-optimal model size and tokens")
    figure.tight_layout()
    return figure
