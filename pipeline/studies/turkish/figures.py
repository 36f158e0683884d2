"""The study's figures: loss curves and batch times, drawn by the stages (logged to MLflow) and by the report.

Light on purpose (matplotlib and pandas, no torch): the report imports it.
"""

from __future__ import annotations

import pandas as pd

from pipeline.core import figures  # noqa: F401 - selects matplotlib's Agg backend before pyplot is imported


def loss_curves(curves: dict[str, pd.DataFrame], title: str):
    """Train (solid) and validation (dashed) loss per epoch, one colour per run; a dot at each best epoch."""
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.2))
    for colour, (name, curve) in enumerate(curves.items()):
        axis.plot(curve["epoch"], curve["train_loss"], color=f"C{colour}", label=f"{name} train (teacher forcing)")
        axis.plot(curve["epoch"], curve["val_loss"], color=f"C{colour}", ls="--", label=f"{name} validation (free running)")
        best = curve.loc[curve["val_loss"].idxmin()]
        axis.scatter([best["epoch"]], [best["val_loss"]], color=f"C{colour}", edgecolor="black", zorder=3)
    axis.set(xlabel="epoch", ylabel="cross-entropy per English token", title=title)
    axis.xaxis.get_major_locator().set_params(integer=True)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7)
    figure.tight_layout()
    return figure


def timing_curves(table: pd.DataFrame):
    """Seconds per batch against sequence length (the benchmark's table): a training step left,
    free-running decoding right; one colour per run, the median with the min-max spread as bars."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(9, 3.8), sharey=True)
    titles = {"train": "training step (forward, backward, Adam)", "decode": "free-running decoding (no gradients)"}
    for axis, (mode, title) in zip(axes, titles.items()):
        for colour, (run, rows) in enumerate(table[table["mode"] == mode].groupby("run", sort=False)):
            spread = [rows["seconds"] - rows["min_seconds"], rows["max_seconds"] - rows["seconds"]]
            axis.errorbar(
                rows["length"],
                rows["seconds"],
                yerr=spread,
                color=f"C{colour}",
                marker="o",
                capsize=3,
                label=f"{run} ({rows['cell'].iloc[0]}, batch {rows['batch_size'].iloc[0]})",
            )
        axis.set(xscale="log", yscale="log", xlabel="tokens per sentence (source and target)", title=title)
        axis.set_xticks(sorted(table["length"].unique()), labels=[str(n) for n in sorted(table["length"].unique())])
        axis.minorticks_off()
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("seconds per batch")
    axes[0].legend(fontsize=7)
    figure.tight_layout()
    return figure
