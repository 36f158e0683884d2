"""The input-gradient table as MLflow keeps it, and back (light: the stage and the report use it).

MLflow writes a logged table with pandas' `to_json`, which keeps 10 decimals, and the gradient
norms span 1e-7 to 10 (an RNN's at the first of 30 inputs): they travel as log10, whose 10
decimals keep every significant digit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NORMS = ("gradient_norm", "gradient_norm_median")
ARTIFACT = "tables/input_gradients.json"


def to_logged(curves: pd.DataFrame) -> pd.DataFrame:
    logged = curves.drop(columns=list(NORMS))
    for column in NORMS:
        logged[f"log10_{column}"] = np.log10(curves[column].to_numpy(dtype=float))
    return logged


def from_logged(logged: pd.DataFrame) -> pd.DataFrame:
    curves = logged.drop(columns=[f"log10_{column}" for column in NORMS])
    for column in NORMS:
        curves[column] = 10.0 ** logged[f"log10_{column}"].to_numpy(dtype=float)
    return curves


def first_over_last(curves: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, weights): the mean gradient norm at the first input over that at the last, and the
    per-step factor that ratio amounts to, ratio^(1 / (T - 1))."""
    rows = []
    for (model, weights), curve in curves.groupby(["model", "weights"], sort=False):
        by_distance = curve.set_index("distance")["gradient_norm"]
        ratio = float(by_distance.iloc[-1] / by_distance.loc[0])
        first = curve.iloc[0]
        rows.append(
            {
                "model": model,
                "cell": first["cell"],
                "length": int(first["length"]),
                "grid": first["grid"],
                "replicate": int(first["replicate"]),
                "weights": weights,
                "first_over_last": ratio,
                "per_step": ratio ** (1 / (int(first["length"]) - 1)),
            }
        )
    return pd.DataFrame(rows)
