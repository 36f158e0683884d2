"""The `fit_scaling` stage: IsoFLOP profiles, compute-optimal model size and tokens.

Reads the grid members' per-epoch curves (plots/isoflop/<model>.csv: cumulative FLOPs
and validation loss per epoch) and their metrics, fits each budget's profile and the
power laws (`pipeline.scaling`), writes metrics/scaling.json and plots/scaling/budgets.csv,
draws the figures, and logs all of it into the grid's MLflow parent run.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import figures
from pipeline.data.piglatin import read_pairs
from pipeline.errors import PipelineError
from pipeline.flops import hidden_size_for, parameter_count, training_flops_per_token
from pipeline.io import staged_outputs, write_json
from pipeline.lineage import OUTPUTS_TAG, find_run, outputs_fingerprint
from pipeline.params import Params
from pipeline.paths import (
    PREPARED_PIGLATIN,
    SCALING_METRICS,
    SCALING_OUTPUT,
    SCALING_TABLE,
    run_curve_file,
    run_metrics_file,
)
from pipeline.scaling import BudgetFit, PowerLaw, fit_budget, fit_power_law
from pipeline.vocab import VOCAB

GRID_EXPERIMENT = "isoflop"


@dataclass
class ScalingResult:
    fits: list[BudgetFit]
    n_law: PowerLaw
    d_law: PowerLaw
    table: pd.DataFrame  # one row per budget
    points: pd.DataFrame  # budget, model, parameters, loss: every point of every profile
    metrics: dict


def mean_tokens_per_sequence(pairs) -> float:
    """Token-weighted mean sequence length (s+t+2): makes per-token FLOPs exact on average,
    since a sequence's attention cost per token grows with its length."""
    lengths = np.array([len(p.source) + len(p.target) + 2 for p in pairs], float)
    return float(np.sum(lengths**2) / np.sum(lengths))


def budget_key(budget: float) -> str:
    """A budget as a metric-name-safe key: 8e10, 1.28e12."""
    mantissa, exponent = f"{budget:.3g}".split("e")
    return f"{mantissa}e{int(exponent)}"


def fit_scaling(curves: dict[str, pd.DataFrame], params: Params, seq_len: float, reference: dict | None) -> ScalingResult:
    layers, vocab = params.isoflop.train.num_layers, len(VOCAB)
    sizes = params.isoflop.matrix.hidden_sizes()
    parameters = {model: parameter_count(h, layers, vocab) for model, h in sizes.items()}
    fits = [fit_budget(curves, parameters, c, params.scaling.min_models_per_budget) for c in params.scaling.budgets]

    rows = []
    for fit in fits:
        row = {"budget": fit.budget, "models": len(fit.points), "left_out": "; ".join(f"{m}: {why}" for m, why in fit.skipped.items())}
        if fit.quadratic is not None:
            n_opt = fit.n_opt
            d_opt = fit.budget / training_flops_per_token(seq_len, hidden_size_for(n_opt, layers, vocab), layers, vocab)
            row |= {"a": fit.quadratic.a, "b": fit.quadratic.b, "c": fit.quadratic.c, "r2": fit.quadratic.r2,
                    "n_opt": n_opt, "d_opt": d_opt, "loss_at_n_opt": float(fit.quadratic(np.log10(n_opt))),
                    "n_opt_inside_grid": bool(fit.points["parameters"].min() <= n_opt <= fit.points["parameters"].max())}
        else:
            row |= {"skipped": fit.reason}
            print(f"fit_scaling: budget {fit.budget:.3g} skipped: {fit.reason}", file=sys.stderr)
        rows.append(row)
    table = pd.DataFrame(rows)
    fitted = table.dropna(subset=["n_opt"]) if "n_opt" in table else table.iloc[0:0]
    if len(fitted) < 2:
        reasons = "; ".join(f"{fit.budget:.3g}: {fit.reason}" for fit in fits if fit.quadratic is None)
        raise PipelineError(
            f"params.yaml: scaling.budgets: {len(fitted)} budget(s) could be fitted, the power laws need 2 ({reasons})"
        )
    n_law = fit_power_law(fitted["budget"], fitted["n_opt"])
    d_law = fit_power_law(fitted["budget"], fitted["d_opt"])
    target = params.scaling.target_compute
    points = pd.concat([fit.points.assign(budget=fit.budget) for fit in fits], ignore_index=True)

    metrics = {
        "slope": n_law.slope,
        "intercept": n_law.intercept,
        "r2": n_law.r2,
        "tokens_slope": d_law.slope,
        "tokens_intercept": d_law.intercept,
        "tokens_r2": d_law.r2,
        "target_compute": target,
        "n_opt_at_target": float(n_law(target)),
        "d_opt_at_target": float(d_law(target)),
        "budgets_fitted": int(len(fitted)),
        "budgets_skipped": int(len(table) - len(fitted)),
        "n_opt_per_budget": {budget_key(b): float(n) for b, n in zip(fitted["budget"], fitted["n_opt"])},
        "d_opt_per_budget": {budget_key(b): float(d) for b, d in zip(fitted["budget"], fitted["d_opt"])},
        "r2_per_budget": {budget_key(b): float(r) for b, r in zip(fitted["budget"], fitted["r2"])},
        "mean_tokens_per_sequence": seq_len,
    }
    if target == 1e15:  # the assignment's question; the suggested key names
        metrics |= {"n_opt_at_1e15": metrics["n_opt_at_target"], "d_opt_at_1e15": metrics["d_opt_at_target"]}
    if reference is not None:
        c = reference["cumulative_flops"]
        metrics["reference_setup"] = {
            "compute": c,
            "parameters": reference["non_embedding_parameters"],
            "tokens": reference["cumulative_tokens"],
            "n_opt": float(n_law(c)),
            "d_opt": float(d_law(c)),
            "size_ratio": reference["non_embedding_parameters"] / float(n_law(c)),  # > 1: larger than optimal
            "token_ratio": reference["cumulative_tokens"] / float(d_law(c)),
            "extrapolation_decades": float(np.log10(c / fitted["budget"].max())),
        }
    return ScalingResult(fits, n_law, d_law, table, points, metrics)


