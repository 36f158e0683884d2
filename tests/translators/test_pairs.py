"""Reading prepared pair files: the default parser, a custom one, and the one-line errors."""

from __future__ import annotations

import pytest

from pipeline.core.errors import PipelineError
from pipeline.translators.pairs import Pair, read_pairs


def test_a_prepared_file_gives_its_pairs_in_order(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("the ethay\nair airway\n", encoding="utf-8")
    assert read_pairs(path) == [Pair("the", "ethay"), Pair("air", "airway")]


@pytest.mark.parametrize("line", ["lonely", "one two three", "the  ethay", " the"])
def test_a_malformed_prepared_line_names_file_line_and_the_line(tmp_path, line):
    path = tmp_path / "train.txt"
    path.write_text(f"the ethay\n{line}\n", encoding="utf-8")
    with pytest.raises(PipelineError) as caught:
        read_pairs(path)
    assert str(caught.value) == f"{path}:2: expected two words separated by one space ('source target'), got {line!r}"


def test_a_custom_parser_says_what_is_wrong_and_read_pairs_says_where(tmp_path):
    def upper_only(line: str) -> Pair:
        if line != line.upper():
            raise ValueError("lowercase letters")
        return Pair(*line.split())

    path = tmp_path / "raw.txt"
    path.write_text("A B\nc d\n", encoding="utf-8")
    with pytest.raises(PipelineError, match=r"raw\.txt:2: lowercase letters$"):
        read_pairs(path, upper_only)
    path.write_text("A B\nC D\n", encoding="utf-8")
    assert read_pairs(path, upper_only) == [Pair("A", "B"), Pair("C", "D")]


def test_an_empty_file_has_no_pairs(tmp_path):
    path = tmp_path / "val.txt"
    path.write_text("", encoding="utf-8")
    with pytest.raises(PipelineError, match="no pairs found"):
        read_pairs(path)
