"""The Pig Latin rule, the shipped data, parsing errors, the train/val split and the vocabulary."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from pipeline.core.errors import PipelineError
from pipeline.datasets.piglatin.data import read_pairs, rule_violations, split_pairs, to_pig_latin, vocabulary
from pipeline.translators.pairs import Pair

ROOT = Path(__file__).resolve().parents[3]
SMALL = ROOT / "data/raw/pig_latin_small.txt"
LARGE = ROOT / "data/raw/pig_latin_large.txt"


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("quiet", "ietquay"),
        ("yet", "yetay"),
        ("try", "ytray"),
        ("mr", "mray"),
        ("bond-street", "ondbay-eetstray"),
        ("apple", "appleway"),
        ("string", "ingstray"),
        ("-and", "-andway"),
        ("a-piece", "away-iecepay"),
        ("the", "ethay"),
        ("queen", "eenquay"),
        ("u", "uway"),
    ],
)
def test_to_pig_latin_hand_picked(word, expected):
    assert to_pig_latin(word) == expected


def test_small_dataset_follows_the_rule():
    pairs = read_pairs(SMALL)
    assert len(pairs) == 3191
    assert rule_violations(pairs) == []


def test_large_dataset_breaks_the_rule_exactly_twice():
    pairs = read_pairs(LARGE)
    assert len(pairs) == 22385
    assert rule_violations(pairs) == [Pair("md", "mayday"), Pair("mp", "maypay")]


def test_read_pairs_parses_lines(tmp_path):
    path = tmp_path / "ok.txt"
    path.write_text("apple appleway\nbond-street ondbay-eetstray\n", encoding="utf-8")
    assert read_pairs(path) == [Pair("apple", "appleway"), Pair("bond-street", "ondbay-eetstray")]


GOOD = "apple appleway\nthe ethay\n"


@pytest.mark.parametrize(
    ("text", "line", "fragments"),
    [
        (GOOD + "lonely\n", 3, ["two words", "'lonely'"]),
        (GOOD + "one two three\n", 3, ["two words", "'one two three'"]),
        ("Apple appleway\n" + GOOD, 1, ["'A'", "not allowed"]),
        (GOOD + "r2d2 d2ray\n", 3, ["'2'", "not allowed"]),
        ("apple appleway\n\nthe ethay\n", 2, ["empty line"]),
        (GOOD + "café afécay\n", 3, ["'é'"]),
        (GOOD + "the  ethay\n", 3, ["two words"]),
    ],
    ids=["one-word", "three-words", "uppercase", "digit", "empty-line", "accent", "double-space"],
)
def test_read_pairs_names_file_line_and_problem(tmp_path, text, line, fragments):
    path = tmp_path / "bad.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PipelineError) as caught:
        read_pairs(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: ")
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize(
    ("reader", "text", "line", "pair", "first"),
    [
        ("raw", "apple appleway\nthe ethay\nmd mayday\nthe ethay\n", 4, "the ethay", 2),
        ("prepared", "apple appleway\nthe ethay\napple appleway\n", 3, "apple appleway", 1),
    ],
)
def test_a_duplicate_pair_names_both_lines(tmp_path, reader, text, line, pair, first):
    from pipeline.translators.pairs import read_pairs as read_prepared

    path = tmp_path / "pairs.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PipelineError) as caught:
        (read_pairs if reader == "raw" else read_prepared)(path)
    assert str(caught.value) == f"{path}:{line}: duplicate pair {pair!r}, first at {path}:{first}"


def test_a_source_word_with_two_targets_is_no_duplicate(tmp_path):
    path = tmp_path / "raw.txt"
    path.write_text("md mayday\nmd mday\n", encoding="utf-8")
    assert read_pairs(path) == [Pair("md", "mayday"), Pair("md", "mday")]


def test_read_pairs_empty_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("", encoding="utf-8")
    with pytest.raises(PipelineError) as caught:
        read_pairs(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert "empty" in str(caught.value)


def test_read_pairs_missing_file(tmp_path):
    path = tmp_path / "nope.txt"
    with pytest.raises(PipelineError) as caught:
        read_pairs(path)
    assert str(caught.value) == f"{path}: file not found"


def test_read_pairs_not_utf8(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("caf\xe9 af\xe9cay\n".encode("latin-1"))
    with pytest.raises(PipelineError) as caught:
        read_pairs(path)
    assert str(caught.value).startswith(f"{path}: not UTF-8")


def _pairs(n: int) -> list[Pair]:
    return [Pair(f"w{i}", f"t{i}") for i in range(n)]


def test_split_pairs_deterministic_sized_and_a_partition():
    pairs = read_pairs(SMALL)
    train, val = split_pairs(pairs, 0.2, seed=0)
    train_again, val_again = split_pairs(pairs, 0.2, seed=0)
    assert (train, val) == (train_again, val_again)

    assert len(val) == round(len(pairs) * 0.2) == 638
    assert len(train) == len(pairs) - 638
    assert Counter(train) + Counter(val) == Counter(pairs)
    # The small set has no duplicate pairs, so the two halves are disjoint.
    assert len(set(pairs)) == len(pairs)
    assert not set(train) & set(val)
    # It is a shuffle, not the file order.
    assert train != pairs[: len(train)]


def test_split_pairs_depends_on_seed():
    pairs = _pairs(100)
    train0, val0 = split_pairs(pairs, 0.2, seed=0)
    train1, val1 = split_pairs(pairs, 0.2, seed=1)
    assert set(val0) != set(val1)
    assert train0 != train1
    assert len(train0) == len(train1) == 80 and len(val0) == len(val1) == 20


def test_split_pairs_keeps_duplicates_as_a_multiset():
    pairs = _pairs(10) + _pairs(10)[:5]
    train, val = split_pairs(pairs, 0.2, seed=3)
    assert Counter(train) + Counter(val) == Counter(pairs)
    assert (len(train), len(val)) == (12, 3)


def test_vocabulary_is_the_specials_then_the_alphabet():
    vocab = vocabulary()
    assert len(vocab) == 30
    assert (vocab.sos, vocab.eos, vocab.eop) == (0, 1, 2)
    assert vocab.tokens[3:] == list("-abcdefghijklmnopqrstuvwxyz")


def test_vocabulary_covers_every_shipped_word():
    vocab = vocabulary()
    for path in (SMALL, LARGE):
        for pair in read_pairs(path):
            assert vocab.unknown_characters(pair.source + pair.target) == [], pair
