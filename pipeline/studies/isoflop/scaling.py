"""Scaling-law fits on the IsoFLOP grid: the grid's losses at given compute, and two of the
three estimators of the compute-optimal model size of Hoffmann et al. (2022).

The grid (`Grid`): every member (a model of N non-embedding parameters) trained once per
seed; each run's curve is its validation loss after every epoch against its cumulative
training FLOPs C and tokens D. A run's loss at compute C is read off its curve by linear
interpolation in log10(C) between the two evaluations that bracket C (`losses_at`); never
extrapolated: NaN where the curve ends before C or starts after it. A member's loss at C is
the mean over its seeds.

Approach 2, IsoFLOP profiles (the assignment's): at each budget C fit
loss = a x^2 + b x + c with x = log10 N over the members that reached C; the vertex gives
N_opt(C) = 10^(-b / 2a) (`find_optimal_params`). A budget counts only under `BudgetRule`.
Then log10 N_opt = m log10 C + k over the counted budgets (`fit_power_law`; the notebook's
`fit_linear_log`), and the same for D_opt(C) = C / (training FLOPs per token of an N_opt model).

Approach 1, lower envelope (`envelope_fit`): at each C of a dense log-spaced range, the
member of lowest loss is that C's N_opt; the same power laws through those points.

Approach 3, the parametric loss L(N, D), is `parametric.py`. All logarithms here are base 10.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.translators.flops import hidden_size_for, training_flops_per_token


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


def losses_at(flops, losses, compute) -> np.ndarray:
    """A curve's loss at each compute C: interpolated linearly in log10(C) between the
    evaluations that bracket it; NaN where the curve ends before C or starts after it."""
    log_flops, x = np.log10(np.asarray(flops, float)), np.log10(np.asarray(compute, float))
    values = np.interp(x, log_flops, np.asarray(losses, float))
    values[(x < log_flops[0]) | (x > log_flops[-1])] = np.nan
    return values


def reach(flops, budget: float) -> str:
    """Why a curve has no loss at `budget` ('' when it has one)."""
    if flops[-1] < budget:
        return f"training ended at {flops[-1]:.3g} FLOPs, before the budget"
    if flops[0] > budget:
        return f"first evaluation at {flops[0]:.3g} FLOPs, after the budget"
    return ""


@dataclass(frozen=True)
class TokenCount:
    """D(N, C): the tokens an N-parameter model of the grid's shape trains on with C FLOPs,
    by the assignment's FLOP formula at the data's token-weighted mean sequence length."""

    seq_len: float
    num_layers: int
    vocab_size: int

    def __call__(self, parameters, compute):
        hidden = hidden_size_for(np.asarray(parameters, float), self.num_layers, self.vocab_size)
        return compute / training_flops_per_token(self.seq_len, hidden, self.num_layers, self.vocab_size)


@dataclass(frozen=True)
class Run:
    """One run's curve: per evaluation, cumulative training FLOPs and tokens and the loss."""

    flops: np.ndarray
    tokens: np.ndarray
    losses: np.ndarray


