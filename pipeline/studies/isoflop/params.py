"""The `isoflop` section of params.yaml: the grid, its shared training, the budget stop, the fits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from pipeline.core.params import (
    PARAMS_FILE,
    Float,
    PositiveFloat,
    PositiveInt,
    Range,
    Section,
    SharedParams,
    Slug,
    load_section,
    load_shared,
    section_checks,
)
from pipeline.studies.isoflop import STUDY
from pipeline.studies.piglatin.params import PigLatinParams
from pipeline.studies.piglatin.params import load as load_piglatin
from pipeline.translation.params import TranslatorRun


class IsoflopMatrix(Section):
    """The axis of the `isoflop` matrix stage in dvc.yaml: model names `h<hidden size>`."""

    model: list[str] = Field(min_length=3)

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

    def hidden_sizes(self) -> dict[str, int]:
        return {name: int(name[1:]) for name in self.model}


class IsoflopTraining(Section):
    """Shared by every grid member; only the hidden size differs."""

    dataset: Slug
    num_layers: PositiveInt
    epochs: PositiveInt
    patience: PositiveInt
    batch_size: PositiveInt
    lr: PositiveFloat
    lr_decay: Float = Field(gt=0, le=1)

    def run(self, hidden_size: int) -> TranslatorRun:
        return TranslatorRun(hidden_size=hidden_size, **self.model_dump())


class ScalingParams(Section):
    budgets: list[PositiveFloat] = Field(min_length=2)  # compute budgets C, FLOPs
    min_models_per_budget: int = Field(ge=3)  # a quadratic needs three points
    target_compute: PositiveFloat  # C at which N_opt and D_opt are estimated

    @field_validator("budgets")
    @classmethod
    def _increasing(cls, budgets: list[float]) -> list[float]:
        for i in range(1, len(budgets)):
            if budgets[i] <= budgets[i - 1]:
                raise ValueError(f"{i}: budgets must be strictly increasing, got {budgets[i]:g} after {budgets[i - 1]:g}")
        return budgets


class IsoflopParams(Section):
    matrix: IsoflopMatrix
    train: IsoflopTraining
    # A member stops after the first epoch whose cumulative FLOPs reach this (the fits
    # need curves only up to the largest budget); null trains every member all epochs.
    stop_at_flops: PositiveFloat | None
    scaling: ScalingParams
    published_n_opt_at_1e15: Range  # peers' compute-optimal N at C = 1e15 FLOPs
    published_slope: Range  # peers' m in log10 N_opt = m log10 C + c

    @model_validator(mode="after")
    def _stop_after_the_largest_budget(self) -> IsoflopParams:
        largest = self.scaling.budgets[-1]
        if self.stop_at_flops is not None and self.stop_at_flops < largest:
            raise ValueError(
                f"stop_at_flops: must be at least the largest budget in {STUDY.name}.scaling.budgets ({largest:g}) "
                f"or null, got {self.stop_at_flops:g}"
            )
        return self


@dataclass(frozen=True)
class Setup:
    shared: SharedParams
    piglatin: PigLatinParams
    isoflop: IsoflopParams


def load(path: str | Path = PARAMS_FILE) -> Setup:
    setup = Setup(load_shared(path), load_piglatin(path), load_section(STUDY.name, IsoflopParams, path))
    with section_checks(path):
        setup.piglatin.check_dataset(setup.isoflop.train.dataset, f"{STUDY.name}.train.dataset")
    return setup
