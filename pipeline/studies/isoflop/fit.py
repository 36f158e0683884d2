"""The `fit_scaling` stage: compute-optimal model size and tokens, three ways, with intervals.

Reads every run's per-epoch curve (plots/isoflop/<model>-s<seed>.csv: cumulative FLOPs and
tokens, and the validation loss in both definitions), and for each loss definition fits
approach 2 (the IsoFLOP profiles, the assignment's) and approaches 1 and 3 of Hoffmann et
al. (2022) (`scaling.py`, `parametric.py`), bootstraps all three and leaves each budget out
of approach 2 (`bootstrap.py`). Writes metrics/scaling.json, plots/scaling/budgets.csv and
outputs/scaling/ (figures, every profile point, every bootstrap draw), and logs all of it
into the grid's MLflow parent run.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from pipeline.core import figures
from pipeline.core.errors import PipelineError
from pipeline.core.io import require_inputs, staged_outputs, write_json
from pipeline.core.lineage import OUTPUTS_TAG, find_run, outputs_fingerprint
from pipeline.studies import decoder_only
from pipeline.studies.decoder_only import params as decoder_only_params
from pipeline.studies.isoflop import (
    APPROACHES,
    FIT_STAGE,
    LOSSES,
    PARENT_RUN_DESCRIPTION,
    PRIMARY_LOSS,
    SCALING_METRICS,
    SCALING_OUTPUT,
    SCALING_TABLE,
    STUDY,
    stage_name,
)
from pipeline.studies.isoflop.bootstrap import bootstrap, leave_one_budget_out, percentile_interval, readouts
from pipeline.studies.isoflop.figures import draw_figures
from pipeline.studies.isoflop.parametric import LossLaw, fit_loss_law
from pipeline.studies.isoflop.params import IsoflopParams, Setup
from pipeline.studies.isoflop.scaling import (
    BudgetRule,
    ComputeOptimal,
    Grid,
    Profile,
    Run,
    TokenCount,
    best_models,
    envelope_fit,
    isoflop_fit,
    isoflop_profiles,
    reach,
)
from pipeline.translators.flops import parameter_count
from pipeline.translators.pairs import read_pairs
from pipeline.translators.vocab import VOCAB_FILE, Vocabulary

LAW_PARAMETERS = ("E", "A", "B", "alpha", "beta")
# Approach 2's laws in every draw: the figures draw their bootstrap bands from these.
BAND_COLUMNS = ("isoflop.intercept", "isoflop.d_slope", "isoflop.d_intercept")


@dataclass
class Estimates:
    """Everything fitted for one loss definition."""

    loss: str
    grid: Grid
    profiles: list[Profile]
    isoflop: ComputeOptimal
    envelope: ComputeOptimal | None
    law: LossLaw
    draws: pd.DataFrame  # bootstrap over members and seeds: one row per draw, columns <approach>.<readout>
    seed_draws: pd.DataFrame  # bootstrap over seeds only (approach 2)
    lobo: pd.DataFrame  # approach 2 without each counted budget in turn
    summary: dict  # approach -> readout -> value (metrics["estimates"][loss])


@dataclass
class ScalingResult:
    estimates: dict[str, Estimates]  # by loss definition
    table: pd.DataFrame  # one row per loss definition and budget
    points: pd.DataFrame  # loss, budget, model, seed, parameters, value: every run's point of every profile
    best: pd.DataFrame  # per budget: the best member and whether larger was always better (primary loss)
    draws: pd.DataFrame  # every bootstrap draw of every loss definition (column `loss`)
    metrics: dict

    @property
    def primary(self) -> Estimates:
        return self.estimates[PRIMARY_LOSS]


def mean_tokens_per_sequence(pairs) -> float:
    """Token-weighted mean sequence length (s+t+2): makes per-token FLOPs exact on average,
    since a sequence's attention cost per token grows with its length."""
    lengths = np.array([len(p.source) + len(p.target) + 2 for p in pairs], float)
    return float(np.sum(lengths**2) / np.sum(lengths))


