"""The IsoFLOP grid and the scaling-law fits (assignment part 2).

Six decoder-only models of different hidden size trained alike, each once per seed
(`isoflop@h16-0` ... `@h128-1`: runs `h16-s0` ...), training FLOPs and tokens counted per
batch and logged with every validation loss; each run is a child of one MLflow parent run
`isoflop-grid`. Stage `fit_scaling` reads the curves and estimates the compute-optimal model
size N_opt and tokens D_opt three ways (Hoffmann et al. 2022: lower envelope, IsoFLOP
profiles, parametric loss; `scaling.py`, `parametric.py`) in both loss definitions, with
bootstrap intervals (`bootstrap.py`), and logs them into the parent run.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.core import glossary
from pipeline.core.paths import Study

STUDY = Study(
    "isoflop",
    experiment="isoflop",
    description="The IsoFLOP grid (assignment part 2): six decoder-only translators of different hidden size trained "
    "alike, each once per seed, every run a child of the parent run `isoflop-grid`; the parent holds the scaling-law fits "
    "of stage `fit_scaling`: per compute budget C a parabola of the loss in log10 N and its vertex N_opt, power laws of "
    "N_opt and D_opt in C, and the three Chinchilla estimators with bootstrap intervals.",
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
        "budgets_fitted": "parent run: budgets that count (`budgets_skipped`: those left out by the rule "
        "`isoflop.scaling`: too few models reached them, or the parabola is not convex or fits worse than `min_r2`)",
        "budgets_skipped": "parent run: see `budgets_fitted`",
        "mean_tokens_per_sequence": "parent run: the token-weighted mean training sequence length the FLOPs per token use",
        "reference_setup.*": "parent run: the decoder-only run (experiment `nmt-decoder-only`) against the laws at its "
        "compute: `size_ratio` = its N / N_opt and `token_ratio` = its tokens / D_opt (> 1: more than optimal), "
        "`extrapolation_decades` = log10 of its compute over the largest fitted budget; `n_opt_low`/`n_opt_high` "
        "(`d_opt_*` likewise) the bootstrap interval of N_opt at its compute",
        "estimates.*": "parent run: `estimates.<loss>.<approach>.<readout>`: loss `val_loss` (token-weighted) or "
        "`val_loss_batch_mean` (the notebooks'); approach `envelope` (1), `isoflop` (2) or `parametric` (3) of Hoffmann "
        "et al. 2022; readout `n_opt`/`d_opt` at `target_compute`, `slope` (of log10 N_opt in log10 C; approach 3: at "
        "`target_compute`), each with `_low`/`_high` (bootstrap interval at `isoflop.scaling.bootstrap.level`), "
        "`failed_draws` (draws without an answer), approach 2 also `_lobo_min`/`_lobo_max` (leave-one-budget-out range), "
        "`_seeds_low`/`_seeds_high` (bootstrap over seeds only) and `budgets_fitted`; approach 3 also its fitted "
        "`E`, `A`, `B`, `alpha`, `beta` with intervals and `objective` (the Huber sum)",
    },
    stage_prefix="isoflop",  # its matrix block in dvc.yaml
)
PARENT_RUN_NAME = "isoflop-grid"
FIT_COMMAND = "python -m stages isoflop fit"  # stage fit_scaling's cmd in dvc.yaml: the parent run's Source
PARENT_RUN_DESCRIPTION = (
    "The IsoFLOP grid: its runs (every member once per seed) are this run's children (expand it, select them and Compare; "
    "`val_loss_by_flops` overlays their loss-versus-compute curves). Stage `fit_scaling` logs the scaling-law fits here: "
    "metrics, the per-budget table and the figures, with the latest fit's settings as tags `fit.scaling.*` and `fit.seeds`. Its span covers the members' training and the fit."
)
FIT_STAGE = "fit_scaling"

# The two loss definitions every curve logs: ours weights each validation batch by its target
# tokens, the reference notebooks' averages the per-batch means. The fits use both; ours leads.
LOSSES = {"val_loss": "our loss (token-weighted)", "val_loss_batch_mean": "the notebooks' loss (mean of per-batch means)"}
PRIMARY_LOSS = "val_loss"
# The three estimators of Hoffmann et al. (2022), by their metric names.
APPROACHES = {"envelope": "1: lower envelope", "isoflop": "2: IsoFLOP profiles", "parametric": "3: parametric L(N, D)"}

# The fits' outputs.
SCALING_METRICS = Path("metrics/scaling.json")
SCALING_TABLE = Path("plots/scaling/budgets.csv")  # one row per budget and loss: N_opt, D_opt, R^2, models used
SCALING_OUTPUT = Path("outputs/scaling")  # figures and every point of every profile


def run_name(model: str, seed: int) -> str:
    """One run of the grid: its files' and its MLflow run's name, e.g. `h64-s0`."""
    return f"{model}-s{seed}"


def stage_name(run: str) -> str:
    """The DVC stage of one run: `h64-s0` -> `isoflop@h64-0` (the matrix entry of its model and seed)."""
    model, seed = run.rsplit("-s", 1)
    return STUDY.stage_name(model, seed)
