"""The settings every translator study shares: one training run, and how runs are evaluated."""

from __future__ import annotations

from pydantic import Field, field_validator

from pipeline.core.params import Float, PositiveFloat, PositiveInt, Schema, Slug
from pipeline.translators.models.limits import MAX_POSITIONS


class TranslatorSchedule(Schema):
    """How a translator trains, whatever its width: what a grid of sizes shares (the IsoFLOP grid)."""

    dataset: Slug
    num_layers: PositiveInt
    epochs: PositiveInt
    patience: PositiveInt
    batch_size: PositiveInt
    lr: PositiveFloat
    lr_decay: Float = Field(gt=0, le=1)


class TranslatorRun(TranslatorSchedule):
    """The hyperparameters of one translator training run, whatever the architecture."""

    hidden_size: PositiveInt
    # At most this many torch intra-op threads for this run (None: as many as the stage was
    # given, see `python -m pipeline.repro`). Models whose matrices are tiny (the recurrent
    # translators' 32-wide steps) run faster on one.
    threads: PositiveInt | None = None

    @field_validator("hidden_size")
    @classmethod
    def _even(cls, hidden_size: int) -> int:
        # Sinusoidal positional encoding interleaves sin/cos pairs.
        if hidden_size % 2:
            raise ValueError(f"must be a positive even integer, got {hidden_size}")
        return hidden_size


class TranslationEval(Schema):
    """How every translator of a task is evaluated, so their figures compare."""

    # Decoded sequences must fit the models' positional table (MAX_POSITIONS, with <SOS>).
    max_decode_len: int = Field(gt=0, lt=MAX_POSITIONS)
    sentences: list[str] = Field(min_length=1)  # translated by every run, shown side by side
    attention_words: list[str] = Field(min_length=1)  # whose attention maps models with attention log
