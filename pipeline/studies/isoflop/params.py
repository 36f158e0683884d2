"""The `isoflop` section of params.yaml: the grid, its shared training, the budget stop, the fits."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from pipeline.core.params import PARAMS_FILE, Float, PositiveFloat, Range, Schema, Seed, StudySetup, load_study
from pipeline.datasets.piglatin.params import PigLatinParams
from pipeline.datasets.piglatin.params import load as load_piglatin
from pipeline.studies.isoflop import STUDY, run_name
from pipeline.translators.params import TranslatorRun, TranslatorSchedule


class IsoflopMatrix(Schema):
    """The axes of the `isoflop` matrix stage in dvc.yaml: model names `h<hidden size>`, and
    seeds (offsets to the top-level `seed`): every model trains once per seed."""

    model: list[str] = Field(min_length=3)
    seed: list[Seed] = Field(min_length=1)

    @field_validator("model")
    @classmethod
    def _hidden_sizes(cls, names: list[str]) -> list[str]:
        for name in names:
            match = re.fullmatch(r"h(\d+)", name)
            if not match or int(match.group(1)) == 0:
                raise ValueError(f"model names must look like h<hidden size>, e.g. h64, got {name!r}")
            if int(match.group(1)) % 2:
                # Sinusoidal positional encoding interleaves sin/cos pairs.
                raise ValueError(f"hidden size must be even, got {name!r}")
        if len(set(names)) != len(names):
            raise ValueError(f"model names must be unique, got {names}")
        return names

    @field_validator("seed")
    @classmethod
    def _unique_seeds(cls, seeds: list[int]) -> list[int]:
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds must be unique, got {seeds}")
        return seeds

    def hidden_sizes(self) -> dict[str, int]:
        return {name: int(name[1:]) for name in self.model}

    def runs(self) -> dict[str, tuple[str, int]]:
        """Every run of the grid, by its name: `h64-s0` -> ("h64", 0)."""
        return {run_name(model, seed): (model, seed) for model in self.model for seed in self.seed}


class IsoflopTraining(TranslatorSchedule):
    """Shared by every grid member; only the hidden size differs."""

    def run(self, hidden_size: int) -> TranslatorRun:
        return TranslatorRun(hidden_size=hidden_size, **self.model_dump())


class BudgetRange(Schema):
    """`count` compute budgets, log-spaced from `low` to `high` FLOPs (both included)."""

    low: PositiveFloat
    high: PositiveFloat
    count: int = Field(ge=2)

    @model_validator(mode="after")
    def _low_below_high(self) -> BudgetRange:
        if self.high <= self.low:
            raise ValueError(f"high: must be above low ({self.low:g}), got {self.high:g}")
        return self

    def values(self) -> list[float]:
        ratio = (self.high / self.low) ** (1 / (self.count - 1))
        return [float(f"{self.low * ratio**i:.12g}") for i in range(self.count)]  # 8e10, not 8.000000000000002e10


class BootstrapParams(Schema):
    resamples: int = Field(ge=10)  # draws of the grid (members, then each member's seeds, with replacement)
    level: Float = Field(gt=0, lt=1)  # the central percentile interval reported
    seed: Seed  # of the draws


class ParametricParams(Schema):
    """Approach 3: L(N, D) = E + A/N^alpha + B/D^beta fitted to every evaluation of every run."""

    huber_delta: PositiveFloat  # Huber loss on log-loss residuals
    starts: int = Field(ge=1, le=4500)  # L-BFGS runs, from the best points of the paper's initialisation grid


class ScalingParams(Schema):
    budgets: BudgetRange  # approach 2's compute budgets C, FLOPs
    # Which budgets count (approach 2, and in every bootstrap draw): reached by this many
    # distinct models (approach 1 needs as many at each C) ...
    min_models_per_budget: int = Field(ge=3)  # a quadratic needs three points
    min_r2: Float = Field(le=1)  # ... and a convex parabola with at least this R^2
    vertex_margin: Float = Field(ge=0)  # ... whose vertex lies this many decades of N at most beyond the sizes
    envelope_points: int = Field(ge=2)  # approach 1: C values, log-spaced over the budgets' range
    target_compute: PositiveFloat  # C at which N_opt and D_opt are estimated
    bootstrap: BootstrapParams
    parametric: ParametricParams


class IsoflopPublished(Schema):
    n_opt_at_1e15: Range  # peers' compute-optimal N at C = 1e15 FLOPs
    slope: Range  # peers' m in log10 N_opt = m log10 C + c


class IsoflopParams(Schema):
    matrix: IsoflopMatrix
    train: IsoflopTraining
    # A member stops after the first epoch whose cumulative FLOPs reach this (the fits
    # need curves only up to the largest budget); null trains every member all epochs.
    stop_at_flops: PositiveFloat | None
    scaling: ScalingParams
    published: IsoflopPublished

    @model_validator(mode="after")
    def _stop_after_the_largest_budget(self) -> IsoflopParams:
        largest = self.scaling.budgets.high
        if self.stop_at_flops is not None and self.stop_at_flops < largest:
            raise ValueError(
                f"stop_at_flops: must be at least the largest budget {STUDY.name}.scaling.budgets.high ({largest:g}) "
                f"or null, got {self.stop_at_flops:g}"
            )
        return self


Setup = StudySetup[IsoflopParams, PigLatinParams]


def load(path: str | Path = PARAMS_FILE) -> Setup:
    return load_study(STUDY.name, IsoflopParams, path, data=load_piglatin, checks=_check)


def _check(setup: Setup) -> None:
    setup.data.check_dataset(setup.config.train.dataset, f"{STUDY.name}.train.dataset")
