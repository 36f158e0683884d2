"""The `transformer` section of params.yaml: the run matrix and each run's hyperparameters."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field

from pipeline.core.params import (
    PARAMS_FILE,
    Range,
    Section,
    SharedParams,
    load_section,
    load_shared,
    section_checks,
)
from pipeline.studies.piglatin.params import PigLatinParams
from pipeline.studies.piglatin.params import load as load_piglatin
from pipeline.studies.transformer import STUDY
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
    # Lowest validation losses seen in published runs of the same assignment, per run.
    published_best_val_loss: dict[str, Range]


@dataclass(frozen=True)
class Setup:
    shared: SharedParams
    piglatin: PigLatinParams
    transformer: TransformerParams


def load(path: str | Path = PARAMS_FILE) -> Setup:
    setup = Setup(load_shared(path), load_piglatin(path), load_section(STUDY.name, TransformerParams, path))
    with section_checks(path):
        check(setup.transformer, setup.piglatin)
    return setup


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
    for name in config.published_best_val_loss:
        if name not in config.runs:
            raise ValueError(f"{key}.published_best_val_loss.{name}: no such run (known: {', '.join(config.runs)})")
