"""The reference notebook's split of the train CSV, as both classifier studies make it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.classification.data import CsvSplit, load_splits
from pipeline.core.errors import PipelineError
from pipeline.datasets.arithmetic.data import read_examples

ROOT = Path(__file__).resolve().parents[2]


def test_split_is_the_reference_notebooks_512_128_not_stratified():
    import pandas as pd
    from sklearn.model_selection import train_test_split

    train_file, test_file = ROOT / "data/raw/verbal_arithmetic_train.csv", ROOT / "data/raw/verbal_arithmetic_test.csv"
    splits = load_splits(train_file, test_file, CsvSplit(val_fraction=0.2, seed=2021, stratify=False), "key")
    # The notebook: pd.read_csv, then train_test_split(df, test_size=0.2, random_state=2021).
    frame = pd.read_csv(train_file)
    reference_train, reference_val = train_test_split(frame, test_size=0.2, random_state=2021)
    assert [e.text for e in splits["train"]] == reference_train["input"].tolist()
    assert [e.text for e in splits["val"]] == reference_val["input"].tolist()
    assert (len(splits["train"]), len(splits["val"]), len(splits["test"])) == (512, 128, 160)
    assert [e.text for e in splits["test"]] == [e.text for e in read_examples(test_file)]
    stratified = load_splits(train_file, test_file, CsvSplit(val_fraction=0.2, seed=2021, stratify=True), "key")
    assert [e.text for e in stratified["val"]] != [e.text for e in splits["val"]]


def test_a_split_that_cannot_be_made_names_the_key(tmp_path):
    train = tmp_path / "train.csv"
    train.write_text("index,input,label\n1,one plus one,2\n")
    test = ROOT / "data/raw/verbal_arithmetic_test.csv"
    with pytest.raises(PipelineError, match=r"^params.yaml: bert.variants.x.split: cannot split 1 examples: "):
        load_splits(train, test, CsvSplit(val_fraction=0.2, seed=0, stratify=False), "params.yaml: bert.variants.x.split")
