"""A sentence classifier's figures, drawn by a training run (logged to MLflow) and by a study's report.

Light on purpose (matplotlib, no torch/transformers): the report imports it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.core import figures  # noqa: F401 - selects matplotlib's Agg backend before pyplot is imported
from pipeline.datasets.arithmetic.data import LABELS


def training_figure(curves: dict[str, pd.DataFrame]):
    """Training loss and validation accuracy per epoch, one line per run."""
    import matplotlib.pyplot as plt

    figure, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(10, 4))
    for colour, (name, curve) in enumerate(curves.items()):
        loss_axis.plot(curve["epoch"], curve["train_loss"], marker="o", color=f"C{colour}", label=f"{name} train")
        loss_axis.plot(curve["epoch"], curve["val_loss"], marker="o", ls="--", alpha=0.6, color=f"C{colour}", label=f"{name} validation")
        accuracy_axis.plot(curve["epoch"], curve["val_accuracy"], marker="o", color=f"C{colour}", label=name)
    loss_axis.set(xlabel="epoch", ylabel="cross-entropy", title="Loss")
    accuracy_axis.set(xlabel="epoch", ylabel="accuracy", title="Validation accuracy", ylim=(0, 1.02))
    for axis in (loss_axis, accuracy_axis):
        axis.xaxis.get_major_locator().set_params(integer=True)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def confusion_figure(matrices: dict[str, np.ndarray]):
    """One confusion matrix per panel (rows: true class, columns: predicted)."""
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    figure, axes = plt.subplots(1, len(matrices), figsize=(4 * len(matrices), 3.8), squeeze=False)
    for axis, (name, matrix) in zip(axes[0], matrices.items()):
        ConfusionMatrixDisplay(np.asarray(matrix), display_labels=list(LABELS)).plot(ax=axis, colorbar=False, cmap="Blues")
        axis.set_title(name)
    figure.tight_layout()
    return figure