@dataclass(frozen=True)
class Grid:
    """The grid's runs as the fits see them: row i is member `members[i]` (N = `parameters[i]`)
    and its seeds' runs. A bootstrap resample is a `Grid` too, its rows drawn with replacement
    (then `members` repeats names)."""

    members: np.ndarray  # (M,) model names
    parameters: np.ndarray  # (M,) N
    runs: tuple[tuple[Run, ...], ...]  # [member][seed]
    budgets: np.ndarray  # (K,) approach 2's compute budgets
    budget_losses: np.ndarray  # (M, S, K) each run's loss at each budget, NaN where not reached
    dense: np.ndarray  # (G,) approach 1's compute values
    dense_losses: np.ndarray  # (M, S, G)

    @classmethod
    def from_runs(cls, runs: dict[str, list[Run]], parameters: dict[str, float], budgets, dense) -> Grid:
        members = list(runs)
        budgets, dense = np.asarray(budgets, float), np.asarray(dense, float)

        def at(compute):  # (M, S, len(compute))
            return np.array([[losses_at(run.flops, run.losses, compute) for run in runs[m]] for m in members])

        return cls(
            np.array(members),
            np.array([parameters[m] for m in members], float),
            tuple(tuple(runs[m]) for m in members),
            budgets,
            at(budgets),
            dense,
            at(dense),
        )

    @property
    def shape(self) -> tuple[int, int]:
        return self.budget_losses.shape[:2]  # (members, seeds)

    def resample(self, rng: np.random.Generator, members: bool = True) -> Grid:
        """Rows drawn with replacement (`members=False`: every member once), then each row's
        seeds drawn with replacement from its member's runs."""
        count, seeds = self.shape
        rows = rng.integers(count, size=count) if members else np.arange(count)
        draws = rng.integers(seeds, size=(count, seeds))
        pick = (rows[:, None], draws)
        return Grid(
            self.members[rows],
            self.parameters[rows],
            tuple(tuple(self.runs[r][s] for s in d) for r, d in zip(rows, draws)),
            self.budgets,
            self.budget_losses[pick],
            self.dense,
            self.dense_losses[pick],
        )

    def member_losses(self, losses: np.ndarray) -> np.ndarray:
        """(M, S, K) -> (M, K): a member's loss is its seeds' mean (NaN unless every seed reached C)."""
        return losses.mean(axis=1)


@dataclass(frozen=True)
class BudgetRule:
    """Which budgets count: enough distinct members reached it, and a convex parabola that fits,
    with its vertex among the sizes that reached it, give or take `vertex_margin` decades
    (beyond them the optimum is an extrapolation of the parabola, which a nearly flat profile
    puts decades away)."""

    min_models: int
    min_r2: float
    vertex_margin: float = 0.0


@dataclass(frozen=True)
class Profile:
    """One budget's IsoFLOP profile."""

    budget: float
    models: int  # distinct members that reached it
    quadratic: Quadratic | None  # None: too few members for a parabola
    reason: str  # why the budget does not count ('' when it does)

    @property
    def counts(self) -> bool:
        return not self.reason

    @property
    def n_opt(self) -> float:
        return 10**self.quadratic.vertex if self.counts else float("nan")


def find_optimal_params(budget: float, members, parameters, losses, rule: BudgetRule) -> Profile:
    """The optimal parameter count at one budget: the vertex of the parabola fitted to loss
    against log10 N over the members that reached it (`losses` NaN: did not)."""
    reached = ~np.isnan(losses)
    models = len(set(np.asarray(members)[reached]))
    if models < max(rule.min_models, 3):
        return Profile(budget, models, None, f"only {models} model(s) reached it, {rule.min_models} needed")
    quadratic = fit_quadratic(np.log10(parameters[reached]), losses[reached])
    if quadratic.a <= 0:
        return Profile(budget, models, quadratic, "the loss profile is not convex (no minimum)")
    if not quadratic.r2 >= rule.min_r2:
        return Profile(budget, models, quadratic, f"R^2 {quadratic.r2:.2f} below {rule.min_r2:g}")
    sizes = np.log10(parameters[reached])
    if not sizes.min() - rule.vertex_margin <= quadratic.vertex <= sizes.max() + rule.vertex_margin:
        return Profile(
            budget,
            models,
            quadratic,
            f"the vertex N = {10**quadratic.vertex:.3g} lies outside the sizes that "
            f"reached it ({10 ** sizes.min():.3g} to {10 ** sizes.max():.3g})",
        )
    return Profile(budget, models, quadratic, "")


