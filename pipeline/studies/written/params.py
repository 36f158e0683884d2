"""The `written` section of params.yaml: sample sizes and the settings of each written check."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from pipeline.core.params import PARAMS_FILE, Float, PositiveFloat, PositiveInt, Schema, Seed, StudySetup, load_study
from pipeline.studies.written import STUDY


class WrittenPublished(Schema):
    # The homework's published answers: network (mlp | rnn) -> sentence length -> parameters.
    classifier_parameters: dict[Literal["mlp", "rnn"], dict[PositiveInt, PositiveInt]]


class WrittenParams(Schema):
    seed: Seed  # every check draws from its own generator seeded from this
    samples: PositiveInt  # random instances (weights, inputs) per check
    chain_layers: int = Field(ge=2)  # 1.1.2: n weights, n-1 ReLUs
    jacobian_steps: list[int] = Field(min_length=2, max_length=2)  # 1.2.1: [first n, last n], n >= 2
    jacobian_dim: PositiveInt  # 1.2.1: size of x_t
    conv_kernel: list[Float] = Field(min_length=1)  # 1.3.1: odd length, entries >= 0 (softmax weights)
    sequence_length: PositiveInt  # 1.3.1 and 1.3.2: tokens per input sequence
    conv_channels: PositiveInt  # 1.3.1: channels, each convolved with conv_kernel
    maxpool_k: int = Field(ge=1)  # 1.3.2: window of 2k+1
    scales: list[PositiveFloat] = Field(min_length=1)  # C: W_Q W_K scale (1.3.2), position penalty (1.3.1)
    encoder_sizes: list[Annotated[list[PositiveInt], Field(min_length=2, max_length=2)]] = Field(min_length=1)  # (D, H)
    vocab_size: PositiveInt  # the classifier question (HW3-3.1): V, its embedding counted apart
    embedding_dim: PositiveInt
    hidden_size: PositiveInt  # both MLP hidden layers and the RNN state
    sequence_lengths: list[PositiveInt] = Field(min_length=1)
    classifier_layers: list[PositiveInt] = Field(min_length=1)  # RNN depths counted
    classifier_logits: list[PositiveInt] = Field(min_length=1)  # output units counted (1: a sigmoid, 2: a softmax)
    published: WrittenPublished
    # (K, D, H, V) at which the units/connections formulas are checked on the modules.
    network_sizes: list[Annotated[list[PositiveInt], Field(min_length=4, max_length=4)]] = Field(min_length=1)
    timing_length: PositiveInt  # K of the with/without-attention timing
    timing_hidden: PositiveInt  # hidden size of both decoders in the with/without-attention timing
    timing_batch: PositiveInt
    timing_repeats: PositiveInt  # training steps timed per decoder (the median is reported)

    @field_validator("jacobian_steps")
    @classmethod
    def _steps(cls, steps: list[int]) -> list[int]:
        first, last = steps
        if first < 2:
            raise ValueError(f"the first n must be at least 2 (x_n after n-1 steps), got {first}")
        if last < first:
            raise ValueError(f"[first n, last n] must not decrease, got {steps}")
        return steps

    @field_validator("conv_kernel")
    @classmethod
    def _kernel(cls, kernel: list[float]) -> list[float]:
        if len(kernel) % 2 == 0:
            raise ValueError(f"the kernel needs a centre (odd length), got {len(kernel)} entries")
        if min(kernel) < 0 or max(kernel) <= 0:
            raise ValueError(f"a softmax head mixes with weights >= 0: entries must be >= 0, one > 0, got {kernel}")
        return kernel

    @field_validator("scales")
    @classmethod
    def _increasing(cls, scales: list[float]) -> list[float]:
        for i in range(1, len(scales)):
            if scales[i] <= scales[i - 1]:
                raise ValueError(f"{i}: scales must be strictly increasing, got {scales[i]:g} after {scales[i - 1]:g}")
        return scales

    @model_validator(mode="after")
    def _long_enough(self) -> WrittenParams:
        needed = max(len(self.conv_kernel), 2 * self.maxpool_k + 1)
        if self.sequence_length < needed:
            raise ValueError(f"sequence_length: must hold the kernel and the pooling window ({needed} tokens), got {self.sequence_length}")
        return self

    @property
    def steps(self) -> list[int]:
        return list(range(self.jacobian_steps[0], self.jacobian_steps[1] + 1))


Setup = StudySetup[WrittenParams, None]  # its data: made by its own stages


def load(path: str | Path = PARAMS_FILE) -> Setup:
    return load_study(STUDY.name, WrittenParams, path)