def run_fit_scaling(params: Params, root: Path) -> None:
    models = params.isoflop.matrix.model
    curves, member_files = {}, {}
    for model in models:
        files = [root / run_metrics_file("isoflop", model), root / run_curve_file("isoflop", model)]
        for file in files:
            if not file.exists():
                raise PipelineError(f"{file}: missing; run `dvc repro isoflop@{model}` first")
        curves[model] = pd.read_csv(files[1])
        member_files[model] = files
    pairs = read_pairs(root / PREPARED_PIGLATIN / params.isoflop.train.dataset / "train.txt")
    seq_len = mean_tokens_per_sequence(pairs)
    reference_file = root / run_metrics_file("decoder_only", params.decoder_only.run_name)
    reference = json.loads(reference_file.read_text()) if reference_file.exists() else None

    result = fit_scaling(curves, params, seq_len, reference)
    figure_files = {
        "loss_vs_flops": SCALING_OUTPUT / "loss_vs_flops.png",
        "isoflop_profiles": SCALING_OUTPUT / "isoflop_profiles.png",
        "compute_optimal": SCALING_OUTPUT / "compute_optimal.png",
    }
    with staged_outputs(root, clear=[SCALING_METRICS, SCALING_TABLE, SCALING_OUTPUT]) as out:
        write_json(out.path(SCALING_METRICS), result.metrics)
        result.table.to_csv(out.path(SCALING_TABLE), index=False, float_format="%.6g")
        result.points.to_csv(out.path(SCALING_OUTPUT / "isoflop_points.csv"), index=False, float_format="%.6g")
        drawn = draw_figures(curves, result.table, result.points, result.metrics, params)
        for key, figure in drawn.items():
            figure.savefig(out.path(figure_files[key]), dpi=110, metadata={"Software": None})

    _log_to_parent_run(params, member_files, result, drawn, root)
    for figure in drawn.values():
        figures.close(figure)
    m = result.metrics
    print(
        f"fit_scaling: log10 N_opt = {m['slope']:.3f} log10 C + {m['intercept']:.3f} (R^2 {m['r2']:.3f}); "
        f"at C = {m['target_compute']:.3g}: N_opt = {m['n_opt_at_target']:.3g}, D_opt = {m['d_opt_at_target']:.3g}",
        file=sys.stderr,
    )