def budget_key(budget: float) -> str:
    """A budget as a metric-name-safe key: 8e10, 1.28e12."""
    mantissa, exponent = f"{budget:.3g}".split("e")
    return f"{mantissa}e{int(exponent)}"


def read_grid(curves: dict[str, list[pd.DataFrame]], parameters: dict[str, float], config: IsoflopParams, loss: str) -> Grid:
    """The grid in one loss definition: curves are [model] -> one frame per seed."""
    budgets = np.array(config.scaling.budgets.values())
    dense = np.geomspace(budgets[0], budgets[-1], config.scaling.envelope_points)
    runs = {
        model: [Run(c["cumulative_flops"].to_numpy(float), c["cumulative_tokens"].to_numpy(float), c[loss].to_numpy(float)) for c in frames]
        for model, frames in curves.items()
    }
    return Grid.from_runs(runs, parameters, budgets, dense)


def check_reach(grid: Grid) -> None:
    """Budgets that no run reaches, or too few models at every budget: one line naming the key."""
    key = f"params.yaml: {STUDY.name}.scaling.budgets"
    reached = ~np.isnan(grid.member_losses(grid.budget_losses))  # (M, K)
    span = (
        f"the runs' curves span {min(r.flops[0] for row in grid.runs for r in row):.3g} to "
        f"{max(r.flops[-1] for row in grid.runs for r in row):.3g} FLOPs"
    )
    budgets = f"{grid.budgets[0]:.3g} to {grid.budgets[-1]:.3g}"
    if not reached.any():
        raise PipelineError(f"{key}: no model reaches any budget ({budgets} FLOPs); {span}")
    most = int(reached.sum(axis=0).max())
    if most < 3:
        raise PipelineError(f"{key}: at most {most} model(s) reach any budget ({budgets} FLOPs), a parabola needs 3; {span}")


def budget_rule(config: IsoflopParams) -> BudgetRule:
    scaling = config.scaling
    return BudgetRule(scaling.min_models_per_budget, scaling.min_r2, scaling.vertex_margin)


def fit_all(
    grid: Grid, config: IsoflopParams, tokens: TokenCount, law_starts
) -> tuple[list[Profile], ComputeOptimal | None, ComputeOptimal | None, LossLaw]:
    """The three approaches on one grid (the data, or a bootstrap draw of it)."""
    scaling = config.scaling
    profiles = isoflop_profiles(grid, budget_rule(config))
    envelope = envelope_fit(grid, scaling.min_models_per_budget, tokens)
    return profiles, isoflop_fit(profiles, tokens), envelope, fit_law(grid, config, law_starts)


def fit_law(grid: Grid, config: IsoflopParams, starts) -> LossLaw:
    """Approach 3 on every evaluation of every run of `grid`."""
    n, d, loss = (
        np.concatenate(parts)
        for parts in zip(
            *((np.full(len(run.tokens), grid.parameters[i]), run.tokens, run.losses) for i, row in enumerate(grid.runs) for run in row)
        )
    )
    return fit_loss_law(n, d, loss, config.scaling.parametric.huber_delta, starts)


def all_readouts(
    iso: ComputeOptimal | None, envelope: ComputeOptimal | None, law: LossLaw, tokens: TokenCount, at: dict[str, float]
) -> dict[str, float]:
    """One row of readouts, columns `<approach>.<readout>`: approach 2 at every compute of `at`
    (with its laws' coefficients, for the figures' bands), approaches 1 and 3 at the target."""
    target = at["target"]
    n_opt = law.n_opt(target, tokens)
    return (
        {f"isoflop.{k}": v for k, v in readouts(iso, at).items()}
        | dict(zip(BAND_COLUMNS, (iso.n_law.intercept, iso.d_law.slope, iso.d_law.intercept) if iso else (np.nan,) * 3))
        | {f"envelope.{k}": v for k, v in readouts(envelope, {"target": target}).items()}
        | {
            "parametric.slope": law.slope(target, tokens),
            "parametric.n_opt_target": n_opt,
            "parametric.d_opt_target": float(tokens(n_opt, target)),
        }
        | {f"parametric.{name}": getattr(law, name) for name in LAW_PARAMETERS}
    )