@dataclass(frozen=True)
class ComputeOptimal:
    """An estimator's compute-optimal model size and tokens: power laws through its points."""

    compute: np.ndarray  # the C values it rests on
    n_opt: np.ndarray  # N_opt at each of them
    d_opt: np.ndarray  # D_opt at each of them
    n_law: PowerLaw
    d_law: PowerLaw

    @classmethod
    def through(cls, compute, n_opt, tokens: TokenCount) -> ComputeOptimal | None:
        """The power laws through (C, N_opt) and (C, D_opt); None with fewer than 2 points."""
        compute, n_opt = np.asarray(compute, float), np.asarray(n_opt, float)
        if len(compute) < 2:
            return None
        d_opt = tokens(n_opt, compute)
        return cls(compute, n_opt, d_opt, fit_power_law(compute, n_opt), fit_power_law(compute, d_opt))

    @property
    def slope(self) -> float:
        return self.n_law.slope

    def n_at(self, compute) -> float:
        return float(self.n_law(compute))

    def d_at(self, compute) -> float:
        return float(self.d_law(compute))


def isoflop_profiles(grid: Grid, rule: BudgetRule) -> list[Profile]:
    """Approach 2's profiles, one per budget."""
    losses = grid.member_losses(grid.budget_losses)  # (M, K)
    return [find_optimal_params(c, grid.members, grid.parameters, losses[:, k], rule) for k, c in enumerate(grid.budgets)]


def isoflop_fit(profiles: list[Profile], tokens: TokenCount) -> ComputeOptimal | None:
    """Approach 2: the power laws through the vertices of the budgets that count."""
    counted = [p for p in profiles if p.counts]
    return ComputeOptimal.through([p.budget for p in counted], [p.n_opt for p in counted], tokens)


def envelope_optima(grid: Grid, min_models: int) -> tuple[np.ndarray, np.ndarray]:
    """Approach 1: at each dense C reached by at least `min_models` distinct members, the N of
    the member of lowest loss. Returns (C, N_opt) of those C."""
    losses = grid.member_losses(grid.dense_losses)  # (M, G)
    reached = ~np.isnan(losses)
    names = np.unique(grid.members)
    distinct = np.array([reached[grid.members == name].any(axis=0) for name in names]).sum(axis=0)  # (G,)
    enough = distinct >= min_models
    best = np.argmin(np.where(reached, losses, np.inf)[:, enough], axis=0)
    return grid.dense[enough], grid.parameters[best]


def envelope_fit(grid: Grid, min_models: int, tokens: TokenCount) -> ComputeOptimal | None:
    return ComputeOptimal.through(*envelope_optima(grid, min_models), tokens)


def best_models(grid: Grid) -> pd.DataFrame:
    """At each budget, the member of lowest loss (seed mean) and whether every step up in size
    lowered the loss, among the members that reached it.

    An inversion (a larger member worse than the next smaller one) is set against the run-to-run
    spread: the larger of the two members' seed ranges (max - min over seeds, as
    `pipeline.reporting.seed_spread`); with one seed no spread is measured (NaN).
    """
    losses = grid.member_losses(grid.budget_losses)  # (M, K)
    seeds = grid.shape[1]
    spread = np.ptp(grid.budget_losses, axis=1) if seeds > 1 else np.full_like(losses, np.nan)  # (M, K)
    order = np.argsort(grid.parameters)
    rows = []
    for k, budget in enumerate(grid.budgets):
        reached = [i for i in order if not np.isnan(losses[i, k])]
        if not reached:
            rows.append({"budget": budget, "models": 0})
            continue
        at = losses[reached, k]
        inversions = [
            (
                grid.members[reached[j]],
                grid.members[reached[j + 1]],
                float(at[j + 1] - at[j]),
                float(max(spread[reached[j], k], spread[reached[j + 1], k])),
            )
            for j in range(len(reached) - 1)
            if at[j + 1] >= at[j]
        ]
        rows.append(
            {
                "budget": budget,
                "models": len(reached),
                "best": grid.members[reached[int(np.argmin(at))]],
                "largest": grid.members[reached[-1]],
                "larger_always_better": not inversions,
                "inversions": "; ".join(f"{big} worse than {small} by {gap:.3g} (seed range {s:.3g})" for small, big, gap, s in inversions),
                # beyond the run-to-run spread, so not run noise (NaN: one seed, no spread measured)
                "inversions_beyond_spread": sum(gap > s for *_, gap, s in inversions) if seeds > 1 else np.nan,
            }
        )
    return pd.DataFrame(rows)
