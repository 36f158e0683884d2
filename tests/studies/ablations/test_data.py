"""The length split and the length buckets, against hand-made cases."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.studies.ablations.data import LONGER, bucket_labels, bucket_table, length_bucket, split_by_length, totals
from pipeline.translators.pairs import Pair


def _pair(word: str) -> Pair:
    return Pair(word, word + "ay")


def test_split_keeps_short_words_on_their_side_and_pools_the_long_ones():
    train = [_pair("ab"), _pair("abcdefgh"), _pair("abc")]
    val = [_pair("abcdefghij"), _pair("xy")]
    short_train, short_val, long = split_by_length(train, val, max_length=3)
    assert short_train == [_pair("ab"), _pair("abc")]
    assert short_val == [_pair("xy")]
    assert long == [_pair("abcdefgh"), _pair("abcdefghij")]  # from both splits, never trained on


@pytest.mark.parametrize(
    ("edges", "labels", "by_length"),
    [
        ([8, 10, 12], ["1-7", "8-9", "10-11", "12-up"], {1: "1-7", 7: "1-7", 8: "8-9", 9: "8-9", 10: "10-11", 12: "12-up", 30: "12-up"}),
        ([10], ["1-7", "8-9", "10-up"], {8: "8-9", 9: "8-9", 10: "10-up"}),  # the gap below the first edge is a bucket
        ([8], ["1-7", "8-up"], {7: "1-7", 8: "8-up"}),
    ],
)
def test_bucket_labels(edges, labels, by_length):
    assert bucket_labels(edges, 7) == labels
    assert {n: length_bucket(n, edges, 7) for n in by_length} == by_length


def test_bucket_table_sums_counts_and_weights_the_loss_by_characters():
    rows = pd.DataFrame(
        # source_length, words, unrepresentable, correct, loss_sum, characters
        [(3, 10, 0, 8, 5.0, 60), (8, 4, 0, 1, 12.0, 44), (9, 2, 1, 0, 6.0, 12), (12, 1, 1, 0, 0.0, 0)],
        columns=["source_length", "words", "unrepresentable", "correct", "loss_sum", "characters"],
    )
    table = bucket_table(rows, [8, 10], max_length=7)
    assert list(table) == ["1-7", "8-9", "10-up", LONGER]
    assert table["1-7"] == {"words": 10, "unrepresentable": 0, "word_accuracy": 0.8, "loss": 5.0 / 60}
    assert table["8-9"] == {"words": 6, "unrepresentable": 1, "word_accuracy": 1 / 6, "loss": 18.0 / 56}
    assert table["10-up"]["loss"] is None  # nothing representable: no loss, not 0 and not NaN
    assert table[LONGER] == totals(rows[rows["source_length"] > 7])
    assert table[LONGER] == {"words": 7, "unrepresentable": 2, "word_accuracy": 1 / 7, "loss": 18.0 / 56}
