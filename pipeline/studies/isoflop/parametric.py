"""Approach 3 of Hoffmann et al. (2022): a parametric loss fitted to every evaluation of every run,

    L(N, D) = E + A / N^alpha + B / D^beta,

as the paper fits it (its section D.2): with a = log A, b = log B, e = log E (natural logs),
minimise the sum over points of Huber_delta(LSE(a - alpha log N, b - beta log D, e) - log L)
with L-BFGS, from a grid of initialisations, keeping the best. The paper starts L-BFGS from
every point of its grid (alpha, beta in {0, 0.5, ..., 2}, e in {-1, -0.5, ..., 1},
a, b in {0, 5, ..., 25}: 4,500 points); here the objective is evaluated on the whole grid and
L-BFGS starts from its `starts` best points (a full run from each of the 4,500 takes minutes).

The compute-optimal size at compute C minimises L(N, D(N, C)) over N, where D(N, C) is the
tokens C buys an N-parameter model of the grid's shape (`scaling.TokenCount`): the
assignment's FLOP formula rather than the paper's C = 6ND, so the three approaches read the
same C. Under C = 6ND the optimum is N_opt proportional to C^(beta / (alpha + beta)).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from scipy.special import huber

from pipeline.studies.isoflop.scaling import TokenCount

# Hoffmann et al. (2022), section D.2: the initialisation grid of (a, b, e, alpha, beta).
INITIALISATIONS = np.array(
    list(
        itertools.product(np.arange(0, 30, 5), np.arange(0, 30, 5), np.arange(-1, 1.5, 0.5), np.arange(0, 2.5, 0.5), np.arange(0, 2.5, 0.5))
    ),
    float,
)  # (4500, 5)
LBFGS_OPTIONS = {"maxiter": 10_000, "maxfun": 20_000, "ftol": 1e-15, "gtol": 1e-12}  # run to convergence


@dataclass(frozen=True)
class LossLaw:
    """L(N, D) = E + A / N^alpha + B / D^beta, and the Huber objective it reached."""

    E: float
    A: float
    B: float
    alpha: float
    beta: float
    objective: float = float("nan")

    @classmethod
    def from_theta(cls, theta, objective: float = float("nan")) -> LossLaw:
        a, b, e, alpha, beta = (float(v) for v in theta)
        return cls(float(np.exp(e)), float(np.exp(a)), float(np.exp(b)), alpha, beta, objective)

    @property
    def theta(self) -> np.ndarray:
        return np.array([np.log(self.A), np.log(self.B), np.log(max(self.E, 1e-300)), self.alpha, self.beta])

    def __call__(self, n, d):
        # In logs: a draw's fit can reach alpha ~ 30, where N^alpha overflows.
        return self.E + np.exp(np.log(self.A) - self.alpha * np.log(n)) + np.exp(np.log(self.B) - self.beta * np.log(d))

    def n_opt(self, compute: float, tokens: TokenCount) -> float:
        """argmin over N of L(N, D(N, C)), searched over 10^1 .. 10^13 parameters."""
        found = minimize_scalar(lambda x: self(10**x, tokens(10**x, compute)), bounds=(1, 13), method="bounded", options={"xatol": 1e-6})
        return float(10**found.x)

    def slope(self, compute: float, tokens: TokenCount) -> float:
        """d log N_opt / d log C at `compute` (over a decade around it)."""
        low, high = self.n_opt(compute / 10**0.5, tokens), self.n_opt(compute * 10**0.5, tokens)
        return float(np.log10(high / low))


def log_sum_exp(terms: np.ndarray) -> np.ndarray:
    """log(sum(exp(terms), axis=0)), stably: scipy's `logsumexp` without its array-API
    overhead, which took most of a bootstrap refit's time."""
    top = terms.max(axis=0)
    return top + np.log(np.exp(terms - top).sum(axis=0))


def huber_objective(theta: np.ndarray, log_n: np.ndarray, log_d: np.ndarray, log_loss: np.ndarray, delta: float):
    """The paper's objective and its gradient in theta = (a, b, e, alpha, beta)."""
    a, b, e, alpha, beta = theta
    terms = np.stack([a - alpha * log_n, b - beta * log_d, np.full_like(log_n, e)])  # (3, P)
    predicted = log_sum_exp(terms)  # (P,) log of E + A/N^alpha + B/D^beta
    residual = predicted - log_loss
    share = np.exp(terms - predicted)  # (3, P) d predicted / d (a, b, e)
    slope = np.clip(residual, -delta, delta)  # d Huber / d residual
    gradient = np.array([slope @ share[0], slope @ share[1], slope @ share[2], -(slope * share[0]) @ log_n, -(slope * share[1]) @ log_d])
    return float(huber(delta, residual).sum()), gradient


def grid_objectives(log_n, log_d, log_loss, delta: float, chunk: int = 250) -> np.ndarray:
    """The objective at every initialisation (vectorised; chunks bound the memory)."""
    values = []
    for start in range(0, len(INITIALISATIONS), chunk):
        a, b, e, alpha, beta = INITIALISATIONS[start : start + chunk].T[..., None]  # each (chunk, 1)
        terms = np.stack(np.broadcast_arrays(a - alpha * log_n, b - beta * log_d, e))  # (3, chunk, P)
        values.append(huber(delta, log_sum_exp(terms) - log_loss).sum(axis=1))
    return np.concatenate(values)


def fit_loss_law(parameters, tokens, losses, delta: float, starts: int | np.ndarray = 20) -> LossLaw:
    """The fitted L(N, D): L-BFGS from the `starts` best grid points (or from the given
    initialisations, e.g. an earlier fit's theta for a bootstrap refit), the lowest objective kept."""
    log_n, log_d, log_loss = np.log(parameters), np.log(tokens), np.log(losses)
    if isinstance(starts, int):
        starts = INITIALISATIONS[np.argsort(grid_objectives(log_n, log_d, log_loss, delta))[:starts]]
    best = None
    for theta in np.atleast_2d(starts):
        found = minimize(huber_objective, theta, args=(log_n, log_d, log_loss, delta), jac=True, method="L-BFGS-B", options=LBFGS_OPTIONS)
        if best is None or found.fun < best.fun:
            best = found
    return LossLaw.from_theta(best.x, best.fun)
