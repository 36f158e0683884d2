"""The vocabulary: fixed special tokens, encoding and decoding, its file and its one-line errors."""

from __future__ import annotations

import json

import pytest

from pipeline.core.errors import PipelineError
from pipeline.translators.vocab import SPECIALS, Vocabulary

VOCAB = Vocabulary("-abcdefghijklmnopqrstuvwxyz")


def test_specials_come_first_then_the_characters_in_order():
    vocab = Vocabulary("cab")
    assert vocab.tokens == ["<SOS>", "<EOS>", "<EOP>", "c", "a", "b"]
    assert (vocab.sos, vocab.eos, vocab.eop) == (0, 1, 2)
    assert len(vocab) == 6
    assert vocab.encode("abc") == [4, 5, 3]


def test_encode_decode_round_trip_and_eos():
    word = "bond-street"
    ids = VOCAB.encode(word)
    assert ids == [VOCAB.tokens.index(ch) for ch in word]
    assert VOCAB.decode(ids) == word
    assert VOCAB.decode(ids + [VOCAB.eos] + VOCAB.encode("junk")) == word
    assert VOCAB.decode([VOCAB.sos] + ids + [VOCAB.eop]) == word  # other specials dropped
    assert VOCAB.decode([VOCAB.eos] + ids) == ""


def test_unknown_characters_and_the_one_line_error():
    assert VOCAB.unknown_characters("ok fine-ish") == []
    assert VOCAB.unknown_characters("Hi there 2!") == ["!", "2", "H"]
    with pytest.raises(PipelineError) as caught:
        VOCAB.check_text("Hi there 2!", "where")
    message = str(caught.value)
    assert message.startswith("where: character(s) '!', '2', 'H' not in the vocabulary ('-abcdefghijklmnopqrstuvwxyz')")
    assert message.endswith("in 'Hi there 2!'") and "\n" not in message


def test_save_load_round_trip(tmp_path):
    path = tmp_path / "vocab.json"
    VOCAB.save(path)
    assert json.loads(path.read_text()) == {"tokens": [*SPECIALS, *"-abcdefghijklmnopqrstuvwxyz"]}
    loaded = Vocabulary.load(path)
    assert loaded.tokens == VOCAB.tokens
    assert loaded.characters == VOCAB.characters
    assert (loaded.sos, loaded.eos, loaded.eop) == (VOCAB.sos, VOCAB.eos, VOCAB.eop)
    assert loaded.encode("quiet") == VOCAB.encode("quiet")


def _load_error(path) -> str:
    with pytest.raises(PipelineError) as caught:
        Vocabulary.load(path)
    message = str(caught.value)
    assert "\n" not in message, message
    assert message.startswith(f"{path}"), message
    return message


def test_missing_file(tmp_path):
    path = tmp_path / "vocab.json"
    assert _load_error(path) == f"{path}: missing; run the dataset's prepare stage first"


def test_bad_json_names_file_and_line(tmp_path):
    path = tmp_path / "vocab.json"
    path.write_text('{\n  "tokens": ["<SOS>", "<EOS>", "<EOP>",\n  "a" "b"]\n}\n', encoding="utf-8")
    message = _load_error(path)
    assert message.startswith(f"{path}:3: not valid JSON (")


@pytest.mark.parametrize(
    "data",
    [
        {"tokens": ["<EOS>", "<SOS>", "<EOP>", "a"]},  # specials in the wrong order
        {"tokens": ["<SOS>", "<EOS>", "a"]},  # one special missing
        {"tokens": ["<PAD>", "<SOS>", "<EOS>", "<EOP>", "a"]},  # an extra special in front
        {"words": ["<SOS>", "<EOS>", "<EOP>", "a"]},  # wrong key
        {"tokens": "<SOS><EOS><EOP>a"},  # not a list
        ["<SOS>", "<EOS>", "<EOP>", "a"],  # not a mapping
    ],
    ids=["order", "missing-special", "extra-special", "wrong-key", "not-a-list", "not-a-mapping"],
)
def test_wrong_specials_are_one_line(tmp_path, data):
    path = tmp_path / "vocab.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert _load_error(path) == f"{path}: expected {{'tokens': [<SOS>, <EOS>, <EOP>, characters...]}}"


@pytest.mark.parametrize(
    "characters", [["a", "bc"], ["a", "a"], ["a", 1], ["a", ""]], ids=["two-characters", "duplicate", "number", "empty"]
)
def test_characters_must_be_distinct_single_characters(tmp_path, characters):
    path = tmp_path / "vocab.json"
    path.write_text(json.dumps({"tokens": [*SPECIALS, *characters]}), encoding="utf-8")
    assert _load_error(path) == f"{path}: tokens after the specials must be distinct single characters"
