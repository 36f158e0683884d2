"""Report section: the IsoFLOP grid and the scaling-law fits (MLflow experiment `isoflop`).

Everything is read from MLflow: the grid members are found by the hash of their current
DVC outputs, the fits from the grid's parent run, which `fit_scaling` tagged with the
hash of metrics/scaling.json and plots/scaling/budgets.csv.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from pipeline.core import figures
from pipeline.core.tracking import PARENT_RUN_TAG
from pipeline.reporting import (
    FIGURES,
    TABLES,
    ReportContext,
    Section,
    artifact_table,
    metric_curve,
)
from pipeline.studies import decoder_only
from pipeline.studies.decoder_only import params as decoder_only_params
from pipeline.studies.isoflop import (
    FIT_STAGE,
    PARENT_RUN_NAME,
    SCALING_METRICS,
    SCALING_TABLE,
    STUDY,
    params,
    stage_name,
)
from pipeline.studies.isoflop.figures import draw_figures
from pipeline.studies.isoflop.params import Setup
from pipeline.translation.flops import hidden_size_for
from pipeline.translation.vocab import VOCAB_FILE, Vocabulary


def render(ctx: ReportContext) -> list[str]:
    setup = params.load()
    config = setup.isoflop
    client, out = ctx.client, ctx.out
    members, curves, parents = [], {}, set()
    for model in config.matrix.model:
        run = ctx.run_for(STUDY, model, stage_name(model))
        curves[model] = metric_curve(client, run.info.run_id, ("cumulative_flops", "cumulative_tokens", "val_loss"))
        m = run.data.metrics
        members.append({
            "model": model, "hidden": config.matrix.hidden_sizes()[model], "N (non-embedding)": int(m["non_embedding_parameters"]),
            "epochs trained": int(m["epochs_trained"]), "cumulative FLOPs": f"{m['cumulative_flops']:.3g}",
            "lowest val loss": round(m["best_val_loss"], 4), "stopped at budget": bool(m["stopped_at_flop_budget"]),
            "train seconds": round(m["train_seconds"], 1), "tokens/s": round(m["tokens_per_second"]),
            "GFLOP/s": round(m["flops_per_second"] / 1e9, 2),
        })
        parents.add(run.data.tags.get(PARENT_RUN_TAG))
    members = pd.DataFrame(members)
    parent = ctx.run_for(STUDY, PARENT_RUN_NAME, FIT_STAGE, lineage=[SCALING_METRICS, SCALING_TABLE])
    table = artifact_table(client, parent.info.run_id, "tables/budget_fits.json")
    points = artifact_table(client, parent.info.run_id, "tables/isoflop_points.json")
    metrics = _unflatten(parent.data.metrics)

    members.to_csv(out.path(TABLES / "isoflop_members.csv"), index=False)
    table.to_csv(out.path(TABLES / "isoflop_budget_fits.csv"), index=False)
    for key, figure in draw_figures(curves, table, points, metrics, config).items():
        figures.save(figure, out.path(FIGURES / f"scaling_{key}.png"))

    shown = table.copy()
    for column in ("n_opt", "d_opt", "budget"):
        if column in shown:
            shown[column] = shown[column].map(lambda v: f"{v:.3g}" if pd.notna(v) else "")
    for column in ("a", "b", "c", "r2", "loss_at_n_opt"):
        if column in shown:
            shown[column] = shown[column].round(4)
    low, high = config.published_n_opt_at_1e15
    slow, shigh = config.published_slope
    target = metrics["target_compute"]
    lines = [
        f"## IsoFLOP grid and scaling laws (MLflow experiment `{STUDY.experiment}`, parent run `{PARENT_RUN_NAME}`)",
        "",
        f"{len(members)} decoder-only models ({config.train.num_layers} layer(s), {config.train.dataset} data, batch "
        f"{config.train.batch_size}); training FLOPs counted per batch with the assignment's formula "
        "(`pipeline/translation/flops.py`). " + (
            f"Each member stops after the epoch that passes {config.stop_at_flops:.3g} FLOPs "
            "(`isoflop.stop_at_flops`): the fits need each curve only up to the largest budget."
            if config.stop_at_flops else "Every member trains all epochs."),
        "",
        members.to_markdown(index=False),
        "",
        f"All {len(members)} are child runs of the parent run {', '.join(f'`{p}`' for p in sorted(map(str, parents)))}.",
        "`GFLOP/s` is the formula's training FLOPs over wall time.",
        "",
        "![loss vs FLOPs](figures/scaling_loss_vs_flops.png)",
        "",
        "### IsoFLOP profiles",
        "",
        "The loss of each model at a budget C is read off its per-epoch validation curve by linear interpolation in",
        "log10(cumulative FLOPs) between the two evaluations that bracket C; never extrapolated: a model whose curve",
        "ends before C, or whose first evaluation (end of epoch 1) comes after C, is left out for that budget.",
        f"A budget reached by fewer than {config.scaling.min_models_per_budget} models is skipped. Per budget:",
        "loss = a x^2 + b x + c with x = log10 N, N_opt = 10^(-b / 2a); `r2` is the fit's R^2 (with 3 points it is 1",
        "by construction). D_opt = C / (training FLOPs per token of a model with N_opt parameters), at the data's",
        f"token-weighted mean sequence length ({metrics['mean_tokens_per_sequence']:.2f} tokens).",
        "",
        shown.to_markdown(index=False),
        "",
        "![IsoFLOP profiles](figures/scaling_isoflop_profiles.png)",
        "",
        "### Compute-optimal model size and tokens",
        "",
        f"- log10 N_opt = {metrics['slope']:.3f} log10 C {metrics['intercept']:+.3f}  (R^2 {metrics['r2']:.3f}; "
        f"peers' slopes {slow:.2f}-{shigh:.2f})",
        f"- log10 D_opt = {metrics['tokens_slope']:.3f} log10 C {metrics['tokens_intercept']:+.3f}  (R^2 {metrics['tokens_r2']:.3f})",
        f"- At C = {target:.3g} FLOPs: **N_opt = {metrics['n_opt_at_target']:.3g}** parameters (peers: {low:.2g}-{high:.2g}), "
        f"**D_opt = {metrics['d_opt_at_target']:.3g}** tokens. This extrapolates "
        f"{np.log10(target / table['budget'].max()):.1f} decades past the largest budget from "
        f"{int(metrics['budgets_fitted'])} fitted budgets; judge it by the per-budget R^2 and the spread of N_opt above.",
        "",
        "![compute-optimal](figures/scaling_compute_optimal.png)",
        "",
    ]
    lines += _reference_setup_answer(metrics, setup, ctx)
    return lines


def _reference_setup_answer(metrics: dict, setup: Setup, ctx: ReportContext) -> list[str]:
    reference = metrics.get("reference_setup")
    if not reference:
        return []
    run_name = decoder_only_params.load().decoder_only.run_name
    decoder = json.loads((ctx.root / decoder_only.STUDY.paths(run_name).metrics_file).read_text())
    tokens_per_epoch = decoder["cumulative_tokens"] / decoder["epochs_trained"]
    n_ratio, d_ratio = reference["size_ratio"], reference["token_ratio"]
    direction = (
        f"**smaller** than compute-optimal by a factor {1 / n_ratio:.2g}" if n_ratio < 1
        else f"**larger** than compute-optimal by a factor {n_ratio:.2g}"
    )
    change = (
        "For the same compute, train a larger model on fewer tokens" if n_ratio < 1
        else "For the same compute, train a smaller model on more tokens"
    )
    if 0.8 <= n_ratio <= 1.25:  # well inside the spread of the per-budget optima
        direction = f"**close to compute-optimal** (its size is {n_ratio:.2g}x N_opt)"
        change = "If anything, for the same compute, train a " + change.split("train a ", 1)[1]
    return [
        f"### Is the {run_name}, {decoder['epochs_trained']}-epoch setup compute-optimal?",
        "",
        f"The decoder-only reference run used C = {reference['compute']:.3g} FLOPs with N = {int(reference['parameters']):,} "
        f"parameters on D = {reference['tokens']:.3g} tokens ({decoder['epochs_trained']} epochs of {tokens_per_epoch:,.0f} tokens).",
        f"The fitted laws give, at that C: N_opt = {reference['n_opt']:.3g} and D_opt = {reference['d_opt']:.3g} tokens "
        f"(~{reference['d_opt'] / tokens_per_epoch:.1f} epochs).",
        f"So the {run_name} model is {direction}, and it saw {d_ratio:.2g}x the compute-optimal "
        "number of tokens.",
        f"{change}: about N = {reference['n_opt']:.3g} (h ~ {_hidden(reference['n_opt'], setup, ctx):.0f} at "
        f"{setup.isoflop.train.num_layers} layer(s)) for ~{reference['d_opt'] / tokens_per_epoch:.0f} epochs.",
        (f"Caveat: C is {reference['extrapolation_decades']:.1f} decades beyond the largest fitted budget, so this rests on "
         "the power law holding that far; the per-budget N_opt above show how stable the trend is.")
        if reference["extrapolation_decades"] > 0 else "C lies inside the range of fitted budgets.",
        "",
    ]


def _hidden(parameters: float, setup: Setup, ctx: ReportContext) -> float:
    data = setup.piglatin.prepared(ctx.root, setup.isoflop.train.dataset)
    vocab_size = len(Vocabulary.load(data.folder / VOCAB_FILE))
    return hidden_size_for(parameters, setup.isoflop.train.num_layers, vocab_size)


def _unflatten(flat: dict[str, float]) -> dict:
    nested: dict = {}
    for key, value in flat.items():
        *parents, leaf = key.split(".")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


SECTION = Section(STUDY.name, render)
