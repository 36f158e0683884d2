"""The study's figures: loss curves, drawn by a training run (logged to MLflow) and by the report.

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
