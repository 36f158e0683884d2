"""The Add2Digits figures: one run's curves (logged with the run) and the reference's figure
(per length, loss above accuracy, RNN and LSTM), drawn by the report.

Light on purpose (matplotlib and pandas, no torch): the report imports it.
"""

from __future__ import annotations

import pandas as pd

from pipeline.core import figures  # noqa: F401 - selects matplotlib's Agg backend before pyplot is imported

COLOURS = {"rnn": "C0", "lstm": "C3"}


def run_figure(curve: pd.DataFrame, held_out: str, title: str):
    """One run: losses above accuracies per epoch; `held_out` names the evaluation split."""
    import matplotlib.pyplot as plt

    figure, (loss_axis, accuracy_axis) = plt.subplots(2, 1, figsize=(6, 6), sharex=True)
    loss_axis.plot(curve["epoch"], curve["train_loss"], label="train")
    loss_axis.plot(curve["epoch"], curve[f"{held_out}_loss"], label=held_out)
    accuracy_axis.plot(curve["epoch"], curve["train_accuracy"], label="train")
    accuracy_axis.plot(curve["epoch"], curve[f"{held_out}_accuracy"], label=held_out)
    loss_axis.set(ylabel="cross-entropy", title=title)
    accuracy_axis.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02))
    for axis in (loss_axis, accuracy_axis):
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    return figure


def reference_figure(curves: dict[tuple[str, str], pd.DataFrame], cells: list[str], lengths: list[str], baseline: float):
    """The reference's figure: a column per length, training loss per step (one full-batch
    step per epoch) above train (solid) and test (dashed) accuracy, one colour per cell."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, len(lengths), figsize=(4.5 * len(lengths), 7), squeeze=False, sharex="col")
    for column, length in enumerate(lengths):
        loss_axis, accuracy_axis = axes[0][column], axes[1][column]
        for cell in cells:
            curve = curves[(cell, length)]
            colour = COLOURS.get(cell)
            loss_axis.plot(curve["iterations"], curve["train_loss"], color=colour, label=cell.upper())
            accuracy_axis.plot(curve["iterations"], curve["train_accuracy"], color=colour, label=f"{cell.upper()} train")
            accuracy_axis.plot(curve["iterations"], curve["test_accuracy"], color=colour, ls="--", label=f"{cell.upper()} test")
        accuracy_axis.axhline(baseline, color="grey", lw=1, ls=":", label=f"majority {baseline:.2f}")
        loss_axis.set(title=f"length {length.removeprefix('L')}", ylabel="training loss")
        accuracy_axis.set(xlabel="training step", ylabel="accuracy", ylim=(0, 1.02))
        for axis in (loss_axis, accuracy_axis):
            axis.grid(alpha=0.3)
            axis.legend(fontsize=8)
    figure.tight_layout()
    return figure
