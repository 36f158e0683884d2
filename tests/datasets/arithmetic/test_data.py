"""Verbal-arithmetic data: the sign rule, the shipped CSVs, row errors and the reference split."""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd
import pytest

from pipeline.core.errors import PipelineError
from pipeline.datasets.arithmetic.data import (
    NUMBER_WORDS,
    Example,
    check_disjoint,
    label_counts,
    read_examples,
    sign_class,
    split_examples,
    write_examples,
)

ROOT = Path(__file__).resolve().parents[3]
TRAIN = ROOT / "data/raw/verbal_arithmetic_train.csv"
TEST = ROOT / "data/raw/verbal_arithmetic_test.csv"


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("eight minus ten", 0),
        ("eighteen minus eighteen", 1),
        ("four plus seven", 2),
        ("zero plus zero", 1),
        ("zero minus one", 0),
        ("nineteen minus zero", 2),
        ("zero minus nineteen", 0),
    ],
)
def test_sign_class_hand_picked(text, label):
    assert sign_class(text) == label


@pytest.mark.parametrize("text", ["eight minus", "twenty plus one", "one times two", "One plus two", "one  plus two"])
def test_sign_class_rejects_malformed_expressions(text):
    with pytest.raises(ValueError, match="expected '<number> plus|minus <number>'"):
        sign_class(text)


def test_shipped_files_hold_every_expression_once_with_true_labels():
    train, test = read_examples(TRAIN), read_examples(TEST)  # every label is checked while reading
    assert (len(train), len(test)) == (640, 160)
    every = {f"{a} {op} {b}" for a, op, b in itertools.product(NUMBER_WORDS, ("plus", "minus"), NUMBER_WORDS)}
    assert {e.text for e in train} | {e.text for e in test} == every
    check_disjoint(train, test, TEST)
    # Independent count: a - b < 0 for b > a (190 pairs), = 0 on the diagonal plus 0+0 (21).
    assert sum(label_counts(train + test).values()) == 800
    assert label_counts(train + test) == {"negative": 190, "zero": 21, "positive": 589}


def test_reference_split_matches_a_pandas_rerun_of_the_reference_code():
    train, val = split_examples(read_examples(TRAIN), val_fraction=0.3, seed=42)
    assert (len(train), len(val)) == (448, 192)
    from sklearn.model_selection import train_test_split

    frame = pd.read_csv(TRAIN, index_col=0)  # what the assignment's notebook did
    ref_train, ref_val = train_test_split(frame, test_size=0.3, stratify=frame["label"], random_state=42)
    assert [e.index for e in train] == list(ref_train.index)
    assert [e.index for e in val] == list(ref_val.index)
    # Stratified: each class keeps its share within one row.
    everything = label_counts(train + val)
    for label, count in label_counts(val).items():
        assert abs(count - 0.3 * everything[label]) <= 1


@pytest.mark.parametrize(
    ("val_fraction", "sizes"),
    [(0.999, "leaves 0 training and 640 validation"), (0.001, "leaves 639 training and 1 validation")],
    ids=["no-training-example", "one-validation-example"],
)
def test_a_split_too_lopsided_to_stratify_names_val_fraction(val_fraction, sizes):
    with pytest.raises(PipelineError) as caught:
        split_examples(read_examples(TRAIN), val_fraction=val_fraction, seed=42)
    assert str(caught.value) == (
        f"params.yaml: arithmetic.val_fraction: {sizes} examples of the 640; "
        f"a stratified split needs at least 3 (one per label) on each side, got {val_fraction}"
    )
    train, val = split_examples(read_examples(TRAIN), val_fraction=0.995, seed=42)  # 3 left: one per label
    assert (len(train), len(val)) == (3, 637)


def test_written_split_reads_back(tmp_path):
    examples = read_examples(TEST)
    write_examples(tmp_path / "test.csv", examples)
    assert read_examples(tmp_path / "test.csv") == examples
    assert (tmp_path / "test.csv").read_text().splitlines()[0] == "index,input,label"


HEADER = ",input,label\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("1,four plus seven,0\n", r":2: label 0 \(negative\) is wrong for 'four plus seven': its result is positive \(2\)"),
        ("1,four plus seven,2\n2,seven minus seven,2\n", r":3: label 2 \(positive\) is wrong for 'seven minus seven'"),
        ("1,four plus seven\n", r":2: expected 3 comma-separated fields"),
        ("x,four plus seven,2\n", r":2: index must be a non-negative integer, got 'x'"),
        ("1,four plus twenty,2\n", r":2: expected '<number> plus\|minus <number>'"),
        ("1,four plus seven,3\n", r":2: label must be 0 \(negative\), 1 \(zero\) or 2 \(positive\), got '3'"),
        ("1,four plus seven,2\n2,four plus seven,2\n", r":3: 'four plus seven' already appears on line 2"),
        ("", r": no rows after the header"),
    ],
)
def test_bad_rows_fail_with_file_and_line(tmp_path, body, message):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    with pytest.raises(PipelineError, match=f"^{path}{message}"):
        read_examples(path)


def test_bad_header_and_missing_file(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,text,label\n1,four plus seven,2\n", encoding="utf-8")
    with pytest.raises(PipelineError, match=r"bad.csv:1: expected the header index,input,label"):
        read_examples(path)
    with pytest.raises(PipelineError, match="nope.csv: file not found"):
        read_examples(tmp_path / "nope.csv")


def test_a_test_sentence_also_in_train_is_refused(tmp_path):
    train = [Example(1, "one plus one", 2)]
    test = [Example(2, "two plus two", 2), Example(3, "one plus one", 2)]
    with pytest.raises(PipelineError, match=r"test.csv:3: 'one plus one' is also in the train file"):
        check_disjoint(train, test, tmp_path / "test.csv")
