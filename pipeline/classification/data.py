"""A reference notebook's train/validation split, made from the shipped CSVs, for either classifier study.

The 2021 notebook split its train CSV with `train_test_split(test_size=0.2, random_state=2021)`:
not stratified, on the rows in the file's order, which selects exactly its 512 train / 128
validation sentences. The `arithmetic` study's prepared splits are the 2025 BERT reference's
(stratified 70/30, rows reordered), from which that split cannot be recovered, so the rows
are read from the shipped CSVs with that study's checked reader. The GPT study trains on this
split; a BERT variant may too, so that the two are compared on the same sentences.

Light on purpose (sklearn imported inside): the params modules import the schema.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from pipeline.core.errors import PipelineError
from pipeline.core.params import Float, Schema, Seed
from pipeline.datasets.arithmetic.data import Example, check_disjoint, read_examples

SPLITS = ("train", "val", "test")
CSV_SPLIT = "train CSV"  # the `split.source` a run logs when it trained on such a split


class CsvSplit(Schema):
    """How the train CSV is split into train/validation (the test CSV stays held out)."""

    val_fraction: Float = Field(gt=0, lt=1)
    seed: Seed
    stratify: bool


def split_examples(examples: list[Example], split: CsvSplit, key: str) -> tuple[list[Example], list[Example]]:
    """(train, validation); `key` names the params entry in errors."""
    from sklearn.model_selection import train_test_split

    labels = [e.label for e in examples] if split.stratify else None
    try:
        train, val = train_test_split(examples, test_size=split.val_fraction, stratify=labels, random_state=split.seed)
    except ValueError as error:
        raise PipelineError(f"{key}: cannot split {len(examples)} examples: {error}") from None
    return list(train), list(val)


def load_splits(train_file: Path, test_file: Path, split: CsvSplit, key: str) -> dict[str, list[Example]]:
    """{train, val, test}: every row checked (label = sign of the expression), test held out."""
    labelled = read_examples(train_file)
    test = read_examples(test_file)
    check_disjoint(labelled, test, test_file)
    train, val = split_examples(labelled, split, key)
    return {"train": train, "val": val, "test": test}
