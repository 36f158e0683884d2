"""The `add2digits` section of params.yaml: the matrix, the model, the reference protocol,
the extended grid (presets), the published figures and the report's failure threshold."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from pipeline.core.params import PARAMS_FILE, Float, PositiveFloat, PositiveInt, Schema, Seed, StudySetup, load_study, require_known
from pipeline.studies.add2digits import CELLS, STUDY, length_value, run_name

Cell = Literal["rnn", "lstm"]
Probability = Float  # checked in [0, 1] where used
MIN_LENGTH = 3  # the marker sits in [0, L-3]: a digit after it, and a last digit that is not that one


class Add2DigitsMatrix(Schema):
    """The axes of the `train_add2digits` matrix stage: cells and lengths `L<n>`."""

    cell: list[Cell] = Field(min_length=1)
    length: list[str] = Field(min_length=1)

    @field_validator("cell")
    @classmethod
    def _unique_cells(cls, cells: list[str]) -> list[str]:
        if len(set(cells)) != len(cells):
            raise ValueError(f"cells must be unique, got {cells}")
        return cells

    @field_validator("length", mode="before")
    @classmethod
    def _lengths(cls, lengths: object) -> object:
        if not isinstance(lengths, list):
            return lengths  # the type check says what is wrong
        for i, name in enumerate(lengths):
            match = re.fullmatch(r"L(\d+)", name) if isinstance(name, str) else None
            if not match:
                raise ValueError(f"{i}: lengths are written L<n> (e.g. L30, stage names read rnn-L30), got {name!r}")
            if int(match.group(1)) < MIN_LENGTH:
                raise ValueError(
                    f"{i}: sequence length must be at least {MIN_LENGTH} (the marker, the digit after it "
                    f"and a different last digit), got {name!r}"
                )
        if len(set(lengths)) != len(lengths):
            raise ValueError(f"lengths must be unique, got {lengths}")
        return lengths

    def runs(self) -> list[str]:
        return [run_name(cell, length) for cell in self.cell for length in self.length]


class Add2DigitsModel(Schema):
    hidden_size: PositiveInt
    num_layers: PositiveInt


class CellRates(Schema):
    """Adam's learning rate per cell."""

    rnn: PositiveFloat
    lstm: PositiveFloat


class ReferenceProtocol(Schema):
    """The reference experiment: a fresh data set per length, split in order, full-batch Adam."""

    # The matrix lengths that run the protocol (the others train the extended grid only).
    lengths: list[str] = Field(min_length=1)
    examples: PositiveInt  # per length
    train_examples: PositiveInt  # the first ones train, the rest test (the reference has no validation set)
    epochs: PositiveInt  # every epoch trained (no early stopping), one full-batch step each
    lr: CellRates
    data_seed: Seed

    @model_validator(mode="after")
    def _split(self) -> ReferenceProtocol:
        if self.train_examples >= self.examples:
            raise ValueError(f"train_examples: must be below examples ({self.examples}) to leave a test set, got {self.train_examples}")
        return self


class ExtendedGrid(Schema):
    """The grid beyond the reference: more data, mini-batches, seeds, early stopping."""

    examples: PositiveInt  # per (length, seed), split in order into train / validation / test
    val_examples: PositiveInt  # early stopping and the kept weights are chosen on these
    test_examples: PositiveInt  # reported only
    batch_size: PositiveInt
    epochs: PositiveInt  # at most
    patience: PositiveInt  # epochs without a lower validation loss before stopping
    lr: CellRates
    seeds: list[Seed] = Field(min_length=1)  # each seed: its own data set and initialisation

    @model_validator(mode="after")
    def _split(self) -> ExtendedGrid:
        if self.val_examples + self.test_examples >= self.examples:
            raise ValueError(
                f"examples: must exceed val_examples + test_examples ({self.val_examples + self.test_examples}) "
                f"to leave training data, got {self.examples}"
            )
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds: must be unique, got {self.seeds}")
        return self

    @property
    def train_examples(self) -> int:
        return self.examples - self.val_examples - self.test_examples


class Extended(Schema):
    preset: str  # the entry of `presets` the stages run
    presets: dict[str, ExtendedGrid] = Field(min_length=1)
    data_seed: Seed

    @model_validator(mode="after")
    def _known(self) -> Extended:
        require_known("preset", self.preset, self.presets, "preset")
        return self

    @property
    def active(self) -> ExtendedGrid:
        return self.presets[self.preset]


class PublishedRun(Schema):
    """What the reference states for one run (approximate, read off its text and plots)."""

    best_test_accuracy: Probability | None = Field(default=None, ge=0, le=1)
    final_test_accuracy: Probability | None = Field(default=None, ge=0, le=1)
    test_accuracy: Probability | None = Field(default=None, ge=0, le=1)  # when it does not say best or final
    train_accuracy_1_by_epoch: PositiveInt | None = None


class PublishedLaterVariant(Schema):
    """A later published variant of the course's experiment (not the homework's protocol): more data, fewer epochs."""

    train_examples: PositiveInt
    epochs: PositiveInt
    test_accuracy: dict[str, Probability]  # run name -> accuracy


class Published(Schema):
    reference: dict[str, PublishedRun]
    later_variant: PublishedLaterVariant
    majority_baseline: Probability = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _run_names(self) -> Published:
        for where, names in (("reference", self.reference), ("later_variant.test_accuracy", self.later_variant.test_accuracy)):
            for name in names:
                match = re.fullmatch(r"([a-z]+)-L(\d+)", name)
                if not match or match.group(1) not in CELLS:
                    raise ValueError(f"{where}.{name}: run names read <cell>-L<length> with cell in {list(CELLS)}")
        return self


class Add2DigitsParams(Schema):
    matrix: Add2DigitsMatrix
    model: Add2DigitsModel
    reference: ReferenceProtocol
    extended: Extended
    published: Published
    # The report calls a cell failed at a length when its mean extended test accuracy is
    # below this (solving the task scores ~1; always answering the commonest class ~0.10).
    fails_below: Float = Field(gt=0, le=1)

    @model_validator(mode="after")
    def _reference_lengths(self) -> Add2DigitsParams:
        for i, length in enumerate(self.reference.lengths):
            if length not in self.matrix.length:
                raise ValueError(f"reference.lengths.{i}: {length!r} is not a matrix length (matrix.length: {self.matrix.length})")
        return self

    def lengths(self) -> dict[str, int]:
        return {name: length_value(name) for name in self.matrix.length}

    def runs_reference(self, length: str) -> bool:
        return length in self.reference.lengths

    def check_run(self, run: str) -> tuple[str, str]:
        """(cell, length) of a matrix entry; anything else is a one-line error naming the key."""
        for cell in self.matrix.cell:
            for length in self.matrix.length:
                if run_name(cell, length) == run:
                    return cell, length
        raise ValueError(f"{STUDY.name}.matrix: no run {run!r} (known: {', '.join(self.matrix.runs())})")


Setup = StudySetup[Add2DigitsParams, None]  # its data: made by its own stages


def load(path: str | Path = PARAMS_FILE) -> Setup:
    return load_study(STUDY.name, Add2DigitsParams, path)
