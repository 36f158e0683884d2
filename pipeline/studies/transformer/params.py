"""The `transformer` section of params.yaml: the run matrix and each run's hyperparameters."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import Field

from pipeline.core.params import (
    PARAMS_FILE,
    PositiveInt,
    Range,
    Section,
    SharedParams,
    load_section,
    load_shared,
    section_checks,
)
from pipeline.datasets.piglatin.params import PigLatinParams
from pipeline.datasets.piglatin.params import load as load_piglatin
from pipeline.studies.transformer import STUDY, seed_run
from pipeline.translation.params import TranslatorRun


class TransformerMatrix(Section):
    """The axes of the `train_transformer` matrix stage in dvc.yaml; run name = `{model}-{dataset}`."""

    model: list[str] = Field(min_length=1)
    dataset: list[str] = Field(min_length=1)

    def run_names(self) -> list[str]:
        return [f"{m}-{d}" for m, d in itertools.product(self.model, self.dataset)]


class TransformerParams(Section):
    matrix: TransformerMatrix
    runs: dict[str, TranslatorRun]
    # Run -> seed offsets it is trained with again (seed = the global `seed` + offset; the
    # run itself is offset 0): the run-to-run spread. Runs not listed are trained once.
    extra_seeds: dict[str, Annotated[list[PositiveInt], Field(min_length=1)]]
    # Lowest validation losses (notebook definition) of published runs, per run: every
    # version 2022-2025, then those of the 2022 and of the 2021 version alone.
    published_best_val_loss: dict[str, Range]
    published_best_val_loss_2022: dict[str, Range]
    published_best_val_loss_2021: dict[str, Range]

    def replicates(self, run: str) -> list[str]:
        """The runs of `run`'s configuration, one per seed: the run itself first, then its extra seeds."""
        return [run] + [seed_run(run, offset) for offset in self.extra_seeds.get(run, [])]


@dataclass(frozen=True)
class Setup:
    shared: SharedParams
    piglatin: PigLatinParams
    transformer: TransformerParams


def load(path: str | Path = PARAMS_FILE) -> Setup:
    setup = Setup(load_shared(path), load_piglatin(path), load_section(STUDY.name, TransformerParams, path))
    with section_checks(path):
        check(setup.transformer, setup.piglatin)
        check_seeds(setup.transformer, setup.shared.seed)
    return setup


def check_seeds(config: TransformerParams, seed: int) -> None:
    """Extra seeds belong to runs of the matrix, are distinct and stay valid seeds."""
    key = f"{STUDY.name}.extra_seeds"
    runs = config.matrix.run_names()
    for name, offsets in config.extra_seeds.items():
        if name not in runs:
            raise ValueError(f"{key}.{name}: no such run in the matrix (runs: {', '.join(runs)})")
        if len(set(offsets)) != len(offsets):
            raise ValueError(f"{key}.{name}: offsets must be distinct, got {offsets}")
        if seed + max(offsets, default=0) >= 2**32:
            raise ValueError(f"{key}.{name}: seed {seed} + offset {max(offsets)} must stay below 2**32")


def check(config: TransformerParams, data: PigLatinParams) -> None:
    """Runs are consistent with the matrix, their names and the prepared datasets."""
    key = STUDY.name
    for dataset in config.matrix.dataset:
        data.check_dataset(dataset, f"{key}.matrix.dataset")
    for name in config.matrix.run_names():
        if name not in config.runs:
            raise ValueError(f"{key}.runs: the matrix asks for run {name!r} but {key}.runs has no such entry")
    for name, run in config.runs.items():
        data.check_dataset(run.dataset, f"{key}.runs.{name}.dataset")
        # Run names are what users see in DVC, MLflow and the report: keep them truthful.
        match = re.fullmatch(r"h(\d+)-([a-z0-9_]+)", name)
        if not match:
            raise ValueError(f"{key}.runs.{name}: run names must look like h<hidden>-<dataset>, e.g. h32-small")
        if int(match.group(1)) != run.hidden_size:
            raise ValueError(f"{key}.runs.{name}.hidden_size: the run name says {match.group(1)}, got {run.hidden_size}")
        if match.group(2) != run.dataset:
            raise ValueError(f"{key}.runs.{name}.dataset: the run name says {match.group(2)!r}, got {run.dataset!r}")
    for published in ("published_best_val_loss", "published_best_val_loss_2022", "published_best_val_loss_2021"):
        for name in getattr(config, published):
            if name not in config.runs:
                raise ValueError(f"{key}.{published}.{name}: no such run (known: {', '.join(config.runs)})")
