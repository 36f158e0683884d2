"""The uncertainty of approach 2: bootstrap intervals contain a known optimum; leave-one-budget-out."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.studies.isoflop.bootstrap import bootstrap, leave_one_budget_out, percentile_interval, readouts
from pipeline.studies.isoflop.scaling import BudgetRule, ComputeOptimal, Grid, Run, TokenCount, isoflop_fit, isoflop_profiles
from tests.studies.isoflop import synthetic

TOKENS = TokenCount(21.0, 4, 30)
RULE = BudgetRule(min_models=4, min_r2=0.5)
SIZES = {f"h{h}": float(n) for h, n in zip((16, 32, 48, 64, 96, 128), (4_862, 17_886, 39_102, 68_510, 151_902, 268_062))}
BUDGETS = np.geomspace(4e10, 1.28e12, 11)
AT = {"target": 1e15}


def _grid(noise: float, seed: int) -> Grid:
    curves = synthetic.grid_curves(SIZES, seeds=2, noise=noise, seed=seed)
    runs = {
        m: [Run(c["cumulative_flops"].to_numpy(), c["cumulative_tokens"].to_numpy(), c["val_loss"].to_numpy()) for c in frames]
        for m, frames in curves.items()
    }
    return Grid.from_runs(runs, SIZES, BUDGETS, BUDGETS)


def _approach_2(grid: Grid) -> dict[str, float]:
    return readouts(isoflop_fit(isoflop_profiles(grid, RULE), TOKENS), AT)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_interval_contains_the_known_optimum(seed):
    grid = _grid(noise=0.02, seed=seed)
    draws = bootstrap(grid, _approach_2, resamples=200, seed=seed)
    truth = 10 ** (synthetic.SLOPE * 15 + synthetic.INTERCEPT)
    low, high = percentile_interval(draws["n_opt_target"], 0.95)
    assert low <= truth <= high
    low, high = percentile_interval(draws["slope"], 0.95)
    assert low <= synthetic.SLOPE <= high
    seeds_only = bootstrap(grid, _approach_2, resamples=200, seed=seed, members=False)
    assert np.ptp(np.log10(seeds_only["n_opt_target"].dropna())) > 0  # the seeds do move it


def test_same_seed_same_draws_and_no_noise_no_width():
    grid = _grid(noise=0.02, seed=0)
    first, again = (bootstrap(grid, _approach_2, resamples=30, seed=5) for _ in range(2))
    assert first.equals(again)
    exact = bootstrap(_grid(noise=0.0, seed=0), _approach_2, resamples=30, seed=5, members=False)
    assert exact["n_opt_target"].to_numpy() == pytest.approx(10**6.2, rel=1e-5)  # the seeds are identical


def test_percentile_interval_is_numpys_and_skips_draws_without_an_answer():
    values = np.r_[np.arange(100.0), [np.nan] * 7]
    assert percentile_interval(values, 0.9) == pytest.approx(tuple(np.percentile(np.arange(100.0), [5, 95])))
    assert np.isnan(percentile_interval([np.nan], 0.9)).all()


def test_leave_one_budget_out_refits_without_each_budget():
    grid = _grid(noise=0.02, seed=0)
    profiles = isoflop_profiles(grid, RULE)
    counted = [p for p in profiles if p.counts]
    table = leave_one_budget_out(profiles, TOKENS, AT)
    assert list(table["left_out"]) == [p.budget for p in counted]
    kept = counted[1:]
    by_hand = np.polyfit(np.log10([p.budget for p in kept]), np.log10([p.n_opt for p in kept]), 1)
    assert table["slope"].iloc[0] == pytest.approx(by_hand[0])
    assert table["n_opt_target"].iloc[0] == pytest.approx(10 ** (by_hand[0] * 15 + by_hand[1]))


def test_readouts_without_a_fit_are_nan():
    assert all(np.isnan(v) for v in readouts(None, {"target": 1e15, "reference": 1e13}).values())
    fit = ComputeOptimal.through([1e11, 1e12], [1e4, 10**4.5], TOKENS)
    assert readouts(fit, AT)["slope"] == pytest.approx(0.5)
