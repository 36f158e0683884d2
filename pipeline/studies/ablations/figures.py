"""The study's figures, drawn from frames (no torch): by the stages for MLflow and by the report."""

from __future__ import annotations

import pandas as pd


def loss_by_length_figure(rows: pd.DataFrame, max_length: int):
    """Teacher-forced loss per character against source length, one colour per encoding, one line per run."""
    import matplotlib.pyplot as plt

    figure, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(11, 4))
    for colour, (encoding, runs) in enumerate(rows.groupby("encoding", sort=False)):
        for i, (_, run) in enumerate(runs.groupby("run", sort=False)):
            label = encoding if i == 0 else None
            loss_axis.plot(run["source_length"], run["loss"], color=f"C{colour}", marker=".", label=label)
            accuracy_axis.plot(run["source_length"], run["word_accuracy"], color=f"C{colour}", marker=".", label=label)
    for axis in (loss_axis, accuracy_axis):
        axis.axvline(max_length + 0.5, color="grey", ls=":", label="longest trained word")
        axis.set_xlabel("source word length (characters)")
        axis.grid(alpha=0.3)
    loss_axis.set(ylabel="teacher-forced cross-entropy per character", title="Loss by word length")
    accuracy_axis.set(ylabel="exact-match word accuracy (greedy)", title="Word accuracy by word length")
    loss_axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def loss_curves_figure(curves: dict[str, list[pd.DataFrame]], title: str, train: bool):
    """Validation loss per epoch (solid; training loss dashed when `train`), one colour per variant,
    one line per replicate: each curve has columns epoch, val_loss (and train_loss)."""
    import matplotlib.pyplot as plt

    from pipeline.core import figures

    figure, axis = plt.subplots(figsize=(6.5, 4))
    for colour, (label, replicates) in enumerate(curves.items()):
        for i, curve in enumerate(replicates):
            axis.plot(curve["epoch"], curve["val_loss"], color=f"C{colour}", label=f"{label} validation" if i == 0 else None)
            if train:
                axis.plot(
                    curve["epoch"], curve["train_loss"], color=f"C{colour}", ls="--", alpha=0.7, label=f"{label} train" if i == 0 else None
                )
    figures.log_axes(axis, logx=False, legend={"fontsize": 8}, xlabel="epoch", ylabel="cross-entropy per character", title=title)
    figure.tight_layout()
    return figure
