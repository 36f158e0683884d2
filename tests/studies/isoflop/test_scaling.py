"""Approaches 1 and 2 and the grid's losses: known parabolas, power laws and optima are recovered."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pipeline.studies.isoflop.scaling import (
    BudgetRule,
    Grid,
    Run,
    TokenCount,
    best_models,
    envelope_fit,
    find_optimal_params,
    fit_power_law,
    fit_quadratic,
    isoflop_fit,
    isoflop_profiles,
    losses_at,
    reach,
)
from pipeline.translators.flops import training_flops_per_token
from tests.studies.isoflop import synthetic

RULE = BudgetRule(min_models=4, min_r2=0.5)


def test_quadratic_recovers_a_known_vertex():
    x = np.array([3.6, 4.2, 4.6, 4.8, 5.2, 5.4])
    y = 2.0 * (x - 4.9) ** 2 + 0.35
    fit = fit_quadratic(x, y)
    assert fit.vertex == pytest.approx(4.9)
    assert (fit.a, fit.b, fit.c) == pytest.approx((2.0, -2.0 * 2 * 4.9, 2.0 * 4.9**2 + 0.35))
    assert fit.r2 == pytest.approx(1.0)


def test_quadratic_r2_drops_with_noise():
    rng = np.random.default_rng(0)
    x = np.linspace(3.5, 5.5, 6)
    y = 2.0 * (x - 4.9) ** 2 + 0.35 + rng.normal(0, 0.5, size=x.size)
    fit = fit_quadratic(x, y)
    residual = np.sum((y - fit(x)) ** 2)
    assert fit.r2 == pytest.approx(1 - residual / np.sum((y - y.mean()) ** 2))
    assert fit.r2 < 0.999


def test_power_law_recovers_slope_and_intercept_in_base_10():
    compute = np.array([8e10, 1.6e11, 3.2e11, 6.4e11, 1.28e12])
    n_opt = 10 ** (0.5 * np.log10(compute) - 0.7)
    law = fit_power_law(compute, n_opt)
    assert (law.slope, law.intercept, law.r2) == pytest.approx((0.5, -0.7, 1.0))
    assert law(1e15) == pytest.approx(10 ** (0.5 * 15 - 0.7))


def test_losses_at_interpolate_in_log_flops_and_never_extrapolate():
    flops, losses = [1e10, 1e11, 1e12], [2.0, 1.0, 0.5]
    # Halfway in log10 between 1e10 and 1e11 -> halfway between the losses.
    values = losses_at(flops, losses, [1e9, math.sqrt(1e10 * 1e11), 1e11, 1e12, 2e12])
    assert values[1:4] == pytest.approx([1.5, 1.0, 0.5])
    assert np.isnan(values[0]) and np.isnan(values[4])
    assert "before the budget" in reach(np.array(flops), 2e12) and "first evaluation" in reach(np.array(flops), 1e9)
    assert reach(np.array(flops), 1e11) == ""


def test_token_count_inverts_the_flop_formula():
    tokens = TokenCount(seq_len=21.0, num_layers=4, vocab_size=30)
    from pipeline.translators.flops import parameter_count

    n = parameter_count(64, 4, 30)
    assert tokens(n, 1e12) == pytest.approx(1e12 / training_flops_per_token(21.0, 64, 4, 30))


def _grid(curves: dict[str, list[pd.DataFrame]], parameters: dict[str, float], budgets, dense=None) -> Grid:
    runs = {
        m: [Run(c["cumulative_flops"].to_numpy(), c["cumulative_tokens"].to_numpy(), c["val_loss"].to_numpy()) for c in frames]
        for m, frames in curves.items()
    }
    return Grid.from_runs(runs, parameters, budgets, dense if dense is not None else budgets)


SIX = {f"h{h}": float(n) for h, n in zip((16, 32, 48, 64, 96, 128), (4_862, 17_886, 39_102, 68_510, 151_902, 268_062))}
BUDGETS = np.geomspace(4e10, 1.28e12, 11)


def test_approach_2_recovers_the_known_line():
    grid = _grid(synthetic.grid_curves(SIX, seeds=1, noise=0.0), SIX, BUDGETS)
    profiles = isoflop_profiles(grid, RULE)
    assert all(p.counts for p in profiles)
    assert [p.n_opt for p in profiles] == pytest.approx(synthetic.n_opt(BUDGETS), rel=1e-6)
    fit = isoflop_fit(profiles, TokenCount(21.0, 4, 30))
    assert (fit.slope, fit.n_law.intercept) == pytest.approx((synthetic.SLOPE, synthetic.INTERCEPT), abs=1e-6)
    assert fit.n_at(1e15) == pytest.approx(10**6.2, rel=1e-5)


def test_approach_1_recovers_the_slope_up_to_the_spacing_of_sizes():
    sizes = {f"n{i}": float(n) for i, n in enumerate(np.geomspace(3e3, 3e5, 41))}  # 0.05 decades apart
    grid = _grid(synthetic.grid_curves(sizes, seeds=1, noise=0.0), sizes, BUDGETS, np.geomspace(4e10, 1.28e12, 200))
    fit = envelope_fit(grid, 4, TokenCount(21.0, 4, 30))
    assert fit.slope == pytest.approx(synthetic.SLOPE, abs=0.02)
    assert np.all(np.abs(np.log10(fit.n_opt / synthetic.n_opt(fit.compute))) <= 0.025 + 1e-9)  # half a step


def test_a_seeds_mean_is_the_members_loss():
    curves = synthetic.grid_curves(SIX, seeds=3, noise=0.05)
    grid = _grid(curves, SIX, BUDGETS)
    expected = np.mean([np.interp(np.log10(BUDGETS[3]), np.log10(c["cumulative_flops"]), c["val_loss"]) for c in curves["h64"]])
    assert grid.member_losses(grid.budget_losses)[3, 3] == pytest.approx(expected)


def test_the_budget_rule():
    n = np.array([1e4, 3e4, 1e5, 3e5, 1e6])
    members = np.array(["a", "b", "c", "d", "e"])
    x = np.log10(n)
    parabola = 0.5 * (x - 5.0) ** 2 + 1.0
    assert find_optimal_params(1e12, members, n, parabola, RULE).n_opt == pytest.approx(1e5)
    three = np.where(np.arange(5) < 3, parabola, np.nan)
    assert find_optimal_params(1e12, members, n, three, RULE).reason == "only 3 model(s) reached it, 4 needed"
    # A repeated member (a bootstrap draw) does not count twice.
    assert find_optimal_params(1e12, np.array(["a", "a", "b", "c", "c"]), n, parabola, RULE).models == 3
    assert "not convex" in find_optimal_params(1e12, members, n, -parabola, RULE).reason
    noisy = parabola + np.array([0.6, -0.6, 0.6, -0.6, 0.6])
    fit = find_optimal_params(1e12, members, n, noisy, RULE)
    assert fit.quadratic.r2 < 0.5 and fit.reason.startswith("R^2")
    outside = 0.5 * (x - 6.5) ** 2  # vertex at 10^6.5, beyond the largest size
    assert "outside the sizes" in find_optimal_params(1e12, members, n, outside, RULE).reason


def test_resampling_draws_members_then_their_seeds():
    curves = synthetic.grid_curves(SIX, seeds=2, noise=0.05)
    grid = _grid(curves, SIX, BUDGETS)
    rng = np.random.default_rng(3)
    draw = grid.resample(rng)
    assert draw.budget_losses.shape == grid.budget_losses.shape
    for i, model in enumerate(draw.members):  # every drawn run is one of its member's runs
        source = list(grid.members).index(model)
        for j in range(2):
            assert any(np.array_equal(draw.budget_losses[i, j], grid.budget_losses[source, s], equal_nan=True) for s in range(2))
    fixed = grid.resample(rng, members=False)
    assert list(fixed.members) == list(grid.members)


def test_best_models_and_inversions_against_the_seed_range():
    # h64 worse than h48 by 0.1; the seeds of h64 differ by 0.02 (< 0.1), of the others by 0.
    losses = {"h16": 3.0, "h32": 2.0, "h48": 1.0, "h64": 1.1}
    parameters = {m: SIX[m] for m in losses}
    curves = {
        m: [
            pd.DataFrame({"cumulative_flops": [1e10, 1e13], "cumulative_tokens": [1, 2], "val_loss": [v + d, v + d]})
            for d in ((0.0, 0.0) if m != "h64" else (-0.01, 0.01))
        ]
        for m, v in losses.items()
    }
    table = best_models(_grid(curves, parameters, np.array([1e11])))
    row = table.iloc[0]
    assert (row["best"], row["largest"], bool(row["larger_always_better"])) == ("h48", "h64", False)
    assert row["inversions"] == "h64 worse than h48 by 0.1 (seed range 0.02)" and row["inversions_beyond_spread"] == 1
