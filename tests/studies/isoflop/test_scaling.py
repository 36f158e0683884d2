"""Scaling-law fits: known parabolas and power laws are recovered; budgets read off curves."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pipeline.studies.isoflop.scaling import (
    fit_budget,
    fit_power_law,
    fit_quadratic,
    loss_at_budget,
)


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


def test_loss_at_budget_interpolates_in_log_flops_and_never_extrapolates():
    flops, losses = [1e10, 1e11, 1e12], [2.0, 1.0, 0.5]
    # Halfway in log10 between 1e10 and 1e11 -> halfway between the losses.
    assert loss_at_budget(flops, losses, math.sqrt(1e10 * 1e11)) == (pytest.approx(1.5), "")
    assert loss_at_budget(flops, losses, 1e11) == (1.0, "")
    value, why = loss_at_budget(flops, losses, 2e12)
    assert value is None and "before the budget" in why
    value, why = loss_at_budget(flops, losses, 1e9)
    assert value is None and "first evaluation" in why


def _curve(total_flops: float, loss_at: callable, epochs: int = 10) -> pd.DataFrame:
    flops = np.linspace(total_flops / epochs, total_flops, epochs)
    return pd.DataFrame({"cumulative_flops": flops, "val_loss": [loss_at(f) for f in flops]})


def test_budget_fit_finds_the_optimum_of_synthetic_curves():
    """Curves whose loss at every compute is a parabola in log10 N around 10^4.7."""
    parameters = {"h16": 4_862, "h32": 17_886, "h48": 39_102, "h64": 68_510, "h96": 151_902, "h128": 268_062}

    def loss(n: int) -> callable:
        return lambda flops: 0.3 * (math.log10(n) - 4.7) ** 2 + 1.0 / math.log10(flops)

    reach = {"h16": 3e11, "h32": 1e12, "h48": 2e12, "h64": 2e12, "h96": 2e12, "h128": 2e12}
    curves = {m: _curve(reach[m], loss(parameters[m])) for m in parameters}
    fit = fit_budget(curves, parameters, budget=1.28e12, min_models=3)
    assert set(fit.skipped) == {"h16", "h32"}  # their curves end before the budget
    assert math.log10(fit.n_opt) == pytest.approx(4.7, abs=1e-6)
    assert fit.quadratic.r2 == pytest.approx(1.0)

    too_few = fit_budget({m: curves[m] for m in ("h16", "h32", "h48")}, parameters, 1.28e12, min_models=3)
    assert too_few.quadratic is None and "only 1 model(s)" in too_few.reason