def fit_estimates(grid: Grid, config: IsoflopParams, tokens: TokenCount, at: dict[str, float], loss: str) -> Estimates:
    scaling = config.scaling
    profiles, iso, envelope, law = fit_all(grid, config, tokens, scaling.parametric.starts)
    if iso is None:
        reasons = "; ".join(f"{p.budget:.3g}: {p.reason}" for p in profiles if not p.counts)
        raise PipelineError(
            f"params.yaml: {STUDY.name}.scaling: {sum(p.counts for p in profiles)} budget(s) count for loss {loss}, "
            f"the power laws need 2 ({reasons})"
        )
    point = all_readouts(iso, envelope, law, tokens, at)
    # Draws refit approach 3 with one L-BFGS run from the data's optimum (no grid search), E
    # lifted to a tenth of the lowest loss: at E ~ 0 the gradient in log E vanishes, and a
    # draw could never find an irreducible loss the data's fit did not.
    start = law.theta
    start[2] = max(start[2], np.log(0.1 * np.nanmin([run.losses.min() for row in grid.runs for run in row])))

    def redo(draw: Grid) -> dict[str, float]:
        return all_readouts(*fit_all(draw, config, tokens, start)[1:], tokens, at)

    def redo_isoflop(draw: Grid) -> dict[str, float]:
        iso_draw = isoflop_fit(isoflop_profiles(draw, budget_rule(config)), tokens)
        return {f"isoflop.{k}": v for k, v in readouts(iso_draw, at).items()}

    draws = bootstrap(grid, redo, scaling.bootstrap.resamples, scaling.bootstrap.seed)
    seed_draws = bootstrap(grid, redo_isoflop, scaling.bootstrap.resamples, scaling.bootstrap.seed, members=False)
    lobo = leave_one_budget_out(profiles, tokens, at)
    summary = summarise(point, draws, seed_draws, lobo, scaling.bootstrap.level)
    summary["isoflop"]["budgets_fitted"] = sum(p.counts for p in profiles)
    summary["parametric"]["objective"] = law.objective
    return Estimates(loss, grid, profiles, iso, envelope, law, draws, seed_draws, lobo, summary)


def summarise(
    point: dict[str, float], draws: pd.DataFrame, seed_draws: pd.DataFrame, lobo: pd.DataFrame, level: float
) -> dict[str, dict[str, float]]:
    """approach -> readout -> value, with its `_low`/`_high` interval (and more for approach 2)."""
    summary: dict[str, dict[str, float]] = {approach: {} for approach in APPROACHES}
    for column, value in point.items():
        approach, readout = column.split(".", 1)
        name = readout.removesuffix("_target")  # at the target compute: `n_opt`, `d_opt`
        if readout.endswith("_reference") or column in BAND_COLUMNS:
            continue  # approach 2 at the reference run's compute: metrics["reference_setup"]
        low, high = percentile_interval(draws[column], level)
        summary[approach] |= {name: value, f"{name}_low": low, f"{name}_high": high}
        if approach == "isoflop":
            low, high = percentile_interval(seed_draws[column], level)
            summary[approach] |= {
                f"{name}_seeds_low": low,
                f"{name}_seeds_high": high,
                f"{name}_lobo_min": float(lobo[readout].min()),
                f"{name}_lobo_max": float(lobo[readout].max()),
            }
    for approach in APPROACHES:
        summary[approach]["failed_draws"] = int(draws[f"{approach}.n_opt_target"].isna().sum())
    return summary


