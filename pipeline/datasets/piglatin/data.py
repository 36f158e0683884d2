"""English -> Pig Latin word pairs: the rule, the alphabet, raw-file validation, the
train/validation split and the statistics of the prepare stage."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np

from pipeline.translators.pairs import Pair
from pipeline.translators.pairs import read_pairs as read_pair_lines
from pipeline.translators.vocab import Vocabulary

VOWELS = "aeiou"
ALPHABET = "-abcdefghijklmnopqrstuvwxyz"  # every character of both languages
PAIR_LINE = re.compile(r"([a-z-]+) ([a-z-]+)")


def to_pig_latin(word: str) -> str:
    """Translate one word with the rule that generated the dataset.

    Words starting with a, e, i, o, u get `way`; otherwise the letters before the first
    vowel move to the end, then `ay`. Here `y` counts as a vowel (so `yet` -> `yetay`,
    `try` -> `ytray`), a `u` right after `q` does not (`quiet` -> `ietquay`), a word with
    no vowel moves whole (`mr` -> `mray`), and hyphenated words go part by part.
    """
    if "-" in word:
        return "-".join(to_pig_latin(part) for part in word.split("-"))
    if not word:
        return word
    if word[0] in VOWELS:
        return word + "way"
    split = len(word)
    for i, ch in enumerate(word):
        if ch in VOWELS + "y" and not (ch == "u" and i > 0 and word[i - 1] == "q"):
            split = i
            break
    return word[split:] + word[:split] + "ay"


def vocabulary() -> Vocabulary:
    """The translators' vocabulary: the three special tokens, then `ALPHABET`."""
    return Vocabulary(ALPHABET)


def read_pairs(path: Path) -> list[Pair]:
    """Parse raw `english piglatin` lines; a malformed or repeated line fails with `file:line: what is wrong`."""
    return read_pair_lines(path, _raw_pair)


def _raw_pair(line: str) -> Pair:
    match = PAIR_LINE.fullmatch(line)
    if not match:
        raise ValueError(_what_is_wrong(line))
    return Pair(*match.groups())


def _what_is_wrong(line: str) -> str:
    if not line.strip():
        return "empty line; expected 'english piglatin'"
    fields = line.split(" ")
    if len(fields) != 2 or not all(fields):
        return f"expected two words separated by one space ('english piglatin'), got {line!r}"
    bad = sorted({ch for ch in line if ch != " " and not ("a" <= ch <= "z" or ch == "-")})
    return f"character(s) {', '.join(map(repr, bad))} not allowed (lowercase a-z and '-' only) in {line!r}"


def rule_violations(pairs: list[Pair]) -> list[Pair]:
    """Pairs whose target is not what the Pig Latin rule gives for the source."""
    return [pair for pair in pairs if to_pig_latin(pair.source) != pair.target]


def split_sizes(n_pairs: int, val_fraction: float) -> tuple[int, int]:
    """(training, validation) pairs that `split_pairs` makes of `n_pairs`."""
    n_val = round(n_pairs * val_fraction)
    return n_pairs - n_val, n_val


def split_pairs(pairs: list[Pair], val_fraction: float, seed: int) -> tuple[list[Pair], list[Pair]]:
    """Seeded shuffle, then the first (1 - val_fraction) as train, the rest as validation."""
    order = np.random.default_rng(seed).permutation(len(pairs))
    n_train, _ = split_sizes(len(pairs), val_fraction)
    shuffled = [pairs[i] for i in order]
    return shuffled[:n_train], shuffled[n_train:]


def dataset_statistics(pairs: list[Pair], train: list[Pair], val: list[Pair]) -> dict:
    source_lengths = Counter(len(p.source) for p in pairs)
    target_lengths = Counter(len(p.target) for p in pairs)
    buckets = Counter((len(p.source), len(p.target)) for p in train)
    violations = rule_violations(pairs)
    duplicates = [w for w, n in Counter(p.source for p in pairs).items() if n > 1]
    return {
        "pairs": len(pairs),
        "train_pairs": len(train),
        "val_pairs": len(val),
        "rule_violations": len(violations),
        "rule_violation_pairs": [f"{p.source} {p.target}" for p in violations],
        "duplicate_source_words": sorted(duplicates),
        "hyphenated_pairs": sum("-" in p.source for p in pairs),
        "source_length": _length_summary(source_lengths),
        "target_length": _length_summary(target_lengths),
        "train_length_buckets": len(buckets),
        "source_length_histogram": {str(k): v for k, v in sorted(source_lengths.items())},
        "target_length_histogram": {str(k): v for k, v in sorted(target_lengths.items())},
    }


def _length_summary(counts: Counter) -> dict:
    lengths = np.repeat(list(counts.keys()), list(counts.values()))
    return {
        "min": int(lengths.min()),
        "max": int(lengths.max()),
        "mean": round(float(lengths.mean()), 3),
        "median": float(np.median(lengths)),
    }
