"""Synthetic IsoFLOP grids whose compute-optimal size is known exactly.

At compute C every model's loss is a parabola in log10 N around log10 N_opt(C) =
SLOPE log10 C + INTERCEPT, so approach 2 must recover the line exactly and approach 1 up to
the spacing of the sizes. Seeds multiply each evaluation by exp(noise x a standard normal).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.studies.isoflop import params
from tests.params_helpers import PARAMS

SLOPE, INTERCEPT = 0.5, -1.3  # log10 N_opt = 0.5 log10 C - 1.3: N_opt(1e15) = 10^6.2
CURVATURE = 0.3  # d^2 loss / d (log10 N)^2 / 2


def n_opt(compute) -> np.ndarray:
    return 10 ** (SLOPE * np.log10(compute) + INTERCEPT)


def loss(parameters: float, compute) -> np.ndarray:
    compute = np.asarray(compute, float)
    return 2.5 - 0.15 * np.log10(compute) + CURVATURE * (np.log10(parameters) - np.log10(n_opt(compute))) ** 2


def curve(
    parameters: float, first: float, last: float, evaluations: int = 40, noise: float = 0.0, rng: np.random.Generator | None = None
) -> pd.DataFrame:
    """One run: `evaluations` log-spaced evaluations from `first` to `last` FLOPs; both loss columns alike."""
    flops = np.geomspace(first, last, evaluations)
    values = loss(parameters, flops)
    if noise:
        values = values * np.exp(noise * rng.standard_normal(len(flops)))
    tokens = flops / (6 * parameters)
    return pd.DataFrame({"cumulative_flops": flops, "cumulative_tokens": tokens, "val_loss": values, "val_loss_batch_mean": values * 1.1})


def grid_curves(
    parameters: dict[str, float],
    seeds: int = 2,
    noise: float = 0.01,
    first: float = 1e10,
    last: float = 2e12,
    reach: dict[str, tuple[float, float]] | None = None,
    seed: int = 0,
) -> dict[str, list[pd.DataFrame]]:
    """[model] -> one curve per seed; `reach` overrides a model's (first, last) FLOPs."""
    rng = np.random.default_rng(seed)
    reach = reach or {}
    return {
        model: [curve(n, *reach.get(model, (first, last)), noise=noise, rng=rng) for _ in range(seeds)] for model, n in parameters.items()
    }


def config(**scaling):
    """The real isoflop params, the fits' settings changed (e.g. bootstrap={"resamples": 20})."""
    grid = params.load(PARAMS).config
    updates = {}
    for key, value in scaling.items():
        current = getattr(grid.scaling, key)
        updates[key] = current.model_copy(update=value) if isinstance(value, dict) else value
    return grid.model_copy(update={"scaling": grid.scaling.model_copy(update=updates)})
