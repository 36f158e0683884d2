"""The `piglatin` section of params.yaml: raw files, the split, the shared evaluation."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from pipeline.core.params import PARAMS_FILE, Float, Schema, Seed, Slug, load_section
from pipeline.datasets.piglatin import STUDY, prepared_dir
from pipeline.datasets.piglatin.data import split_sizes, vocabulary
from pipeline.translators.pairs import TranslatorData
from pipeline.translators.params import TranslationEval


class PigLatinEval(TranslationEval):
    @field_validator("sentences", "attention_words")
    @classmethod
    def _translatable(cls, sentences: list[str]) -> list[str]:  # sentences, or single words
        vocab = vocabulary()
        for i, sentence in enumerate(sentences):
            unknown = vocab.unknown_characters(sentence.lower())  # translation lowercases first
            if unknown:
                raise ValueError(f"{i}: character(s) {', '.join(map(repr, unknown))} not in the vocabulary, got {sentence!r}")
        return sentences


class PigLatinParams(Schema):
    files: dict[Slug, str] = Field(min_length=1)  # dataset name -> raw file
    val_fraction: Float = Field(gt=0, lt=1)
    split_seed: Seed
    eval: PigLatinEval

    def prepared(self, root: Path, dataset: str) -> TranslatorData:
        """What a translator trains on: the prepared folder of `dataset`."""
        return TranslatorData(
            folder=root / prepared_dir(dataset),
            name=f"piglatin-{dataset}",
            data_params=self.model_dump(include={"val_fraction", "split_seed"}),
            prepare_stage="prepare_piglatin",
        )

    def check_split(self, dataset: str, n_pairs: int) -> None:
        """`val_fraction` must leave a pair on each side of `dataset`'s split (which depends on its size)."""
        n_train, n_val = split_sizes(n_pairs, self.val_fraction)
        if not n_train or not n_val:
            raise ValueError(
                f"{STUDY.name}.val_fraction: leaves {n_train} training and {n_val} validation pairs of the "
                f"{n_pairs} in {self.files[dataset]} (each side needs at least one), got {self.val_fraction}"
            )

    def check_dataset(self, dataset: str, key: str) -> None:
        """A translator's dataset must be one this study prepares."""
        if dataset not in self.files:
            raise ValueError(f"{key}: must be one of {sorted(self.files)} (piglatin.files), got {dataset!r}")


def load(path: str | Path = PARAMS_FILE) -> PigLatinParams:
    return load_section(STUDY.name, PigLatinParams, path)
