"""The IsoFLOP grid and the scaling-law fits (assignment part 2).

Six decoder-only models of different hidden size trained alike (`isoflop@h16` ...
`@h128`), training FLOPs and tokens counted per batch and logged with every validation
loss; each is a child of one MLflow parent run `isoflop-grid`. Stage `fit_scaling`
reads the curves, fits each budget's IsoFLOP profile and the power laws of the
compute-optimal model size N_opt and tokens D_opt (`scaling.py`), and logs them into
the parent run.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.core.paths import Study

STUDY = Study("isoflop", experiment="isoflop")
PARENT_RUN_NAME = "isoflop-grid"
FIT_STAGE = "fit_scaling"

# The fits' outputs.
SCALING_METRICS = Path("metrics/scaling.json")
SCALING_TABLE = Path("plots/scaling/budgets.csv")  # one row per budget: N_opt, D_opt, R^2, models used
SCALING_OUTPUT = Path("outputs/scaling")  # figures and every point of every profile


def stage_name(model: str) -> str:
    """The DVC stage of one grid member (the matrix block in dvc.yaml)."""
    return f"isoflop@{model}"
