"""Prepared translation data: a folder with `train.txt` and `val.txt` (one `source target`
pair per line, both without spaces) and the dataset's `vocab.json`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.core.errors import PipelineError
from pipeline.core.io import read_text, require_inputs
from pipeline.translators.vocab import VOCAB_FILE

DATA_FILES = ("train.txt", "val.txt", VOCAB_FILE)


@dataclass(frozen=True)
class Pair:
    source: str
    target: str


def read_pairs(path: Path, parse: Callable[[str], Pair] | None = None) -> list[Pair]:
    """Parse a file of pairs, one a line; a malformed or repeated line fails with `file:line: what is wrong`.

    `parse` turns a line into its pair or raises ValueError saying what is wrong with it.
    What varies is how strict it is: a prepared file's `source target` lines (the default,
    `parse_pair`), or a raw download checked character by character (`pipeline.datasets.piglatin.data`).
    """
    path, parse = Path(path), parse or parse_pair
    text = read_text(path)
    pairs = []
    first_lines = FirstLines(path)
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            pair = parse(line)
        except ValueError as error:
            raise PipelineError(f"{path}:{number}: {error}") from None
        pairs.append(first_lines.add(pair, number))
    if not pairs:
        raise PipelineError(f"{path}: no pairs found (empty file)")
    return pairs


def parse_pair(line: str) -> Pair:
    """A prepared file's line: two words separated by one space."""
    fields = line.split(" ")
    if len(fields) != 2 or not all(fields):
        raise ValueError(f"expected two words separated by one space ('source target'), got {line!r}")
    return Pair(*fields)


class FirstLines:
    """The line each pair of one file was first read on: a second copy fails naming both lines.

    A repeated pair counts twice in training, and the seeded split can put one copy in
    training and the other in validation, which then scores a pair the model trained on.
    """

    def __init__(self, path: Path):
        self.path = path
        self.lines: dict[Pair, int] = {}

    def add(self, pair: Pair, number: int) -> Pair:
        first = self.lines.setdefault(pair, number)
        if first != number:
            raise PipelineError(f"{self.path}:{number}: duplicate pair '{pair.source} {pair.target}', first at {self.path}:{first}")
        return pair


def write_pairs(path: Path, pairs: list[Pair]) -> None:
    path.write_text("".join(f"{p.source} {p.target}\n" for p in pairs), encoding="utf-8")


@dataclass(frozen=True)
class TranslatorData:
    """A prepared dataset: its folder (train.txt, val.txt, vocab.json) and how it is named in MLflow."""

    folder: Path  # absolute
    name: str  # e.g. piglatin-small
    data_params: dict[str, Any]  # how it was prepared (logged with the run)
    prepare_stage: str  # the stage that writes it, for "missing" errors

    def check(self) -> None:
        require_inputs([self.folder / name for name in DATA_FILES], self.prepare_stage)
