"""Where translators fail: validation-word accuracy by the kind of word.

Pig Latin's rule depends on how a word starts (a vowel: add `way`; consonants up to the
first vowel move to the end, `qu` moving as one; a leading `y` is a consonant), and
hyphenated words translate part by part, so those are the categories; length buckets
show whether long words defeat a model. A word may fall into several categories.
Torch-free: the report imports it.
"""

from __future__ import annotations

import pandas as pd

VOWELS = set("aeiou")
LENGTH_BUCKETS = ((1, 3), (4, 6), (7, 9), (10, None))


def _leading_consonants(word: str) -> str:
    head = ""
    for position, char in enumerate(word):
        if char in VOWELS and not (char == "u" and position > 0 and word[position - 1] == "q"):
            break
        head += char
    return head


def categories(word: str) -> list[str]:
    """The categories of one (English, lower-case) source word."""
    found = []
    if "-" in word:
        found.append("hyphenated")
    first = word.split("-")[0]
    if first and first[0] in VOWELS:
        found.append("vowel-initial")
    elif first.startswith("y"):
        found.append("y-initial")
    head = _leading_consonants(first)
    if "qu" in head:
        found.append("qu")
    if len(head.replace("qu", "q")) >= 2:
        found.append("consonant cluster")
    elif len(head) == 1 and not first.startswith("y"):
        found.append("single consonant")
    found.append(length_bucket(len(word)))
    return found


def length_bucket(length: int) -> str:
    for low, high in LENGTH_BUCKETS:
        if high is None and length >= low:
            return f"length {low}+"
        if high is not None and low <= length <= high:
            return f"length {low}-{high}"
    raise ValueError(f"no bucket for length {length}")


CATEGORY_ORDER = [
    "vowel-initial",
    "single consonant",
    "consonant cluster",
    "qu",
    "y-initial",
    "hyphenated",
    *(f"length {low}+" if high is None else f"length {low}-{high}" for low, high in LENGTH_BUCKETS),
]


def accuracy_by_category(predictions: pd.DataFrame) -> pd.DataFrame:
    """predictions: source, correct (one row per validation word) -> category, words, accuracy."""
    rows = [
        (category, bool(correct))
        for source, correct in zip(predictions["source"], predictions["correct"])
        for category in categories(source)
    ]
    frame = pd.DataFrame(rows, columns=["category", "correct"])
    table = frame.groupby("category")["correct"].agg(words="size", accuracy="mean")
    order = [c for c in CATEGORY_ORDER if c in table.index]
    return table.loc[order].reset_index()
