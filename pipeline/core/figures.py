"""Matplotlib figures (Agg backend: no display needed)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def loss_curve(curve: pd.DataFrame, title: str):
    """Train and validation loss per epoch of one run."""
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.plot(curve["epoch"], curve["train_loss"], label="train")
    axis.plot(curve["epoch"], curve["val_loss"], label="validation")
    best = curve.loc[curve["val_loss"].idxmin()]
    axis.scatter([best["epoch"]], [best["val_loss"]], color="black", zorder=3, label=f"best {best['val_loss']:.3f}")
    axis.set(xlabel="epoch", ylabel="cross-entropy per character", title=title)
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    return figure


def log_axes(axis, *, logx: bool = True, legend: dict | None = None, **settings) -> None:
    """A panel on log scales, the way every such figure here is drawn: log y (and log x unless
    `logx=False`), a light grid on major and minor ticks, and a legend when `legend` gives its
    options ({} for matplotlib's defaults). `settings` (labels, title, limits) go to `axis.set`."""
    axis.set(**({"xscale": "log"} if logx else {}), yscale="log", **settings)
    axis.grid(alpha=0.3, which="both")
    if legend is not None:
        axis.legend(**legend)


def save(figure, path) -> None:
    # No timestamp in the PNG metadata: same data, same bytes.
    figure.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(figure)


def close(figure) -> None:
    plt.close(figure)
