"""The `arithmetic` section of params.yaml: the shipped CSVs and the train/validation split."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from pipeline.core.params import PARAMS_FILE, Float, Section, Seed, load_section
from pipeline.datasets.arithmetic import STUDY


class ArithmeticParams(Section):
    train_file: str  # split into train/validation
    test_file: str  # held out, only evaluated
    val_fraction: Float = Field(gt=0, lt=1)
    split_seed: Seed


def load(path: str | Path = PARAMS_FILE) -> ArithmeticParams:
    return load_section(STUDY.name, ArithmeticParams, path)
