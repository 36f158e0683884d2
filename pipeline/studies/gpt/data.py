"""The reference notebook's split: `train_test_split(train_csv, test_size=0.2, random_state=2021)`.

Not stratified, on the rows in the file's order, so it selects exactly the reference's
512 train / 128 validation sentences. The `arithmetic` study's prepared splits are the
BERT reference's (stratified 70/30, rows reordered), from which this split cannot be
recovered; so the rows are read from the shipped CSVs with that study's checked reader.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.core.errors import PipelineError
from pipeline.studies.arithmetic.data import Example, check_disjoint, read_examples
from pipeline.studies.gpt.params import GptSplit

SPLITS = ("train", "val", "test")


def split_examples(examples: list[Example], split: GptSplit) -> tuple[list[Example], list[Example]]:
    from sklearn.model_selection import train_test_split

    labels = [e.label for e in examples] if split.stratify else None
    try:
        train, val = train_test_split(examples, test_size=split.val_fraction, stratify=labels, random_state=split.seed)
    except ValueError as error:
        raise PipelineError(f"gpt.split: cannot split {len(examples)} examples: {error}") from None
    return list(train), list(val)


def load_splits(train_file: Path, test_file: Path, split: GptSplit) -> dict[str, list[Example]]:
    """{train, val, test}: every row checked (label = sign of the expression), test held out."""
    labelled = read_examples(train_file)
    test = read_examples(test_file)
    check_disjoint(labelled, test, test_file)
    train, val = split_examples(labelled, split)
    return {"train": train, "val": val, "test": test}
