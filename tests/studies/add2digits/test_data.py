"""The Add2Digits generator and files, checked against independent recomputation."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from pipeline.core.errors import PipelineError
from pipeline.studies.add2digits.data import (
    EXTENDED,
    REFERENCE,
    Sequences,
    generate,
    read_sequences,
    rng_for,
    statistics,
    tokens,
    write_sequences,
)
from pipeline.studies.add2digits.stages import expected_majority_baseline


@pytest.mark.parametrize("length", [3, 5, 30])
def test_every_row_has_one_marker_in_range_and_the_label_of_its_digits(length):
    data = generate(3000, length, rng_for(0, length, REFERENCE))
    assert data.digits.shape == (3000, length) and data.labels.shape == (3000,)
    positions = []
    for row, label in zip(data.digits.tolist(), data.labels.tolist()):
        assert row.count(-1) == 1 and all(0 <= d <= 9 for d in row if d != -1)
        position = row.index(-1)
        positions.append(position)
        assert label == row[position + 1] + row[-1]  # recomputed from the row itself
    # Every allowed position occurs, and none of the last two.
    assert sorted(set(positions)) == list(range(length - 2))
    assert data.labels.min() >= 0 and data.labels.max() <= 18


def test_labels_follow_the_sum_of_two_uniform_digits():
    data = generate(20000, 6, np.random.default_rng(5))
    frequencies = np.bincount(data.labels, minlength=19) / len(data)
    expected = np.convolve(np.full(10, 0.1), np.full(10, 0.1))  # P(a + b = k)
    np.testing.assert_allclose(frequencies, expected, atol=0.01)
    assert expected_majority_baseline() == pytest.approx(expected.max()) == pytest.approx(0.10)


def test_seeds_reproduce_and_streams_differ():
    first = generate(50, 10, rng_for(7, 10, EXTENDED, 1))
    again = generate(50, 10, rng_for(7, 10, EXTENDED, 1))
    assert np.array_equal(first.digits, again.digits) and np.array_equal(first.labels, again.labels)
    for other in (rng_for(7, 10, EXTENDED, 2), rng_for(7, 10, REFERENCE, 1), rng_for(8, 10, EXTENDED, 1)):
        assert not np.array_equal(generate(50, 10, other).digits, first.digits)


def test_too_short_a_sequence_is_refused():
    with pytest.raises(ValueError, match="at least 3, got 2"):
        generate(5, 2, np.random.default_rng(0))


def test_tokens_put_the_marker_after_the_ten_digits():
    assert tokens(np.array([[3, -1, 0, 9]])).tolist() == [[3, 10, 0, 9]]


def test_files_round_trip(tmp_path):
    data = generate(40, 7, np.random.default_rng(1))
    write_sequences(tmp_path / "set.csv", data)
    assert (tmp_path / "set.csv").read_text().splitlines()[0] == "sequence,label"
    back = read_sequences(tmp_path / "set.csv")
    assert np.array_equal(back.digits, data.digits) and np.array_equal(back.labels, data.labels)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("1 -1 2 3,6", "label 6 is not 2 + 3"),
        ("1 2 -1 3,4", "the marker must not be in the last two positions"),
        ("-1 -1 2 3,5", "exactly one -1"),
        ("1 -1 12 3,15", "exactly one -1"),
        ("1 -1 2,3", "expected 4 tokens like the first row, got 3"),
        ("1 -1 x 3,4", "space-separated digits"),
    ],
)
def test_a_bad_row_fails_with_file_and_line(tmp_path, row, message):
    path = tmp_path / "set.csv"
    path.write_text(f"sequence,label\n4 -1 5 6,11\n{row}\n")
    with pytest.raises(PipelineError) as error:
        read_sequences(path)
    assert str(error.value).startswith(f"{path}:3: ") and message in str(error.value)


def test_statistics_count_classes_and_score_the_training_majority():
    labels = {"train": [3, 3, 3, 5, 9], "test": [3, 9, 9, 1]}
    splits = {k: Sequences(np.zeros((len(v), 4), dtype=np.int64), np.array(v)) for k, v in labels.items()}
    stats = statistics(splits)
    assert stats["majority_class"] == Counter(labels["train"]).most_common(1)[0][0] == 3
    assert stats["train"]["class_histogram"][3] == 3 and sum(stats["test"]["class_histogram"]) == 4
    assert stats["test"]["majority_accuracy"] == 0.25 and stats["train"]["majority_accuracy"] == 0.6
