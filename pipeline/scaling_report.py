"""Report sections for the decoder-only translator and the IsoFLOP grid / scaling fits.

Everything is read from MLflow: the decoder-only run and the grid members are found by
the hash of their current DVC outputs (`pipeline.lineage`), the fits from the grid's
parent run, which `fit_scaling` tagged with the hash of metrics/scaling.json.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import figures
from pipeline.io import StagedOutputs
from pipeline.lineage import find_run, outputs_fingerprint
from pipeline.params import Params
from pipeline.paths import SCALING_METRICS, SCALING_TABLE, run_curve_file, run_metrics_file
from pipeline.report import FIGURES, TABLES, artifact_table, load_nmt_runs, metric_curve
from pipeline.tracking import PARENT_RUN_TAG
from pipeline.tracking import client as mlflow_client

DECODER_ONLY_EXPERIMENT = "nmt-decoder-only"
GRID_EXPERIMENT = "isoflop"


def _find(client, experiment: str, study: str, name: str, stage: str, root: Path):
    files = [root / run_metrics_file(study, name), root / run_curve_file(study, name)]
    return find_run(client, experiment, outputs_fingerprint(*files), stage)


# ------------------------------------------------------------------ decoder-only


def decoder_only_section(params: Params, root: Path, out: StagedOutputs) -> list[str]:
    client = mlflow_client()
    name = params.decoder_only.run_name
    run = _find(client, DECODER_ONLY_EXPERIMENT, "decoder_only", name, "train_decoder_only", root)
    metrics = run.data.metrics
    curve = metric_curve(client, run.info.run_id, ("iterations", "train_loss", "val_loss", "cumulative_flops"))
    low, high = params.report.published_decoder_only_val_loss
    best = metrics["best_val_loss"]
    verdict = "below" if best < low else "inside" if best <= high else "above"

    rows = [{
        "run": f"decoder-only {name}", "architecture": "decoder-only", "hidden": params.decoder_only.run.hidden_size,
        "layers": params.decoder_only.run.num_layers, "dataset": params.decoder_only.run.dataset,
        "parameters": int(metrics["parameters"]), "lowest val loss": round(best, 4), "best epoch": int(metrics["best_epoch"]),
        "published range": f"{low:.2f}-{high:.2f} ({verdict})", "val word accuracy": round(metrics["val_word_accuracy"], 4),
        "train seconds": round(metrics["train_seconds"], 1),
    }]
    nmt_runs = load_nmt_runs(params, root)
    for nmt in nmt_runs:
        config = params.nmt.runs[nmt.name]
        rows.append({
            "run": f"encoder-decoder {nmt.name}", "architecture": "encoder-decoder", "hidden": config.hidden_size,
            "layers": config.num_layers, "dataset": config.dataset, "parameters": int(nmt.metrics["parameters"]),
            "lowest val loss": round(nmt.metrics["best_val_loss"], 4), "best epoch": int(nmt.metrics["best_epoch"]),
            "published range": "see above", "val word accuracy": round(nmt.metrics["val_word_accuracy"], 4),
            "train seconds": round(nmt.metrics["train_seconds"], 1),
        })
    comparison = pd.DataFrame(rows)
    comparison.to_csv(out.path(TABLES / "decoder_only_vs_encoder_decoder.csv"), index=False)

    translations = artifact_table(client, run.info.run_id, "tables/sample_translations.json")
    same_data = [r for r in nmt_runs if params.nmt.runs[r.name].dataset == params.decoder_only.run.dataset]
    for nmt in same_data:
        translations[f"encoder-decoder {nmt.name}"] = nmt.translations.set_index("sentence").loc[
            translations["sentence"], "translation"].to_numpy()
    translations = translations.rename(columns={"translation": f"decoder-only {name}"})

    figure = _curves_figure(curve, name, same_data)
    figures.save(figure, out.path(FIGURES / "decoder_only_loss.png"))
    return [
        "## Decoder-only translator (MLflow experiment `nmt-decoder-only`)",
        "",
        "`<SOS> word <EOP> translation` in one causal sequence; the loss counts only the translation and `<EOS>`.",
        "Same building blocks as the encoder-decoder (single-head attention, no LayerNorm), no encoder and no",
        "cross-attention. Validation loss is per translated character in both architectures, so the columns compare.",
        "",
        comparison.to_markdown(index=False),
        "",
        f"Cumulative training compute of the decoder-only run: {metrics['cumulative_flops']:.3g} FLOPs "
        f"({metrics['cumulative_tokens']:.3g} tokens).",
        "",
        "![decoder-only loss](figures/decoder_only_loss.png)",
        "",
        "### Sample translations",
        "",
        translations.to_markdown(index=False),
        "",
    ]


def _curves_figure(curve: pd.DataFrame, name: str, nmt_runs):
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.2))
    axis.plot(curve["epoch"], curve["val_loss"], color="C3", label=f"decoder-only {name} validation")
    axis.plot(curve["epoch"], curve["train_loss"], color="C3", ls="--", alpha=0.6, label=f"decoder-only {name} train")
    for i, run in enumerate(nmt_runs):
        axis.plot(run.curve["epoch"], run.curve["val_loss"], color=f"C{i}", label=f"encoder-decoder {run.name} validation")
    axis.set(xlabel="epoch", ylabel="cross-entropy per translated character", yscale="log",
             title="Decoder-only vs encoder-decoder on the same data")
    axis.grid(alpha=0.3, which="both")
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


# ----------------------------------------------------------------- IsoFLOP grid


def scaling_section(params: Params, root: Path, out: StagedOutputs) -> list[str]:
    from pipeline.scaling_study import draw_figures

    client = mlflow_client()
    members, curves, parents = [], {}, set()
    for model in params.isoflop.matrix.model:
        run = _find(client, GRID_EXPERIMENT, "isoflop", model, f"isoflop@{model}", root)
        curves[model] = metric_curve(client, run.info.run_id, ("cumulative_flops", "cumulative_tokens", "val_loss"))
        m = run.data.metrics
        members.append({
            "model": model, "hidden": params.isoflop.matrix.hidden_sizes()[model], "N (non-embedding)": int(m["non_embedding_parameters"]),
            "epochs trained": int(m["epochs_trained"]), "cumulative FLOPs": f"{m['cumulative_flops']:.3g}",
            "lowest val loss": round(m["best_val_loss"], 4), "stopped at budget": bool(m["stopped_at_flop_budget"]),
            "train seconds": round(m["train_seconds"], 1), "tokens/s": round(m["tokens_per_second"]),
            "GFLOP/s": round(m["flops_per_second"] / 1e9, 2),
        })
        parents.add(run.data.tags.get(PARENT_RUN_TAG))
    members = pd.DataFrame(members)
    parent = find_run(client, GRID_EXPERIMENT, outputs_fingerprint(root / SCALING_METRICS, root / SCALING_TABLE), "fit_scaling")
    table = artifact_table(client, parent.info.run_id, "tables/budget_fits.json")
    points = artifact_table(client, parent.info.run_id, "tables/isoflop_points.json")
    metrics = _unflatten(parent.data.metrics)

    members.to_csv(out.path(TABLES / "isoflop_members.csv"), index=False)
    table.to_csv(out.path(TABLES / "isoflop_budget_fits.csv"), index=False)
    for key, figure in draw_figures(curves, table, points, metrics, params).items():
        figures.save(figure, out.path(FIGURES / f"scaling_{key}.png"))

    shown = table.copy()
    for column in ("n_opt", "d_opt", "budget"):
        if column in shown:
            shown[column] = shown[column].map(lambda v: f"{v:.3g}" if pd.notna(v) else "")
    for column in ("a", "b", "c", "r2", "loss_at_n_opt"):
        if column in shown:
            shown[column] = shown[column].round(4)
    low, high = params.report.published_n_opt_at_1e15
    slow, shigh = params.report.published_slope
    target = metrics["target_compute"]
    lines = [
        "## IsoFLOP grid and scaling laws (MLflow experiment `isoflop`, parent run `isoflop-grid`)",
        "",
        f"{len(members)} decoder-only models ({params.isoflop.train.num_layers} layer(s), {params.isoflop.train.dataset} data, batch "
        f"{params.isoflop.train.batch_size}); training FLOPs counted per batch with the assignment's formula "
        "(`pipeline/flops.py`). " + (
            f"Each member stops after the epoch that passes {params.isoflop.stop_at_flops:.3g} FLOPs "
            "(`isoflop.stop_at_flops`): the fits need each curve only up to the largest budget."
            if params.isoflop.stop_at_flops else "Every member trains all epochs."),
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
        f"A budget reached by fewer than {params.scaling.min_models_per_budget} models is skipped. Per budget:",
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
    lines += _reference_setup_answer(metrics, params, root)
    return lines


def _reference_setup_answer(metrics: dict, params: Params, root: Path) -> list[str]:
    reference = metrics.get("reference_setup")
    if not reference:
        return []
    import json

    decoder = json.loads((root / run_metrics_file("decoder_only", params.decoder_only.run_name)).read_text())
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
        f"### Is the {params.decoder_only.run_name}, {decoder['epochs_trained']}-epoch setup compute-optimal?",
        "",
        f"The decoder-only reference run used C = {reference['compute']:.3g} FLOPs with N = {int(reference['parameters']):,} "
        f"parameters on D = {reference['tokens']:.3g} tokens ({decoder['epochs_trained']} epochs of {tokens_per_epoch:,.0f} tokens).",
        f"The fitted laws give, at that C: N_opt = {reference['n_opt']:.3g} and D_opt = {reference['d_opt']:.3g} tokens "
        f"(~{reference['d_opt'] / tokens_per_epoch:.1f} epochs).",
        f"So the {params.decoder_only.run_name} model is {direction}, and it saw {d_ratio:.2g}x the compute-optimal "
        "number of tokens.",
        f"{change}: about N = {reference['n_opt']:.3g} (h ~ {_hidden(reference['n_opt'], params):.0f} at "
        f"{params.isoflop.train.num_layers} layer(s)) for ~{reference['d_opt'] / tokens_per_epoch:.0f} epochs.",
        (f"Caveat: C is {reference['extrapolation_decades']:.1f} decades beyond the largest fitted budget, so this rests on "
         "the power law holding that far; the per-budget N_opt above show how stable the trend is.")
        if reference["extrapolation_decades"] > 0 else "C lies inside the range of fitted budgets.",
        "",
    ]


def _hidden(parameters: float, params: Params) -> float:
    from pipeline.flops import hidden_size_for
    from pipeline.vocab import VOCAB

    return hidden_size_for(parameters, params.isoflop.train.num_layers, len(VOCAB))


def _unflatten(flat: dict[str, float]) -> dict:
    nested: dict = {}
    for key, value in flat.items():
        *parents, leaf = key.split(".")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested
