"""Figures that both the training run (logged to MLflow) and the report draw."""

from __future__ import annotations

import pandas as pd

from pipeline.core.figures import plt  # the Agg backend
from pipeline.studies.clip import RETRIEVAL_BLOCK


def training_figure(curve: pd.DataFrame):
    """Contrastive loss and validation retrieval accuracy per epoch, side by side."""
    figure, (loss_axis, top1_axis) = plt.subplots(1, 2, figsize=(10, 4))
    loss_axis.plot(curve["epoch"], curve["train_loss"], label="train")
    loss_axis.plot(curve["epoch"], curve["val_loss"], label="validation (full captions)")
    loss_axis.set(xlabel="epoch", ylabel="contrastive loss (InfoNCE, both directions)", title="loss")
    top1_axis.plot(curve["epoch"], curve["val_retrieval_top1"], marker="o", label="image -> its caption, top-1")
    top1_axis.axhline(1 / RETRIEVAL_BLOCK, color="grey", ls="--", label=f"chance (1/{RETRIEVAL_BLOCK})")
    top1_axis.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1), title=f"validation retrieval among {RETRIEVAL_BLOCK}")
    for axis in (loss_axis, top1_axis):
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    return figure
