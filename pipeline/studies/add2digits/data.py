"""The Add2Digits task: seeded sequences, their labels, the prepared CSV files and their statistics.

A sequence of L random digits 0-9 with exactly one marker -1 at a position in [0, L-3]
(never in the last two: the digit after the marker is never the last digit); the label is
that digit plus the last digit, a class in 0..18. The model sees one-hot vectors over 11
tokens: the ten digits, then the marker (index 10).

A prepared file is a CSV `sequence,label` (`3 -1 4 2 7,9`), read back with every row
checked, so a hand-edited or corrupt file fails with `file:line`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.core.errors import PipelineError
from pipeline.core.io import read_text

MARKER = -1
MARKER_TOKEN = 10  # the marker's one-hot index, after the ten digits
NUM_TOKENS = 11
NUM_CLASSES = 19  # 0 + 0 .. 9 + 9
COLUMNS = ("sequence", "label")
REFERENCE, EXTENDED = 0, 1  # data streams: one data set never repeats another's draws


@dataclass(frozen=True)
class Sequences:
    digits: np.ndarray  # (N, L) int64: digits 0..9 and one MARKER per row
    labels: np.ndarray  # (N,) int64 in 0..18

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, start: int, stop: int) -> Sequences:
        return Sequences(self.digits[start:stop], self.labels[start:stop])


def rng_for(data_seed: int, length: int, stream: int, replicate: int = 0) -> np.random.Generator:
    """The generator of one data set: its own stream per (seed, length, kind, replicate)."""
    return np.random.default_rng([data_seed, length, stream, replicate])


def generate(n: int, length: int, rng: np.random.Generator) -> Sequences:
    """`n` sequences of `length` digits with one marker each, and their labels."""
    if length < 3:
        raise ValueError(f"sequence length must be at least 3, got {length}")
    digits = rng.integers(0, 10, size=(n, length))
    positions = rng.integers(0, length - 2, size=n)  # [0, L-3]
    rows = np.arange(n)
    digits[rows, positions] = MARKER
    labels = digits[rows, positions + 1] + digits[:, -1]
    return Sequences(digits, labels)


def tokens(digits: np.ndarray) -> np.ndarray:
    """Digits as token ids: 0..9 themselves, the marker 10."""
    return np.where(digits == MARKER, MARKER_TOKEN, digits)


def write_sequences(path: Path, data: Sequences) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows((" ".join(map(str, row)), int(label)) for row, label in zip(data.digits.tolist(), data.labels))


def read_sequences(path: Path) -> Sequences:
    """A prepared CSV, every row checked: one marker, not in the last two positions, the right label."""
    path = Path(path)
    rows = list(csv.reader(read_text(path).splitlines()))
    if not rows or tuple(rows[0]) != COLUMNS:
        raise PipelineError(f"{path}:1: expected the header {','.join(COLUMNS)}")
    digits, labels = [], []
    for line, row in enumerate(rows[1:], start=2):
        try:
            sequence, label = _parse_row(row, len(digits[0]) if digits else None)
        except ValueError as error:
            raise PipelineError(f"{path}:{line}: {error}") from None
        digits.append(sequence)
        labels.append(label)
    if not labels:
        raise PipelineError(f"{path}: no rows after the header")
    return Sequences(np.array(digits, dtype=np.int64), np.array(labels, dtype=np.int64))


def _parse_row(row: list[str], length: int | None) -> tuple[list[int], int]:
    if len(row) != len(COLUMNS):
        raise ValueError(f"expected {len(COLUMNS)} fields ({','.join(COLUMNS)}), got {len(row)}")
    text, label = row
    try:
        sequence = [int(part) for part in text.split(" ")]
        value = int(label)
    except ValueError:
        raise ValueError(f"expected space-separated digits and an integer label, got {text!r},{label!r}") from None
    if length is not None and len(sequence) != length:
        raise ValueError(f"expected {length} tokens like the first row, got {len(sequence)}")
    if any(not (0 <= d <= 9 or d == MARKER) for d in sequence) or sequence.count(MARKER) != 1:
        raise ValueError(f"expected digits 0-9 and exactly one {MARKER}, got {text!r}")
    position = sequence.index(MARKER)
    if position > len(sequence) - 3:
        raise ValueError(f"the marker must not be in the last two positions, got {text!r}")
    if value != sequence[position + 1] + sequence[-1]:
        raise ValueError(f"label {value} is not {sequence[position + 1]} + {sequence[-1]} for {text!r}")
    return sequence, value


def class_histogram(labels: np.ndarray) -> list[int]:
    return np.bincount(labels, minlength=NUM_CLASSES).tolist()


def statistics(splits: dict[str, Sequences]) -> dict:
    """Rows and class histogram per split; the majority baseline: always answering the
    training split's commonest class, scored on every other split."""
    train = class_histogram(splits["train"].labels)
    majority = int(np.argmax(train))
    stats: dict = {"length": int(splits["train"].digits.shape[1]), "majority_class": majority}
    for name, data in splits.items():
        histogram = class_histogram(data.labels)
        stats[name] = {"rows": len(data), "class_histogram": histogram, "majority_accuracy": round(histogram[majority] / len(data), 4)}
    return stats
