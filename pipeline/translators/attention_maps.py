"""Attention maps: which source characters each output character attended to.

A translator whose architecture has an `attention_map` returns, for a few words, one
row per (word, output step, source position): the characters and the weight. The
training run logs that table and the figure below to MLflow; the report redraws the
figure from the logged table.
"""

from __future__ import annotations

import math

import pandas as pd

from pipeline.core import figures  # noqa: F401 - selects the display-free backend

COLUMNS = ["word", "step", "output", "position", "source", "weight"]


def attention_figure(table: pd.DataFrame, title: str):
    """One heatmap per word: output characters (rows) over source characters (columns)."""
    import matplotlib.pyplot as plt

    words = list(dict.fromkeys(table["word"]))
    columns = min(3, len(words))
    rows = math.ceil(len(words) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.6 * rows), squeeze=False)
    for axis, word in zip(axes.flat, words):
        cells = table[table["word"] == word]
        grid = cells.pivot(index="step", columns="position", values="weight").sort_index().sort_index(axis=1)
        outputs = cells.drop_duplicates("step").sort_values("step")["output"]
        sources = cells.drop_duplicates("position").sort_values("position")["source"]
        axis.imshow(grid.to_numpy(), cmap="viridis", vmin=0, vmax=1, aspect="auto")
        axis.set_xticks(range(len(sources)), list(sources), fontsize=8)
        axis.set_yticks(range(len(outputs)), list(outputs), fontsize=8)
        axis.set(xlabel="source", ylabel="output", title=word)
    for axis in list(axes.flat)[len(words) :]:
        axis.axis("off")
    figure.suptitle(title)
    figure.tight_layout()
    return figure
