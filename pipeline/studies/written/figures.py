"""The written checks' figures, drawn by the stage (saved and logged to MLflow) and by the report."""

from __future__ import annotations

import pandas as pd

from pipeline.core import figures
from pipeline.core.figures import plt  # the Agg backend

FILES = {"jacobian": "jacobian_bound.png", "conv": "conv_error.png", "maxpool": "maxpool_error.png"}


def jacobian_figure(table: pd.DataFrame):
    """1.2.1: sigma_max(dx_n/dx_1), largest over the samples, against (1/16)^(n-1)."""
    figure, axis = plt.subplots(figsize=(7, 4.5))
    n = table["n"]
    axis.plot(n, table["bound"], color="black", ls="--", label="bound (1/16)^(n-1)")
    axis.plot(n, table["random_max"], color="C0", marker="o", label="random W, sigma_max 1/4: max")
    axis.plot(n, table["random_median"], color="C0", marker=".", ls=":", label="random W, sigma_max 1/4: median")
    axis.plot(n, table["orthogonal_quarter_max"], color="C2", marker="s", markersize=4, label="W = Q/4 (orthogonal Q): max")
    axis.plot(n, table["bound_sigma_half"], color="grey", ls="--", label="(1/8)^(n-1)")
    axis.plot(n, table["orthogonal_half_min"], color="C3", marker="^", label="W = Q/2 (sigma_max 1/2): min")
    figures.log_axes(
        axis,
        logx=False,
        legend={"fontsize": 8},
        xlabel="n",
        ylabel="sigma_max(dx_n / dx_1)",
        title="x_{t+1} = sigmoid(W x_t): Jacobian norm against the bound",
    )
    figure.tight_layout()
    return figure


def conv_figure(table: pd.DataFrame):
    """1.3.1: interior error of the finite-penalty construction against 2 m max|x| e^-C."""
    figure, axis = plt.subplots(figsize=(7, 4.5))
    shown = table[table["bound"] > 0]
    axis.plot(shown["scale"], shown["bound"], color="black", ls="--", label="bound 2 m max|x| e^-C")
    axis.plot(table["scale"], table["max_error"], color="C0", marker="o", label="max |y_i - conv1d_i| (interior; floor: float64 rounding)")
    figures.log_axes(
        axis,
        legend={"fontsize": 8},
        xlabel="penalty C (p = -C off the kernel)",
        ylabel="error",
        ylim=(max(1e-18, table["max_error"].min() / 10), 10 * max(table["bound"].max(), table["max_error"].max())),
        title="Relative attention as Conv1D: error against the penalty",
    )
    figure.tight_layout()
    return figure


def maxpool_figure(table: pd.DataFrame, k: int):
    """1.3.2: (M_i - y_i) x_i (M_i the window max), largest over samples and positions, against 2k / (e C)."""
    figure, axis = plt.subplots(figsize=(7, 4.5))
    axis.plot(table["scale"], table["scaled_bound"], color="black", ls="--", label=f"bound 2k / (e C), k = {k}")
    axis.plot(
        table["scale"], table["max_scaled_error"], color="C0", marker="o", label="(M_i - y_i) x_i, largest over samples and positions"
    )
    figures.log_axes(
        axis,
        legend={"fontsize": 8},
        xlabel="C = W_Q W_K / sqrt(d_k)",
        ylabel="error",
        title=f"Relative attention as max-pooling over {2 * k + 1} tokens (inputs in (0, 1])",
    )
    figure.tight_layout()
    return figure


def draw_figures(tables: dict[str, pd.DataFrame], k: int) -> dict:
    """name -> figure, for the names of FILES."""
    return {
        "jacobian": jacobian_figure(tables["jacobian"]),
        "conv": conv_figure(tables["conv"]),
        "maxpool": maxpool_figure(tables["maxpool"], k),
    }
