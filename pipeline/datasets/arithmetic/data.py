"""Verbal arithmetic: `a plus b` / `a minus b` sentences labelled with the sign of the result.

The shipped CSVs (columns `index,input,label`; the header of the first column may be
empty, as pandas writes it) hold every such sentence for a, b in zero..nineteen. Every
row is checked, including that its label is the sign of the expression it states: a
wrong row fails with `file:line: what is wrong`.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.errors import PipelineError
from pipeline.core.io import read_text

NUMBER_WORDS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
OPERATORS = ("plus", "minus")
LABELS = ("negative", "zero", "positive")  # class index = sign of the result + 1
COLUMNS = ("index", "input", "label")


@dataclass(frozen=True)
class Example:
    index: int  # the row id in the original dataset
    text: str  # e.g. "five minus twelve"
    label: int  # 0 negative, 1 zero, 2 positive


def parse_expression(text: str) -> tuple[int, str, int]:
    """`"five minus twelve"` -> (5, "minus", 12); anything else raises ValueError."""
    words = text.split(" ")
    if len(words) != 3 or words[0] not in NUMBER_WORDS or words[1] not in OPERATORS or words[2] not in NUMBER_WORDS:
        raise ValueError(f"expected '<number> plus|minus <number>' with numbers zero..nineteen, got {text!r}")
    return NUMBER_WORDS.index(words[0]), words[1], NUMBER_WORDS.index(words[2])


def sign_class(text: str) -> int:
    """The true label of an expression: 0 if its result is negative, 1 if zero, 2 if positive."""
    a, operator, b = parse_expression(text)
    result = a + b if operator == "plus" else a - b
    return (result > 0) - (result < 0) + 1


def read_examples(path: Path) -> list[Example]:
    """Parse and check one CSV; a malformed row or a wrong label fails with `file:line`."""
    path = Path(path)
    text = read_text(path)
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise PipelineError(f"{path}: empty file; expected a header {','.join(COLUMNS)}")
    header = tuple(rows[0])
    if header not in (COLUMNS, ("",) + COLUMNS[1:]):
        raise PipelineError(f"{path}:1: expected the header {','.join(COLUMNS)}, got {','.join(header)!r}")

    examples: list[Example] = []
    first_seen: dict[str, int] = {}  # sentence -> line
    for line, row in enumerate(rows[1:], start=2):
        try:
            example = _parse_row(row)
        except ValueError as error:
            raise PipelineError(f"{path}:{line}: {error}") from None
        if example.text in first_seen:
            raise PipelineError(f"{path}:{line}: {example.text!r} already appears on line {first_seen[example.text]}")
        first_seen[example.text] = line
        examples.append(example)
    if not examples:
        raise PipelineError(f"{path}: no rows after the header")
    return examples


def _parse_row(row: list[str]) -> Example:
    if len(row) != len(COLUMNS):
        raise ValueError(f"expected {len(COLUMNS)} comma-separated fields ({','.join(COLUMNS)}), got {len(row)}: {row!r}")
    index, text, label = row
    if not index.isdigit():
        raise ValueError(f"index must be a non-negative integer, got {index!r}")
    parse_expression(text)  # raises with a description of the expected form
    if label not in ("0", "1", "2"):
        raise ValueError(f"label must be 0 (negative), 1 (zero) or 2 (positive), got {label!r}")
    truth = sign_class(text)
    if int(label) != truth:
        raise ValueError(f"label {label} ({LABELS[int(label)]}) is wrong for {text!r}: its result is {LABELS[truth]} ({truth})")
    return Example(int(index), text, int(label))


def check_disjoint(train: list[Example], test: list[Example], test_file: Path) -> None:
    """A sentence in both files would leak test answers into training."""
    seen = {e.text for e in train}
    for line, example in enumerate(test, start=2):
        if example.text in seen:
            raise PipelineError(f"{test_file}:{line}: {example.text!r} is also in the train file (test rows must be held out)")


def split_examples(
    examples: list[Example], val_fraction: float, seed: int, key: str = "arithmetic.val_fraction"
) -> tuple[list[Example], list[Example]]:
    """The reference split: stratified by label, scikit-learn's shuffle with `seed`; `key` names the fraction in errors."""
    from sklearn.model_selection import train_test_split

    labels = [e.label for e in examples]
    # scikit-learn's sizes (validation rounded up); a stratified split needs every label on both sides.
    n_val = math.ceil(val_fraction * len(examples))
    n_train, n_labels = len(examples) - n_val, len(set(labels))
    if min(n_train, n_val) < n_labels:
        raise PipelineError(
            f"params.yaml: {key}: leaves {n_train} training and {n_val} validation examples of the {len(examples)}; "
            f"a stratified split needs at least {n_labels} (one per label) on each side, got {val_fraction}"
        )
    try:
        train, val = train_test_split(examples, test_size=val_fraction, stratify=labels, random_state=seed)
    except ValueError as error:  # e.g. a class with a single example cannot be stratified
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise PipelineError(
            f"params.yaml: {key}: cannot split {len(examples)} examples {val_fraction:.0%} stratified ({reason}), got {val_fraction}"
        ) from None
    return list(train), list(val)


def write_examples(path: Path, examples: list[Example]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows((e.index, e.text, e.label) for e in examples)


def label_counts(examples: list[Example]) -> dict[str, int]:
    counts = Counter(e.label for e in examples)
    return {name: counts.get(i, 0) for i, name in enumerate(LABELS)}
