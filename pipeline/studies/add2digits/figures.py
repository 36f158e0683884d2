"""The Add2Digits figures: one run's curves (logged with the run) and the reference's figure
(per length, loss above accuracy, RNN and LSTM), drawn by the report.

Light on purpose (matplotlib and pandas, no torch): the report imports it.
"""

from __future__ import annotations

import pandas as pd

from pipeline.core import figures  # also selects matplotlib's Agg backend before pyplot is imported

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


def gradient_figure(curves: pd.DataFrame):
    """HW3-1.1: the mean norm of d loss / d x_t by distance from the end, a panel per length, one colour per
    cell; trained weights solid (the homework protocol's run thick, the extended seeds thin), the
    initial weights of the seeds dashed."""
    import matplotlib.pyplot as plt

    lengths = sorted(curves["length"].unique())
    figure, axes = plt.subplots(1, len(lengths), figsize=(4.5 * len(lengths), 4), squeeze=False)
    for axis, length in zip(axes[0], lengths):
        at = curves[curves["length"] == length]
        for cell in at["cell"].unique():
            colour, name = COLOURS.get(cell), cell.upper()
            for (_model, weights, grid), curve in at[at["cell"] == cell].groupby(["model", "weights", "grid"], sort=False):
                if weights == "initial" and grid == "reference":
                    continue  # the same draw as the extended seed 0
                label = {
                    ("trained", "reference"): f"{name} trained (homework protocol)",
                    ("trained", "extended"): f"{name} trained (extended seeds)",
                    ("initial", "extended"): f"{name} initial weights",
                }[(weights, grid)]
                style = (
                    {"reference": dict(lw=2.2), "extended": dict(lw=0.9, alpha=0.7)}[grid]
                    if weights == "trained"
                    else dict(lw=0.9, ls="--", alpha=0.7)
                )
                shown = {line.get_label() for line in axis.get_lines()}
                axis.plot(curve["distance"], curve["gradient_norm"], color=colour, label=None if label in shown else label, **style)
        figures.log_axes(
            axis,
            logx=False,
            legend={"fontsize": 7},
            xlabel="distance from the last input (steps)",
            ylabel="mean ||d loss / d x_t||",
            title=f"length {length}",
        )
    figure.tight_layout()
    return figure
