"""Scaling-law fits on the IsoFLOP grid.

For each compute budget C:
  1. read off each model's validation loss at cumulative training FLOPs = C from its
     curve (`loss_at_budget`): linear interpolation in log10(FLOPs) between the two
     epoch-end evaluations that bracket C. Never extrapolated: a model whose curve
     ends before C, or whose first evaluation comes after C, is left out for that
     budget, with the reason recorded;
  2. fit loss = a x^2 + b x + c with x = log10(N) over the models that reached C
     (`fit_quadratic`); the vertex gives N_opt = 10^(-b / 2a).
Then log10(N_opt) = m log10(C) + k over the budgets (`fit_power_law`), and the same for
the compute-optimal tokens D_opt = C / (training FLOPs per token of an N_opt model).
All logarithms are base 10.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Quadratic:
    a: float
    b: float
    c: float
    r2: float

    @property
    def vertex(self) -> float:
        """The x of the minimum (meaningful only when a > 0)."""
        return -self.b / (2 * self.a)

    def __call__(self, x):
        return self.a * np.square(x) + self.b * np.asarray(x) + self.c


@dataclass(frozen=True)
class PowerLaw:
    """log10(y) = slope log10(x) + intercept."""

    slope: float
    intercept: float
    r2: float

    def __call__(self, x):
        return 10 ** (self.slope * np.log10(x) + self.intercept)


def r_squared(y: np.ndarray, predicted: np.ndarray) -> float:
    residual = float(np.sum((y - predicted) ** 2))
    total = float(np.sum((y - np.mean(y)) ** 2))
    return 1.0 - residual / total if total > 0 else float("nan")


def fit_quadratic(x, y) -> Quadratic:
    x, y = np.asarray(x, float), np.asarray(y, float)
    a, b, c = np.polyfit(x, y, deg=2)
    return Quadratic(float(a), float(b), float(c), r_squared(y, a * x**2 + b * x + c))


def fit_power_law(x, y) -> PowerLaw:
    log_x, log_y = np.log10(np.asarray(x, float)), np.log10(np.asarray(y, float))
    slope, intercept = np.polyfit(log_x, log_y, deg=1)
    return PowerLaw(float(slope), float(intercept), r_squared(log_y, slope * log_x + intercept))


def loss_at_budget(flops, losses, budget: float) -> tuple[float | None, str]:
    """The loss at cumulative FLOPs = `budget` and how it was read ('' when read)."""
    flops, losses = np.asarray(flops, float), np.asarray(losses, float)
    if len(flops) == 0 or flops[-1] < budget:
        last = flops[-1] if len(flops) else 0.0
        return None, f"training ended at {last:.3g} FLOPs, before the budget"
    if flops[0] > budget:
        return None, f"first evaluation at {flops[0]:.3g} FLOPs, after the budget"
    i = int(np.searchsorted(flops, budget))  # flops[i-1] < budget <= flops[i]
    if flops[i] == budget or i == 0:
        return float(losses[i]), ""
    x0, x1 = math.log10(flops[i - 1]), math.log10(flops[i])
    weight = (math.log10(budget) - x0) / (x1 - x0)
    return float(losses[i - 1] + weight * (losses[i] - losses[i - 1])), ""


@dataclass(frozen=True)
class BudgetFit:
    budget: float
    points: pd.DataFrame  # model, parameters, loss: the models that reached the budget
    skipped: dict[str, str]  # model -> reason it is left out
    quadratic: Quadratic | None  # None when fewer than `min_models` reached the budget
    reason: str  # why there is no fit ('' when there is one)

    @property
    def n_opt(self) -> float | None:
        return 10 ** self.quadratic.vertex if self.quadratic is not None else None


def fit_budget(curves: dict[str, pd.DataFrame], parameters: dict[str, int], budget: float, min_models: int) -> BudgetFit:
    """One IsoFLOP profile: loss at `budget` per model, and its parabola in log10(N)."""
    rows, skipped = [], {}
    for model, curve in curves.items():
        loss, why = loss_at_budget(curve["cumulative_flops"], curve["val_loss"], budget)
        if loss is None:
            skipped[model] = why
        else:
            rows.append({"model": model, "parameters": parameters[model], "loss": loss})
    points = pd.DataFrame(rows, columns=["model", "parameters", "loss"])
    if len(points) < min_models:
        return BudgetFit(budget, points, skipped, None, f"only {len(points)} model(s) reached it, {min_models} needed")
    quadratic = fit_quadratic(np.log10(points["parameters"]), points["loss"])
    if quadratic.a <= 0:
        return BudgetFit(budget, points, skipped, None, "the loss profile is not convex (no minimum)")
    return BudgetFit(budget, points, skipped, quadratic, "")
