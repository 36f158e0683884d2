"""The `clip` section of `params.yaml`: synthetic data, training, and the prompting task."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, model_validator

from pipeline.core.params import PARAMS_FILE, Float, PositiveFloat, PositiveInt, Schema, Seed, StudySetup, load_study
from pipeline.studies.clip import PIPELINE_MODEL, PIPELINE_WEIGHTS, STUDY


class ClipScene(Schema):
    """A scene description in the vocabulary of `pipeline/studies/clip/scenes.py`."""

    count: int
    colour: str
    shape: str
    position: str
    background: str

    @model_validator(mode="after")
    def _in_vocabulary(self) -> ClipScene:
        from pipeline.studies.clip.scenes import SLOTS, VOCABULARY  # numpy + PIL: only when a clip section is parsed

        for slot in SLOTS:
            if getattr(self, slot) not in VOCABULARY[slot]:
                raise ValueError(f"{slot}: must be one of {list(VOCABULARY[slot])}, got {getattr(self, slot)!r}")
        return self


class ClipData(Schema):
    seed: Seed
    train_size: PositiveInt
    group_size: int = Field(ge=2, le=6)  # an anchor and its twins, at most one per attribute (5)
    val_blocks: PositiveInt  # validation = this many blocks of 100 distinct scenes
    target: ClipScene  # the synthetic gallery's target; distractors differ from it in one attribute


class ClipTrain(Schema):
    epochs: PositiveInt
    batch_size: int = Field(ge=2)  # a contrastive batch needs negatives
    lr: PositiveFloat
    weight_decay: Float = Field(ge=0)
    warmup_steps: int = Field(ge=0)
    full_caption_fraction: Float = Field(ge=0, le=1)
    text_frozen_steps: int = Field(ge=0)  # the text tower trains only after this many steps
    twin_loss_weight: Float = Field(ge=0)  # weight of the loss inside each twin group (0: in-batch loss only)


class ClipDiagnostic(Schema):
    attributes: list[str] = Field(min_length=1)  # scene attributes to test, each against its twins
    pairs: PositiveInt  # held-out twin pairs per attribute (two trials each)
    goal: Float = Field(gt=0.5, le=1)  # the accuracy every attribute should reach (0.5: blind to it)

    @model_validator(mode="after")
    def _known_attributes(self) -> ClipDiagnostic:
        from pipeline.studies.clip.scenes import SLOTS  # numpy + PIL: only when a clip section is parsed

        for attribute in self.attributes:
            if attribute not in SLOTS:
                raise ValueError(f"attributes: unknown attribute {attribute!r}; the scenes have {list(SLOTS)}")
        if len(set(self.attributes)) != len(self.attributes):
            raise ValueError(f"attributes: each attribute once, got {self.attributes}")
        return self


class ClipSearch(Schema):
    beam_width: PositiveInt
    min_margin: Float = Field(ge=0, lt=1)  # target probability minus the runner-up's (> 0 always required)


class ClipParams(Schema):
    data: ClipData
    train: ClipTrain
    diagnostic: ClipDiagnostic
    model: str = Field(min_length=1)
    pretrained: str = Field(min_length=1)
    allow_download: bool
    gallery: str | None
    target: str | None
    captions: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    search: ClipSearch

    @model_validator(mode="after")
    def _sources_agree(self) -> ClipParams:
        if self.train.batch_size % self.data.group_size:
            raise ValueError(
                f"train.batch_size: must be a multiple of clip.data.group_size ({self.data.group_size}) so batches hold whole "
                f"twin groups, got {self.train.batch_size}"
            )
        if self.pretrained == PIPELINE_WEIGHTS and self.model != PIPELINE_MODEL:
            raise ValueError(
                f"model: the in-pipeline weights (pretrained: {PIPELINE_WEIGHTS}) are a {PIPELINE_MODEL}, got {self.model!r}; "
                "name pretrained weights for it (e.g. pretrained: openai for ViT-B-32)"
            )
        if (self.gallery is None) != (self.target is None):
            raise ValueError("target: clip.gallery and clip.target go together (both null: the synthetic gallery)")
        return self


Setup = StudySetup[ClipParams, None]  # its data: made by its own stages


def load(path: str | Path = PARAMS_FILE) -> Setup:
    return load_study(STUDY.name, ClipParams, path)
