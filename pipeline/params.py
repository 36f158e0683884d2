"""The one place that reads and validates `params.yaml`.

Every stage calls `load_params()` before doing any heavy work, so a typo or an
out-of-range value fails in a second with a message such as::

    params.yaml: nmt.runs.h32-small.hidden_size: Input should be greater than 0, got -4
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.errors import PipelineError
from pipeline.models.limits import MAX_POSITIONS
from pipeline.vocab import VOCAB

PARAMS_FILE = "params.yaml"


class Section(BaseModel):
    # Unknown keys are typos until proven otherwise; params are immutable once loaded.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


PositiveInt = Annotated[int, Field(gt=0)]
Seed = Annotated[int, Field(ge=0, lt=2**32)]  # numpy's generators take 0 <= seed < 2**32
# YAML 1.1 reads `5e-4` as a string and `1` as an int: floats accept both (lax), nothing else.
Float = Annotated[float, Field(strict=False)]
PositiveFloat = Annotated[float, Field(gt=0, strict=False)]


# ---------------------------------------------------------------------------- data


class PigLatinData(Section):
    files: dict[str, str] = Field(min_length=1)  # dataset name -> raw file
    val_fraction: Float = Field(gt=0, lt=1)
    split_seed: Seed

    @field_validator("files")
    @classmethod
    def _names_are_slugs(cls, files: dict[str, str]) -> dict[str, str]:
        for name in files:
            if not re.fullmatch(r"[a-z0-9_]+", name):
                raise ValueError(f"dataset name {name!r} must use only a-z, 0-9 and _")
        return files


class DataParams(Section):
    piglatin: PigLatinData


# ----------------------------------------------------------------------------- nmt


class NmtRun(Section):
    """One encoder-decoder training run (one entry of the DVC matrix)."""

    dataset: str
    hidden_size: PositiveInt
    num_layers: PositiveInt
    epochs: PositiveInt
    patience: PositiveInt
    batch_size: PositiveInt
    lr: PositiveFloat
    lr_decay: Float = Field(gt=0, le=1)

    @field_validator("hidden_size")
    @classmethod
    def _even(cls, hidden_size: int) -> int:
        # Sinusoidal positional encoding interleaves sin/cos pairs.
        if hidden_size % 2:
            raise ValueError(f"must be a positive even integer, got {hidden_size}")
        return hidden_size


class NmtMatrix(Section):
    """The axes of the `train_nmt` matrix stage in dvc.yaml; run name = `{model}-{dataset}`."""

    model: list[str] = Field(min_length=1)
    dataset: list[str] = Field(min_length=1)

    def run_names(self) -> list[str]:
        return [f"{m}-{d}" for m, d in itertools.product(self.model, self.dataset)]


class NmtEval(Section):
    # Decoded sequences must fit the models' positional table (MAX_POSITIONS, with <SOS>).
    max_decode_len: int = Field(gt=0, lt=MAX_POSITIONS)
    sentences: list[str] = Field(min_length=1)

    @field_validator("sentences")
    @classmethod
    def _translatable(cls, sentences: list[str]) -> list[str]:
        for i, sentence in enumerate(sentences):
            unknown = VOCAB.unknown_characters(sentence.lower())  # translation lowercases first
            if unknown:
                raise ValueError(f"{i}: character(s) {', '.join(map(repr, unknown))} not in the vocabulary, got {sentence!r}")
        return sentences


class NmtParams(Section):
    matrix: NmtMatrix
    runs: dict[str, NmtRun]
    eval: NmtEval

    @model_validator(mode="after")
    def _matrix_has_runs(self) -> NmtParams:
        for name in self.matrix.run_names():
            if name not in self.runs:
                raise ValueError(f"runs: the matrix asks for run {name!r} but nmt.runs has no such entry")
        return self


# -------------------------------------------------------------------------- report


class ReportParams(Section):
    # Lowest validation losses seen in published runs of the same assignment (DESIGN.md).
    published_best_val_loss: dict[str, Annotated[tuple[Float, Float], Field(strict=False)]]


# ---------------------------------------------------------------------------- root


class Params(Section):
    profile: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    seed: Seed
    device: Literal["auto", "cpu", "cuda"]
    data: DataParams
    nmt: NmtParams
    report: ReportParams

    @model_validator(mode="after")
    def _runs_are_consistent(self) -> Params:
        known = sorted(self.data.piglatin.files)
        for dataset in self.nmt.matrix.dataset:
            if dataset not in known:
                raise ValueError(f"nmt.matrix.dataset: must list names from data.piglatin.files {known}, got {dataset!r}")
        for name, run in self.nmt.runs.items():
            if run.dataset not in known:
                raise ValueError(f"nmt.runs.{name}.dataset: must be one of {known}, got {run.dataset!r}")
            # Run names are what users see in DVC, MLflow and the report: keep them truthful.
            match = re.fullmatch(r"h(\d+)-([a-z0-9_]+)", name)
            if not match:
                raise ValueError(f"nmt.runs.{name}: run names must look like h<hidden>-<dataset>, e.g. h32-small")
            if int(match.group(1)) != run.hidden_size:
                raise ValueError(f"nmt.runs.{name}.hidden_size: the run name says {match.group(1)}, got {run.hidden_size}")
            if match.group(2) != run.dataset:
                raise ValueError(f"nmt.runs.{name}.dataset: the run name says {match.group(2)!r}, got {run.dataset!r}")
        return self


def load_params(path: str | Path = PARAMS_FILE) -> Params:
    """Parse and validate the params file; any problem is one `PipelineError` line."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PipelineError(f"{path}: file not found (run from the project root)") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise PipelineError(f"{where}: not valid YAML ({getattr(error, 'problem', error)})") from None
    if not isinstance(raw, dict):
        raise PipelineError(f"{path}: expected a mapping of sections at the top level")
    try:
        return Params.model_validate(raw)
    except ValidationError as error:
        raise PipelineError(f"{path}: {_describe(error)}") from None


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        return f"{key}: unknown key (typo?)"
    if first["type"] == "missing":
        return f"{key}: required key is missing"
    if key and re.match(r"[\w.-]+: ", message):
        # A section-level check already names the key below `key`.
        return f"{key}.{message}"
    if "got" in message:
        return f"{key}: {message}" if key else message
    given = first.get("input")
    return f"{key}: {message}, got {given!r}" if key else message
