"""Synthetic per-epoch curves of translator runs on the compute axis, for the comparisons' tests."""

from __future__ import annotations

import pandas as pd


def curve(flops_per_epoch: float, notebooks: list[float], ours: list[float]) -> pd.DataFrame:
    """Epochs 1..n costing `flops_per_epoch` each, with both definitions' validation losses."""
    epochs = range(1, len(notebooks) + 1)
    return pd.DataFrame(
        {
            "epoch": list(epochs),
            "cumulative_flops": [e * flops_per_epoch for e in epochs],
            "val_loss_batch_mean": notebooks,
            "val_loss": ours,
        }
    )
