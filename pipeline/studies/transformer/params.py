"""The `transformer` section of params.yaml: the run matrix and each run's hyperparameters."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Annotated

from pydantic import Field

from pipeline.core.params import PARAMS_FILE, PositiveInt, Range, Schema, StudySetup, load_study
from pipeline.datasets.piglatin.params import PigLatinParams
from pipeline.datasets.piglatin.params import load as load_piglatin
from pipeline.studies.transformer import STUDY, seed_run
from pipeline.translators.params import TranslatorRun


class TransformerMatrix(Schema):
    """The axes of the `train_transformer` matrix stage in dvc.yaml; run name = `{model}-{dataset}`."""

    model: list[str] = Field(min_length=1)
    dataset: list[str] = Field(min_length=1)

    def run_names(self) -> list[str]:
        return [f"{m}-{d}" for m, d in itertools.product(self.model, self.dataset)]


class TransformerPublished(Schema):
    """Lowest validation losses (notebook definition) of published runs, per run: [min, max]."""

    best_val_loss: dict[str, Range]  # every version 2022-2025
    best_val_loss_2022: dict[str, Range]  # the 2022 version alone
    best_val_loss_2021: dict[str, Range]  # the 2021 version alone


class TransformerParams(Schema):
    matrix: TransformerMatrix
    runs: dict[str, TranslatorRun]
    # Run -> seed offsets it is trained with again (seed = the global `seed` + offset; the
    # run itself is offset 0): the run-to-run spread. Runs not listed are trained once.
    extra_seeds: dict[str, Annotated[list[PositiveInt], Field(min_length=1)]]
    published: TransformerPublished

    def replicates(self, run: str) -> list[str]:
        """The runs of `run`'s configuration, one per seed: the run itself first, then its extra seeds."""
        return [run] + [seed_run(run, offset) for offset in self.extra_seeds.get(run, [])]


Setup = StudySetup[TransformerParams, PigLatinParams]


def load(path: str | Path = PARAMS_FILE) -> Setup:
    return load_study(STUDY.name, TransformerParams, path, data=load_piglatin, checks=_check)


def _check(setup: Setup) -> None:
    check_runs(setup.config, setup.data)
    check_seeds(setup.config, setup.shared.seed)


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


def check_runs(config: TransformerParams, data: PigLatinParams) -> None:
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
    for published, ranges in config.published:  # every published figure names a run
        for name in ranges:
            if name not in config.runs:
                raise ValueError(f"{key}.published.{published}.{name}: no such run (known: {', '.join(config.runs)})")