def fit_scaling(
    curves: dict[str, list[pd.DataFrame]], config: IsoflopParams, vocab_size: int, seq_len: float, reference: dict | None
) -> ScalingResult:
    """All fits from the runs' curves ([model] -> one frame per seed, in `config.matrix.seed` order)."""
    layers = config.train.num_layers
    parameters = {model: parameter_count(h, layers, vocab_size) for model, h in config.matrix.hidden_sizes().items()}
    tokens = TokenCount(seq_len, layers, vocab_size)
    target = config.scaling.target_compute
    at = {"target": target} | ({"reference": reference["cumulative_flops"]} if reference else {})

    estimates = {}
    # Threaded BLAS costs L-BFGS on 5 parameters ~10x (threads woken for 5-element vectors).
    with threadpool_limits(limits=1, user_api="blas"):
        for loss in LOSSES:
            grid = read_grid(curves, parameters, config, loss)
            check_reach(grid)
            estimates[loss] = fit_estimates(grid, config, tokens, at, loss)
    primary = estimates[PRIMARY_LOSS]
    table = pd.concat([budget_table(e, curves, tokens) for e in estimates.values()], ignore_index=True)
    points = pd.concat([profile_points(e, config) for e in estimates.values()], ignore_index=True)
    draws = pd.concat([e.draws.assign(loss=loss) for loss, e in estimates.items()], ignore_index=True)
    iso, counted = primary.isoflop, [p for p in primary.profiles if p.counts]

    metrics = {
        "slope": iso.n_law.slope,
        "intercept": iso.n_law.intercept,
        "r2": iso.n_law.r2,
        "tokens_slope": iso.d_law.slope,
        "tokens_intercept": iso.d_law.intercept,
        "tokens_r2": iso.d_law.r2,
        "target_compute": target,
        "n_opt_at_target": iso.n_at(target),
        "d_opt_at_target": iso.d_at(target),
        "budgets_fitted": len(counted),
        "budgets_skipped": len(primary.profiles) - len(counted),
        "n_opt_per_budget": {budget_key(p.budget): p.n_opt for p in counted},
        "d_opt_per_budget": {budget_key(p.budget): float(tokens(p.n_opt, p.budget)) for p in counted},
        "r2_per_budget": {budget_key(p.budget): p.quadratic.r2 for p in counted},
        "mean_tokens_per_sequence": seq_len,
        "estimates": {loss: e.summary for loss, e in estimates.items()},
    }
    if target == 1e15:  # the assignment's question; the suggested key names
        metrics |= {"n_opt_at_1e15": metrics["n_opt_at_target"], "d_opt_at_1e15": metrics["d_opt_at_target"]}
    if reference is not None:
        c, level = reference["cumulative_flops"], config.scaling.bootstrap.level
        n_low, n_high = percentile_interval(primary.draws["isoflop.n_opt_reference"], level)
        d_low, d_high = percentile_interval(primary.draws["isoflop.d_opt_reference"], level)
        metrics["reference_setup"] = {
            "compute": c,
            "parameters": reference["non_embedding_parameters"],
            "tokens": reference["cumulative_tokens"],
            "n_opt": iso.n_at(c),
            "d_opt": iso.d_at(c),
            "n_opt_low": n_low,
            "n_opt_high": n_high,
            "d_opt_low": d_low,
            "d_opt_high": d_high,
            "size_ratio": reference["non_embedding_parameters"] / iso.n_at(c),  # > 1: larger than optimal
            "token_ratio": reference["cumulative_tokens"] / iso.d_at(c),
            "extrapolation_decades": float(np.log10(c / max(p.budget for p in counted))),
        }
    return ScalingResult(estimates, table, points, best_models(primary.grid), draws, finite(metrics))


