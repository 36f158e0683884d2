"""How uncertain the compute-optimal estimates are: bootstrap and leave-one-budget-out.

Bootstrap (Efron; for the Chinchilla fits as in Besiroglu et al. 2024): draw the grid's
members with replacement, then each drawn member's seeds with replacement (`Grid.resample`),
rerun every estimator on the draw, exactly as on the data (budget rule included), and take
the central `level` percentile interval of each readout over the draws. A draw on which an
estimator has no answer (approach 2: fewer than two budgets count) is left out of that
estimator's interval and counted. Drawing the members as well as the seeds makes the interval
cover how much the answer rests on which sizes the grid happens to hold, not only run noise;
`members=False` gives the run-noise part alone.

Leave-one-budget-out (approach 2): the power laws refitted without each counted budget in
turn; the range of the readouts shows how much any single budget decides.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from pipeline.studies.isoflop.scaling import ComputeOptimal, Grid, Profile, TokenCount


def readouts(fit: ComputeOptimal | None, at: dict[str, float]) -> dict[str, float]:
    """An approach-1/2 fit's N_opt and D_opt at each named compute, and its slope (NaN: no fit)."""
    if fit is None:
        return {"slope": np.nan} | {f"{k}_{name}": np.nan for name in at for k in ("n_opt", "d_opt")}
    values = {"slope": fit.slope}
    for name, compute in at.items():
        values |= {f"n_opt_{name}": fit.n_at(compute), f"d_opt_{name}": fit.d_at(compute)}
    return values


def bootstrap(grid: Grid, estimate: Callable[[Grid], dict[str, float]], resamples: int, seed: int, members: bool = True) -> pd.DataFrame:
    """`estimate` on `resamples` draws of the grid: one row per draw (NaN where it had no answer)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame([estimate(grid.resample(rng, members)) for _ in range(resamples)])


def percentile_interval(values, level: float) -> tuple[float, float]:
    """The central `level` interval of the finite values (NaN, NaN when there are none)."""
    values = np.asarray(values, float)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return float("nan"), float("nan")
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def leave_one_budget_out(profiles: list[Profile], tokens: TokenCount, at: dict[str, float]) -> pd.DataFrame:
    """Approach 2 refitted without each counted budget in turn: one row per budget left out."""
    counted = [p for p in profiles if p.counts]
    rows = []
    for left in counted:
        kept = [p for p in counted if p is not left]
        fit = ComputeOptimal.through([p.budget for p in kept], [p.n_opt for p in kept], tokens)
        rows.append({"left_out": left.budget} | readouts(fit, at))
    return pd.DataFrame(rows)