def _log_to_parent_run(params: Params, member_files: dict, result: ScalingResult, drawn: dict, root: Path) -> None:
    """The fits belong to the grid: log them into the members' parent run."""
    from pipeline.tracking import PARENT_RUN_TAG, RunTracker, client, flatten

    mlflow_client = client()
    parents = set()
    for model, files in member_files.items():
        run = find_run(mlflow_client, GRID_EXPERIMENT, outputs_fingerprint(*files), f"isoflop@{model}")
        parents.add(run.data.tags.get(PARENT_RUN_TAG))
    if len(parents) != 1 or None in parents:
        raise PipelineError(
            "the current IsoFLOP outputs come from runs of different MLflow parent runs (members trained with different "
            "code or params); rerun the grid with `dvc repro -f isoflop` so one parent holds all six"
        )
    tracker = RunTracker.existing(parents.pop())
    tracker.log_params({"scaling": params.scaling.model_dump()})
    scalars = {k: v for k, v in flatten(result.metrics).items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    tracker.log_metrics(scalars)
    tracker.log_table(result.table, "tables/budget_fits.json")
    tracker.log_table(result.points, "tables/isoflop_points.json")
    for key, figure in drawn.items():
        tracker.log_figure(figure, f"figures/{key}.png")
    tracker.set_tags({"dvc_stage_fit": os.environ.get("DVC_STAGE", "fit_scaling"),
                      OUTPUTS_TAG: outputs_fingerprint(root / SCALING_METRICS, root / SCALING_TABLE)})
    if tracker.failures:
        raise PipelineError(f"fit_scaling: outputs written, but MLflow did not record everything ({tracker.failure_summary()})")


def draw_figures(curves: dict[str, pd.DataFrame], table: pd.DataFrame, points: pd.DataFrame, metrics: dict, params: Params) -> dict:
    return {
        "loss_vs_flops": loss_vs_flops_figure(curves, params.scaling.budgets),
        "isoflop_profiles": isoflop_profiles_figure(table, points),
        "compute_optimal": compute_optimal_figure(table, metrics, params),
    }


def loss_vs_flops_figure(curves: dict[str, pd.DataFrame], budgets: list[float]):
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.5))
    for i, (model, curve) in enumerate(curves.items()):
        axis.plot(curve["cumulative_flops"], curve["val_loss"], color=f"C{i}", label=model, marker=".", markersize=3)
    for budget in budgets:
        axis.axvline(budget, color="grey", ls=":", lw=1)
    axis.set(xscale="log", yscale="log", xlabel="cumulative training FLOPs", ylabel="validation loss",
             title="IsoFLOP grid: validation loss vs compute (dotted: budgets)")
    axis.grid(alpha=0.3, which="both")
    axis.legend(title="model")
    figure.tight_layout()
    return figure


def isoflop_profiles_figure(table: pd.DataFrame, points: pd.DataFrame):
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.5))
    for i, row in enumerate(table.itertuples()):
        at_budget = points[points["budget"] == row.budget]
        colour = f"C{i}"
        axis.scatter(at_budget["parameters"], at_budget["loss"], color=colour, zorder=3)
        if isinstance(getattr(row, "n_opt", None), float) and not np.isnan(row.n_opt):
            x = np.linspace(np.log10(at_budget["parameters"].min()) - 0.2, np.log10(at_budget["parameters"].max()) + 0.2, 100)
            axis.plot(10**x, row.a * x**2 + row.b * x + row.c, color=colour,
                      label=f"C = {row.budget:.3g}: N_opt = {row.n_opt:.3g} (R² {row.r2:.2f})")
            axis.scatter([row.n_opt], [row.loss_at_n_opt], color=colour, marker="*", s=150, edgecolor="black", zorder=4)
        else:
            axis.plot([], [], color=colour, label=f"C = {row.budget:.3g}: skipped")
    axis.set(xscale="log", xlabel="non-embedding parameters N", ylabel="validation loss at budget",
             title="IsoFLOP profiles: quadratic fits in log10 N (stars: optima)")
    axis.grid(alpha=0.3, which="both")
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def compute_optimal_figure(table: pd.DataFrame, metrics: dict, params: Params):
    import matplotlib.pyplot as plt

    fitted = table.dropna(subset=["n_opt"])
    target = metrics["target_compute"]
    c = np.logspace(np.log10(fitted["budget"].min()), np.log10(target), 50)
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for axis, key, slope, intercept, label in (
        (axes[0], "n_opt", metrics["slope"], metrics["intercept"], "N_opt (parameters)"),
        (axes[1], "d_opt", metrics["tokens_slope"], metrics["tokens_intercept"], "D_opt (training tokens)"),
    ):
        axis.scatter(fitted["budget"], fitted[key], color="C0", zorder=3, label="vertex per budget")
        axis.plot(c, 10 ** (slope * np.log10(c) + intercept), color="C0",
                  label=f"log10 y = {slope:.3f} log10 C {intercept:+.3f}")
        estimate = 10 ** (slope * np.log10(target) + intercept)
        axis.scatter([target], [estimate], marker="*", s=150, color="C3", zorder=4, label=f"{estimate:.3g} at C = {target:.3g}")
        axis.set(xscale="log", yscale="log", xlabel="compute C (FLOPs)", ylabel=label)
        axis.grid(alpha=0.3, which="both")
    low, high = params.report.published_n_opt_at_1e15
    axes[0].errorbar([1e15], [(low * high) ** 0.5], yerr=[[(low * high) ** 0.5 - low], [high - (low * high) ** 0.5]],
                     color="grey", capsize=4, label="peers at 1e15")
    reference = metrics.get("reference_setup")
    if reference:
        axes[0].scatter([reference["compute"]], [reference["parameters"]], marker="s", color="C2", zorder=4,
                        label="h128, 100 epochs (actual)")
        axes[1].scatter([reference["compute"]], [reference["tokens"]], marker="s", color="C2", zorder=4,
                        label="h128, 100 epochs (actual)")
    for axis in axes:
        axis.legend(fontsize=8)
    figure.suptitle("Compute-optimal model size and tokens")
    figure.tight_layout()
    return figure