def finite(data):
    """NaN (a readout without an answer) as null: JSON has no NaN, and MLflow then leaves it out."""
    if isinstance(data, dict):
        return {key: finite(value) for key, value in data.items()}
    if isinstance(data, float) and not np.isfinite(data):
        return None
    return data


def budget_table(estimates: Estimates, curves: dict[str, list[pd.DataFrame]], tokens: TokenCount) -> pd.DataFrame:
    """One row per budget: its parabola, N_opt and D_opt, and why members or the budget are left out."""
    grid = estimates.grid
    reached = ~np.isnan(grid.member_losses(grid.budget_losses))  # (M, K)
    rows = []
    for k, profile in enumerate(estimates.profiles):
        left_out = {m: reach(frames[0]["cumulative_flops"].to_numpy(), profile.budget) for m, frames in curves.items()}
        row = {
            "loss": estimates.loss,
            "budget": profile.budget,
            "models": profile.models,
            "left_out": "; ".join(f"{m}: {why}" for m, why in left_out.items() if why),
            "counts": profile.counts,
            "skipped": profile.reason,
        }
        if profile.quadratic is not None:
            q = profile.quadratic
            row |= {"a": q.a, "b": q.b, "c": q.c, "r2": q.r2}
        if profile.counts:
            sizes = grid.parameters[reached[:, k]]
            row |= {
                "n_opt": profile.n_opt,
                "d_opt": float(tokens(profile.n_opt, profile.budget)),
                "loss_at_n_opt": float(profile.quadratic(np.log10(profile.n_opt))),
                "n_opt_inside_grid": bool(sizes.min() <= profile.n_opt <= sizes.max()),
            }
        rows.append(row)
    return pd.DataFrame(rows)


def profile_points(estimates: Estimates, config: IsoflopParams) -> pd.DataFrame:
    """Every run's loss at every budget it reached (the profiles' points)."""
    grid = estimates.grid
    rows = [
        {
            "loss": estimates.loss,
            "budget": budget,
            "model": model,
            "seed": seed,
            "parameters": grid.parameters[i],
            "value": grid.budget_losses[i, j, k],
        }
        for i, model in enumerate(grid.members)
        for j, seed in enumerate(config.matrix.seed)
        for k, budget in enumerate(grid.budgets)
        if not np.isnan(grid.budget_losses[i, j, k])
    ]
    return pd.DataFrame(rows, columns=["loss", "budget", "model", "seed", "parameters", "value"])


def run_fit_scaling(setup: Setup, root: Path) -> None:
    config = setup.config
    curves, run_files = {}, {}
    for model in config.matrix.model:
        curves[model] = []
        for run, (run_model, _) in config.matrix.runs().items():
            if run_model != model:
                continue
            paths = STUDY.paths(run)
            files = [root / path for path in paths.lineage]  # also what finds the run in MLflow
            require_inputs(files, stage_name(run))
            curves[model].append(pd.read_csv(root / paths.curve_file))
            run_files[run] = files
    data = setup.data.prepared(root, config.train.dataset)
    data.check()
    seq_len = mean_tokens_per_sequence(read_pairs(data.folder / "train.txt"))
    vocab_size = len(Vocabulary.load(data.folder / VOCAB_FILE))
    # The decoder-only reference run, if trained: is its setup compute-optimal?
    reference_run = decoder_only_params.load().config.run_name
    reference_file = root / decoder_only.STUDY.paths(reference_run).metrics_file
    reference = json.loads(reference_file.read_text()) if reference_file.exists() else None

    started = time.perf_counter()
    result = fit_scaling(curves, config, vocab_size, seq_len, reference)
    seconds = time.perf_counter() - started
    figure_files = {key: SCALING_OUTPUT / f"{key}.png" for key in ("loss_vs_flops", "isoflop_profiles", "compute_optimal")}
    with staged_outputs(root, clear=[SCALING_METRICS, SCALING_TABLE, SCALING_OUTPUT]) as out:
        write_json(out.path(SCALING_METRICS), result.metrics)
        result.table.to_csv(out.path(SCALING_TABLE), index=False, float_format="%.6g")
        result.points.to_csv(out.path(SCALING_OUTPUT / "isoflop_points.csv"), index=False, float_format="%.6g")
        result.best.to_csv(out.path(SCALING_OUTPUT / "best_models.csv"), index=False, float_format="%.6g")
        result.draws.to_csv(out.path(SCALING_OUTPUT / "bootstrap_draws.csv"), index=False, float_format="%.6g")
        drawn = draw_figures(curves, result.table, result.points, result.metrics, result.draws, config)
        for key, figure in drawn.items():
            figure.savefig(out.path(figure_files[key]), dpi=110, metadata={"Software": None})

    _log_to_parent_run(config, run_files, result, drawn, root)
    for figure in drawn.values():
        figures.close(figure)
    m = result.metrics
    print(
        f"fit_scaling ({seconds:.1f} s): log10 N_opt = {m['slope']:.3f} log10 C + {m['intercept']:.3f} (R^2 {m['r2']:.3f}); "
        f"at C = {m['target_compute']:.3g}: N_opt = {m['n_opt_at_target']:.3g}, D_opt = {m['d_opt_at_target']:.3g}",
        file=sys.stderr,
    )


