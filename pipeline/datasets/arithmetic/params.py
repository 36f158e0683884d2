"""The `arithmetic` section of params.yaml: the shipped CSVs and the train/validation split."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field

from pipeline.core.params import PARAMS_FILE, Float, Schema, Seed, load_section
from pipeline.datasets.arithmetic import STUDY
from pipeline.datasets.arithmetic.data import parse_expression


def _parses(sentence: str) -> str:
    parse_expression(sentence)  # its ValueError names what is wrong
    return sentence


# A sentence of the data set's grammar (`four plus seven`): a probe whose prediction a report
# shows must be one the report can label.
Sentence = Annotated[str, AfterValidator(_parses)]


class ArithmeticParams(Schema):
    train_file: str  # split into train/validation
    test_file: str  # held out, only evaluated
    val_fraction: Float = Field(gt=0, lt=1)
    split_seed: Seed


def load(path: str | Path = PARAMS_FILE) -> ArithmeticParams:
    return load_section(STUDY.name, ArithmeticParams, path)
