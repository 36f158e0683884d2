"""The `recurrent` section of params.yaml: one entry per run, the published losses."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from pipeline.core.params import PARAMS_FILE, Range, Schema, StudySetup, load_study
from pipeline.datasets.piglatin.params import PigLatinParams
from pipeline.datasets.piglatin.params import load as load_piglatin
from pipeline.studies.recurrent import STUDY
from pipeline.translators.params import TranslatorRun


class RecurrentRun(TranslatorRun):
    """A translator run of this study; `model` picks the architecture, `cell` the recurrent cell."""

    model: Literal["rnn", "rnn-additive-attention", "single-block-attention"]
    cell: Literal["gru", "lstm"] = "gru"  # not settable on single-block-attention (it has no cell)
    num_layers: Literal[1] = 1  # the handouts' models have one layer (one block)
    forget_bias: float = 1.0  # an lstm cell's initial forget-gate bias (cells.py says why)

    @model_validator(mode="after")
    def _cell_needs_a_recurrent_model(self) -> RecurrentRun:
        # The single-block model would ignore it, yet the run would be logged with that cell.
        if "cell" in self.model_fields_set and self.model == "single-block-attention":
            raise ValueError(f"cell: single-block-attention has no recurrent cell (remove the key), got {self.cell!r}")
        return self

    @model_validator(mode="after")
    def _forget_bias_needs_an_lstm(self) -> RecurrentRun:
        if "forget_bias" in self.model_fields_set and (self.cell != "lstm" or self.model == "single-block-attention"):
            raise ValueError("forget_bias: only an lstm cell has a forget gate")
        return self


class RecurrentPublished(Schema):
    # Lowest validation losses of published runs of the 2021/2022 assignment, as the
    # notebooks computed them: the mean of per-batch mean losses (our val_loss_batch_mean).
    best_val_loss: dict[str, Range]


class RecurrentParams(Schema):
    runs: dict[str, RecurrentRun] = Field(min_length=1)
    published: RecurrentPublished


Setup = StudySetup[RecurrentParams, PigLatinParams]


def load(path: str | Path = PARAMS_FILE) -> Setup:
    return load_study(STUDY.name, RecurrentParams, path, data=load_piglatin, checks=_check)


def _check(setup: Setup) -> None:
    key, config = STUDY.name, setup.config
    for name, run in config.runs.items():
        setup.data.check_dataset(run.dataset, f"{key}.runs.{name}.dataset")
    for name in config.published.best_val_loss:
        if name not in config.runs:
            raise ValueError(f"{key}.published.best_val_loss.{name}: no such run (known: {', '.join(config.runs)})")