def _log_to_parent_run(config: IsoflopParams, run_files: dict, result: ScalingResult, drawn: dict, root: Path) -> None:
    """The fits belong to the grid: log them into the runs' parent run, which then shows the
    fit as its Source and a span from its creation (before the first run) to the fit's end."""
    from pipeline.core.tracking import NOTE_TAG, PARENT_RUN_TAG, RunTracker, client, cover_children, flatten, source_tags

    mlflow_client = client()
    parents, members = set(), []
    for run, files in run_files.items():
        found = find_run(mlflow_client, STUDY.experiment, outputs_fingerprint(*files), stage_name(run))
        parents.add(found.data.tags.get(PARENT_RUN_TAG))
        members.append(found)
    if len(parents) != 1 or None in parents:
        raise PipelineError(
            "the current IsoFLOP outputs come from runs of different MLflow parent runs (runs trained with different "
            "code or params); rerun the grid with `dvc repro -f isoflop` so one parent holds them all"
        )
    tracker = RunTracker.existing(parents.pop())
    # The fit's settings are tags, not params: one grid is fitted again with other scaling settings or other
    # seeds (the members of unchanged seeds keep their parent), and MLflow refuses to change a logged param.
    tracker.set_tags(flatten({"fit": {"scaling": config.scaling.model_dump(), "seeds": config.matrix.seed}}))
    scalars = {k: v for k, v in flatten(result.metrics).items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    tracker.log_metrics(scalars)
    tracker.log_table(result.table, "tables/budget_fits.json")
    tracker.log_table(result.points, "tables/isoflop_points.json")
    tracker.log_table(result.best, "tables/best_models.json")
    tracker.log_table(result.draws, "tables/bootstrap_draws.json")
    for key, figure in drawn.items():
        tracker.log_figure(figure, f"figures/{key}.png")
    tracker.set_tags(
        {
            "dvc_stage_fit": os.environ.get("DVC_STAGE", FIT_STAGE),
            **source_tags(),
            NOTE_TAG: PARENT_RUN_DESCRIPTION,
            OUTPUTS_TAG: outputs_fingerprint(root / SCALING_METRICS, root / SCALING_TABLE),
        }
    )
    try:  # MLflow cannot move the start: the parent was created before its first run, so it starts first
        cover_children(tracker.run_id, members, end_time=int(time.time() * 1000))
    except Exception as error:  # noqa: BLE001 - reported below with what else MLflow missed
        tracker.failures.append(f"extend the parent run's span over its runs and the fit: {error}")
    tracker.raise_if_incomplete(FIT_STAGE)
