"""Tables logged to MLflow at full float64 precision.

MLflow writes a logged table with pandas' `to_json`, which keeps 10 decimals: a Jacobian
norm of 1.5e-11 would come back as 0. Float columns therefore travel as their exact
decimal strings (`repr`), and the report turns them back into numbers.
"""

from __future__ import annotations

import contextlib

import pandas as pd


def for_mlflow(frame: pd.DataFrame) -> pd.DataFrame:
    encoded = frame.copy()
    for column in frame.columns:
        if pd.api.types.is_float_dtype(frame[column]):
            encoded[column] = pd.Series([repr(float(v)) for v in frame[column]], index=frame.index, dtype=object)
    return encoded


def from_mlflow(frame: pd.DataFrame) -> pd.DataFrame:
    decoded = frame.copy()
    for column in frame.columns:
        if pd.api.types.is_string_dtype(frame[column]) or frame[column].dtype == object:
            with contextlib.suppress(ValueError):  # floats travelled as text; real text columns (labels) stay text
                decoded[column] = [float(value) for value in frame[column]]
    return decoded
