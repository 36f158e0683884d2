"""Add2Digits: RNN versus LSTM over sequence length (a sister course's homework).

A sequence of random digits 0-9 holds exactly one marker -1 (never in the last two
positions); the label is the digit right after the marker plus the last digit (a class in
0..18). Stage `prepare_add2digits` draws the seeded data sets, one per length for the
reference experiment and one per (length, seed) for the extended grid, into
`data/prepared/add2digits/L<length>/`, with their class histograms and majority-class
baselines in `metrics/add2digits/data.json`. Each entry of the matrix (cell x length) is
one DVC stage `train_add2digits@<cell>-L<length>`: the reference run (full-batch Adam, every
epoch trained; `outputs|metrics|plots/add2digits/<cell>-L<length>`) when `reference.lengths`
holds the length (otherwise those files say it was not run), and the extended grid's seeds
(more data, mini-batches, early stopping on a validation split;
`.../<cell>-L<length>-extended/s<seed>`), each one MLflow run in experiment `add2digits`.

Modules: `params` (the section's schema), `data` (the generator, the files), `model`,
`train` (one matrix entry end to end), `figures`, `stages`, `report`.
Kept free of heavy imports: the report and the stage entry point import this package.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.core.paths import Study

STUDY = Study("add2digits", experiment="add2digits")
PREPARE_STAGE = "prepare_add2digits"
PREPARED = Path("data/prepared/add2digits")  # L<length>/reference.csv, L<length>/extended-s<seed>.csv
STATISTICS = Path("metrics/add2digits/data.json")  # per data set: rows, class histogram, majority baseline
CELLS = ("rnn", "lstm")


def run_name(cell: str, length: str) -> str:
    """The reference run of one matrix entry, e.g. `rnn-L5` (also its files' name)."""
    return f"{cell}-{length}"


def extended_run(cell: str, length: str, seed: int) -> str:
    """An extended-grid run: its files live in `<cell>-L<length>-extended/s<seed>.*`."""
    return f"{cell}-{length}-extended/s{seed}"


def stage_name(cell: str, length: str) -> str:
    """The DVC stage of one matrix entry (dvc.yaml: matrix over add2digits.matrix)."""
    return f"train_add2digits@{cell}-{length}"


def length_value(length: str) -> int:
    """`L30` -> 30 (the matrix names lengths so that stage names read `rnn-L30`)."""
    return int(length.removeprefix("L"))


def dataset_file(length: str, kind: str) -> Path:
    """`reference` or `extended-s<seed>`: the prepared CSV of one data set."""
    return PREPARED / length / f"{kind}.csv"
