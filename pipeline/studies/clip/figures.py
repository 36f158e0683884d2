"""Figures that both the training run (logged to MLflow) and the report draw."""

from __future__ import annotations

import pandas as pd

from pipeline.core.figures import plt  # the Agg backend
from pipeline.studies.clip import RETRIEVAL_BLOCK
from pipeline.studies.clip.diagnostic import METRIC_PREFIX


def twin_columns(curve: pd.DataFrame) -> list[str]:
    """The per-attribute diagnostic columns of a curve (twin_accuracy_<attribute>, not the min)."""
    return [c for c in curve.columns if c.startswith(METRIC_PREFIX) and c != f"{METRIC_PREFIX}min"]


def training_figure(curve: pd.DataFrame, goal: float):
    """Contrastive loss, validation retrieval accuracy and the attribute diagnostic per epoch."""
    figure, (loss_axis, top1_axis, twin_axis) = plt.subplots(1, 3, figsize=(15, 4))
    loss_axis.plot(curve["epoch"], curve["train_loss"], label="train")
    loss_axis.plot(curve["epoch"], curve["val_loss"], label="validation (full captions)")
    loss_axis.set(xlabel="epoch", ylabel="contrastive loss (InfoNCE, both directions)", title="loss")
    top1_axis.plot(curve["epoch"], curve["val_retrieval_top1"], marker="o", label="image -> its caption, top-1")
    top1_axis.axhline(1 / RETRIEVAL_BLOCK, color="grey", ls="--", label=f"chance (1/{RETRIEVAL_BLOCK})")
    top1_axis.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1), title=f"validation retrieval among {RETRIEVAL_BLOCK}")
    for column in twin_columns(curve):
        twin_axis.plot(curve["epoch"], curve[column], marker="o", label=column.removeprefix(METRIC_PREFIX))
    twin_axis.axhline(goal, color="green", ls=":", label=f"goal ({goal:g})")
    twin_axis.axhline(0.5, color="grey", ls="--", label="blind to the attribute (0.5)")
    twin_axis.set(xlabel="epoch", ylabel="caption prefers its own image over the twin", ylim=(0.4, 1.02), title="attribute diagnostic")
    for axis in (loss_axis, top1_axis, twin_axis):
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.tight_layout()
    return figure
