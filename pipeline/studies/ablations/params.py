"""The `ablations` section of params.yaml: the runs of the three experiments and the length split."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from pipeline.core.params import PARAMS_FILE, PositiveInt, Schema, SharedParams, StudySetup, load_study
from pipeline.datasets.piglatin.params import PigLatinParams
from pipeline.datasets.piglatin.params import load as load_piglatin
from pipeline.studies.ablations import PREPARE_STAGE, PREPARED, STUDY, positions_run
from pipeline.translators.pairs import TranslatorData
from pipeline.translators.params import TranslatorRun

Encoding = Literal["none", "sinusoidal", "learned", "one-hot"]  # TransformerConfig.positional_encoding
AttentionKind = Literal["additive", "scaled-dot"]


class TransformerVariantRun(TranslatorRun):
    """The encoder-decoder transformer with the two ablation options; the defaults are the assignment's model.

    The options are run params, so every run logs them (MLflow params, checkpoint config)."""

    positional_encoding: Encoding = "sinusoidal"
    causal_decoder: bool = True


class RecurrentAttentionRun(TranslatorRun):
    """The recurrent study's GRU/LSTM encoder-decoder with attention; `attention` picks the score."""

    attention: AttentionKind = "additive"
    cell: Literal["gru", "lstm"] = "gru"
    num_layers: Literal[1] = 1
    forget_bias: float = 1.0  # an lstm cell's initial forget-gate bias, as in the recurrent study


def _distinct(items: list) -> list:
    # A matrix axis: a repeated value would be two DVC stages of one name.
    if len(set(items)) != len(items):
        raise ValueError(f"must not repeat a value, got {items}")
    return items


class PositionsParams(Schema):
    encodings: list[Encoding] = Field(min_length=1)  # the matrix axis of train_ablations_positions

    _encodings_distinct = field_validator("encodings")(_distinct)


class AttentionParams(Schema):
    kinds: list[AttentionKind] = Field(min_length=1)  # the matrix axis of train_ablations_attention
    run: RecurrentAttentionRun

    _kinds_distinct = field_validator("kinds")(_distinct)

    @model_validator(mode="after")
    def _kind_comes_from_the_matrix(self) -> AttentionParams:
        if "attention" in self.run.model_fields_set:
            raise ValueError("run.attention: set by the matrix axis `kinds` (remove the key)")
        return self


class AblationsParams(Schema):
    # Replicate r trains with seed `seed + r`: the spread the report compares differences with.
    replicates: list[int] = Field(min_length=1)
    # The transformer ablations train on their dataset's words of at most this many characters
    # (both splits filtered); every longer word of the dataset is the length-generalisation test.
    train_max_length: PositiveInt
    # Source-length buckets of the length test: bucket i holds lengths [edges[i], edges[i+1]), the last is open.
    length_buckets: list[PositiveInt] = Field(min_length=1)
    transformer: TransformerVariantRun  # every transformer ablation; the experiments set the options
    positions: PositionsParams
    attention: AttentionParams

    @field_validator("replicates")
    @classmethod
    def _seed_offsets(cls, replicates: list[int]) -> list[int]:
        if len(set(replicates)) != len(replicates) or min(replicates) < 0:
            raise ValueError(f"must be distinct non-negative integers (seed offsets), got {replicates}")
        return replicates

    @field_validator("length_buckets")
    @classmethod
    def _increasing(cls, edges: list[int]) -> list[int]:
        if any(b <= a for a, b in zip(edges, edges[1:])):
            raise ValueError(f"bucket edges must increase, got {edges}")
        return edges

    @model_validator(mode="after")
    def _consistent(self) -> AblationsParams:
        if self.length_buckets[0] <= self.train_max_length:
            raise ValueError(
                f"length_buckets: the first bucket must start above train_max_length={self.train_max_length} "
                f"(they hold unseen lengths), got {self.length_buckets[0]}"
            )
        for key in ("positional_encoding", "causal_decoder"):
            if key in self.transformer.model_fields_set:
                raise ValueError(f"transformer.{key}: set by each experiment (remove the key)")
        return self

    def position_runs(self) -> dict[str, TransformerVariantRun]:
        """Run name -> settings of experiment 1, in the report's order."""
        return {
            positions_run(encoding, r): self.transformer.model_copy(update={"positional_encoding": encoding})
            for encoding in self.positions.encodings
            for r in self.replicates
        }


class Setup(StudySetup[AblationsParams, PigLatinParams]):
    """The study's setup, with the replicates' seeds and the short-word data the transformer ablations train on."""

    def seeded(self, replicate: int) -> SharedParams:
        """The shared settings of one replicate: seed `seed + replicate`."""
        return self.shared.model_copy(update={"seed": self.shared.seed + replicate})

    def short_words(self, root: Path) -> TranslatorData:
        """What the transformer ablations train on: the words of at most `train_max_length` characters."""
        config = self.config
        return TranslatorData(
            folder=root / PREPARED,
            name=f"piglatin-{config.transformer.dataset}-up-to-{config.train_max_length}",
            data_params=self.data.model_dump(include={"val_fraction", "split_seed"})
            | {"dataset": config.transformer.dataset, "train_max_length": config.train_max_length},
            prepare_stage=PREPARE_STAGE,
        )


def load(path: str | Path = PARAMS_FILE) -> Setup:
    return load_study(STUDY.name, AblationsParams, path, data=load_piglatin, checks=_check, setup=Setup)


def _check(setup: Setup) -> None:
    config = setup.config
    setup.data.check_dataset(config.transformer.dataset, f"{STUDY.name}.transformer.dataset")
    setup.data.check_dataset(config.attention.run.dataset, f"{STUDY.name}.attention.run.dataset")
    if "sinusoidal" not in config.positions.encodings:
        raise ValueError(
            f"{STUDY.name}.positions.encodings: must hold sinusoidal (the unmasked runs' causal "
            f"twin and the assignment's encoding), got {config.positions.encodings}"
        )
    decode = setup.data.eval.max_decode_len
    if "one-hot" in config.positions.encodings and config.transformer.hidden_size < decode:
        raise ValueError(
            f"{STUDY.name}.transformer.hidden_size: a one-hot position code has one dimension per position and "
            f"greedy decoding needs piglatin.eval.max_decode_len={decode} of them, got {config.transformer.hidden_size}"
        )
    top = max(config.replicates)
    if setup.shared.seed + top >= 2**32:
        raise ValueError(f"{STUDY.name}.replicates: seed + {top} must stay below 2**32, got seed {setup.shared.seed}")
