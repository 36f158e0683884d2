"""Verbal arithmetic: the data every sentence classifier (the `bert` study) trains on.

Sentences `a plus b` / `a minus b` (a, b in zero..nineteen) labelled with the sign of
the result. Stage `prepare_arithmetic` checks every row of the two shipped CSVs (the
label must be the sign of the expression the row states), splits the train CSV into
train/validation (stratified, seeded; the reference split) and keeps the test CSV held
out; it writes `data/prepared/arithmetic/{train,val,test}.csv` and the rows and label
counts per split to `metrics/data/arithmetic.json`. No MLflow experiment: nothing trains.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.core.paths import Study

STUDY = Study("arithmetic")
PREPARE_STAGE = "prepare_arithmetic"  # the DVC stage writing the files below
PREPARED = Path("data/prepared/arithmetic")  # {train,val,test}.csv
STATISTICS = Path("metrics/data/arithmetic.json")  # per split: rows and label counts
SPLITS = ("train", "val", "test")
