"""Word categories of the error analysis, on words whose Pig Latin rule is known."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.studies.recurrent.analysis import accuracy_by_category, categories


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("apple", {"vowel-initial", "length 4-6"}),
        ("dog", {"single consonant", "length 1-3"}),
        ("string", {"consonant cluster", "length 4-6"}),
        ("queen", {"qu", "length 4-6"}),
        ("square", {"qu", "consonant cluster", "length 4-6"}),
        ("yellow", {"y-initial", "length 4-6"}),
        ("bond-street", {"hyphenated", "single consonant", "length 10+"}),
        ("onomatopoeia", {"vowel-initial", "length 10+"}),
        ("quick", {"qu", "length 4-6"}),
    ],
)
def test_categories(word, expected):
    assert set(categories(word)) == expected


def test_accuracy_by_category_counts_each_word_in_every_category():
    predictions = pd.DataFrame({"source": ["apple", "egg", "string", "square"], "correct": [True, False, True, False]})
    table = accuracy_by_category(predictions).set_index("category")
    assert table.loc["vowel-initial", "words"] == 2 and table.loc["vowel-initial", "accuracy"] == 0.5
    assert table.loc["consonant cluster", "words"] == 2 and table.loc["consonant cluster", "accuracy"] == 0.5
    assert table.loc["qu", "accuracy"] == 0.0
    assert table.loc["length 1-3", "words"] == 1
