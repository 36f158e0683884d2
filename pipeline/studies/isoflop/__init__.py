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

from pipeline.core import glossary
from pipeline.core.paths import Study

STUDY = Study(
    "isoflop",
    experiment="isoflop",
    description="The IsoFLOP grid (assignment part 2): six decoder-only translators of different hidden size trained "
    "alike, each a child of the parent run `isoflop-grid`; the parent holds the scaling-law fits of stage `fit_scaling`: "
    "per compute budget C a parabola of the loss in log10 N and its vertex N_opt, then power laws of N_opt and D_opt in C.",
    metrics=glossary.TRANSLATOR
    | glossary.FLOP_COUNTED
    | {
        "slope": "parent run: log10 N_opt = `slope` x log10 C + `intercept` over the fitted budgets, `r2` its R^2",
        "intercept": "parent run: see `slope`",
        "r2": "parent run: R^2 of the N_opt power law (see `slope`)",
        "tokens_slope": "parent run: the same power law for the compute-optimal tokens D_opt "
        "(`tokens_slope`, `tokens_intercept`, `tokens_r2`)",
        "tokens_intercept": "parent run: see `tokens_slope`",
        "tokens_r2": "parent run: see `tokens_slope`",
        "n_opt_per_budget.*": "parent run: the N_opt of one budget (the suffix, in FLOPs): the vertex of its parabola",
        "d_opt_per_budget.*": "parent run: the D_opt of one budget: its FLOPs over the training FLOPs per token of an N_opt model",
        "r2_per_budget.*": "parent run: R^2 of one budget's parabola",
        "target_compute": "parent run: the compute C (FLOPs, `isoflop.scaling.target_compute`) the laws are read at",
        "n_opt_at_target": "parent run: N_opt and D_opt (`d_opt_at_target`) of the power laws at `target_compute`",
        "d_opt_at_target": "parent run: see `n_opt_at_target`",
        "n_opt_at_1e15": "parent run: N_opt and D_opt (`d_opt_at_1e15`) at C = 1e15 FLOPs, the assignment's question",
        "d_opt_at_1e15": "parent run: see `n_opt_at_1e15`",
        "budgets_fitted": "parent run: budgets whose parabola could be fitted (`budgets_skipped`: those left out, "
        "too few models reached them)",
        "budgets_skipped": "parent run: see `budgets_fitted`",
        "mean_tokens_per_sequence": "parent run: the token-weighted mean training sequence length the FLOPs per token use",
        "reference_setup.*": "parent run: the decoder-only run (experiment `nmt-decoder-only`) against the laws at its "
        "compute: `size_ratio` = its N / N_opt and `token_ratio` = its tokens / D_opt (> 1: more than optimal), "
        "`extrapolation_decades` = log10 of its compute over the largest fitted budget",
    },
)
PARENT_RUN_NAME = "isoflop-grid"
FIT_COMMAND = "python -m stages isoflop fit"  # stage fit_scaling's cmd in dvc.yaml: the parent run's Source
PARENT_RUN_DESCRIPTION = (
    "The IsoFLOP grid: its six members are this run's children (expand it, select them and Compare; "
    "`val_loss_by_flops` overlays their loss-versus-compute curves). Stage `fit_scaling` logs the scaling-law fits here: "
    "metrics, the per-budget table and the figures. Its span covers the members' training and the fit."
)
FIT_STAGE = "fit_scaling"

# The fits' outputs.
SCALING_METRICS = Path("metrics/scaling.json")
SCALING_TABLE = Path("plots/scaling/budgets.csv")  # one row per budget: N_opt, D_opt, R^2, models used
SCALING_OUTPUT = Path("outputs/scaling")  # figures and every point of every profile


def stage_name(model: str) -> str:
    """The DVC stage of one grid member (the matrix block in dvc.yaml)."""
    return f"isoflop@{model}"
