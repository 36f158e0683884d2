"""Approach 3: the Huber fit of L(N, D) = E + A/N^alpha + B/D^beta recovers known parameters."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import check_grad

from pipeline.studies.isoflop.parametric import LossLaw, fit_loss_law, huber_objective

# Hoffmann et al. (2022)'s fitted law, on points at their scales.
CHINCHILLA = LossLaw(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)


def _points(law: LossLaw, noise: float = 0.0):
    rng = np.random.default_rng(0)
    n, d = np.meshgrid(np.geomspace(1e7, 1e10, 12), np.geomspace(1e9, 1e12, 12))
    n, d = n.ravel(), d.ravel()
    return n, d, law(n, d) * np.exp(noise * rng.standard_normal(n.size))


def test_recovers_known_parameters_from_exact_losses():
    fit = fit_loss_law(*_points(CHINCHILLA), delta=1e-3, starts=5)
    for name in ("E", "A", "B", "alpha", "beta"):
        assert getattr(fit, name) == pytest.approx(getattr(CHINCHILLA, name), rel=1e-3), name
    assert fit.objective == pytest.approx(0.0, abs=1e-9)


def test_recovers_the_exponents_through_noise():
    fit = fit_loss_law(*_points(CHINCHILLA, noise=0.002), delta=1e-3, starts=5)
    assert (fit.alpha, fit.beta) == pytest.approx((0.34, 0.28), abs=0.02)


def test_gradient_matches_finite_differences():
    n, d, loss = _points(CHINCHILLA, noise=0.01)
    args = (np.log(n), np.log(d), np.log(loss), 1e-3)
    theta = np.array([6.2, 5.9, 0.4, 0.33, 0.29])
    error = check_grad(lambda t: huber_objective(t, *args)[0], lambda t: huber_objective(t, *args)[1], theta)
    assert error < 1e-4 * np.linalg.norm(huber_objective(theta, *args)[1]) + 1e-9


def test_compute_optimal_size_matches_the_closed_form_under_c_6nd():
    """With D = C / 6N, N_opt = G (C/6)^(beta/(alpha+beta)), G = (alpha A / beta B)^(1/(alpha+beta))."""
    law = CHINCHILLA
    tokens = lambda n, c: c / (6 * n)  # noqa: E731
    a = law.beta / (law.alpha + law.beta)
    g = (law.alpha * law.A / (law.beta * law.B)) ** (1 / (law.alpha + law.beta))
    for compute in (1e20, 1e23):
        assert law.n_opt(compute, tokens) == pytest.approx(g * (compute / 6) ** a, rel=1e-4)
    assert law.slope(1e21, tokens) == pytest.approx(a, abs=1e-4)
