"""`reports/report.md`, its tables and figures, generated from the MLflow store.

Each section selects exactly the MLflow runs that produced the current DVC outputs
(see `pipeline.lineage`), then reads their metrics, curves and tables from MLflow.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline import figures
from pipeline.errors import PipelineError
from pipeline.io import StagedOutputs, staged_outputs, write_text
from pipeline.lineage import find_run, outputs_fingerprint
from pipeline.params import Params
from pipeline.paths import DATA_METRICS, nmt_curve_file, nmt_metrics_file
from pipeline.tracking import client as mlflow_client

NMT_EXPERIMENT = "nmt-transformer"
REPORT = Path("reports/report.md")
FIGURES = Path("reports/figures")
TABLES = Path("reports/tables")


@dataclass
class TrackedRun:
    name: str
    run_id: str
    params: dict[str, str]
    metrics: dict[str, float]
    curve: pd.DataFrame  # epoch, iterations, train_loss, val_loss
    translations: pd.DataFrame  # sentence, translation


def load_nmt_runs(params: Params, root: Path) -> list[TrackedRun]:
    client = mlflow_client()
    runs = []
    for name in params.nmt.matrix.run_names():
        files = [root / nmt_metrics_file(name), root / nmt_curve_file(name)]
        for file in files:
            if not file.exists():
                raise PipelineError(f"{file}: missing; run `dvc repro train_nmt@{name}` first")
        run = find_run(client, NMT_EXPERIMENT, outputs_fingerprint(*files), f"train_nmt@{name}")
        runs.append(
            TrackedRun(
                name=name,
                run_id=run.info.run_id,
                params=run.data.params,
                metrics=run.data.metrics,
                curve=metric_curve(client, run.info.run_id),
                translations=artifact_table(client, run.info.run_id, "tables/sample_translations.json"),
            )
        )
    return runs


def metric_curve(client, run_id: str, keys: tuple[str, ...] = ("iterations", "train_loss", "val_loss")) -> pd.DataFrame:
    """Per-epoch metric histories of a run as one frame, one row per epoch (= step)."""
    columns = {}
    for key in keys:
        history = client.get_metric_history(run_id, key)
        columns[key] = pd.Series({m.step: m.value for m in history})
    curve = pd.DataFrame(columns).rename_axis("epoch").reset_index()
    return curve.sort_values("epoch").reset_index(drop=True)


def artifact_table(client, run_id: str, artifact: str) -> pd.DataFrame:
    with tempfile.TemporaryDirectory() as scratch:
        path = client.download_artifacts(run_id, artifact, scratch)
        payload = json.loads(Path(path).read_text())
    return pd.DataFrame(payload["data"], columns=payload["columns"])


def nmt_summary(params: Params, runs: list[TrackedRun]) -> pd.DataFrame:
    rows = []
    for run in runs:
        config = params.nmt.runs[run.name]
        low, high = params.report.published_best_val_loss.get(run.name, (float("nan"), float("nan")))
        best = run.metrics["best_val_loss"]
        if low != low:  # no published figure for this run
            verdict = "n/a"
        else:
            verdict = "below" if best < low else "inside" if best <= high else "above"
        rows.append(
            {
                "run": run.name,
                "hidden": config.hidden_size,
                "dataset": config.dataset,
                "layers": config.num_layers,
                "batch": config.batch_size,
                "epochs trained": int(run.metrics["epochs_trained"]),
                "best epoch": int(run.metrics["best_epoch"]),
                "lowest val loss": round(best, 4),
                "published range": f"{low:.2f}-{high:.2f}" if low == low else "n/a",
                "vs published": verdict,
                "val word accuracy": round(run.metrics["val_word_accuracy"], 4),
                "val targets > decode limit": int(run.metrics.get("val_targets_over_max_len", 0)),
                "train seconds": round(run.metrics["train_seconds"], 1),
                "tokens/s": round(run.metrics["tokens_per_second"]),
            }
        )
    return pd.DataFrame(rows)


def translations_table(runs: list[TrackedRun]) -> pd.DataFrame:
    table = pd.DataFrame({"sentence": runs[0].translations["sentence"]})
    for run in runs:
        table[run.name] = run.translations.set_index("sentence").loc[table["sentence"], "translation"].to_numpy()
    return table


def comparison_figure(runs: list[TrackedRun], params: Params, vary: str):
    """Loss vs iterations; one panel per value of the fixed axis, one colour per value of `vary`."""
    import matplotlib.pyplot as plt

    fixed = "dataset" if vary == "model" else "model"
    panels = getattr(params.nmt.matrix, fixed)
    by_name = {run.name: run for run in runs}
    figure, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for axis, panel in zip(axes[0], panels):
        for colour, value in enumerate(getattr(params.nmt.matrix, vary)):
            name = f"{value}-{panel}" if vary == "model" else f"{panel}-{value}"
            curve = by_name[name].curve
            axis.plot(curve["iterations"], curve["val_loss"], color=f"C{colour}", label=f"{name} validation")
            axis.plot(curve["iterations"], curve["train_loss"], color=f"C{colour}", ls="--", alpha=0.6, label=f"{name} train")
        axis.set(xlabel="iterations (optimizer steps)", ylabel="cross-entropy per character", title=f"{fixed} = {panel}")
        axis.set_yscale("log")
        axis.grid(alpha=0.3, which="both")
        axis.legend(fontsize=8)
    figure.suptitle(f"Loss vs iterations, by {'hidden size' if vary == 'model' else 'dataset size'}")
    figure.tight_layout()
    return figure


# A section renders one study: it reads its runs from MLflow, writes its tables and
# figures through `out.path(...)` (staged, committed only if the whole report succeeds)
# and returns its markdown lines. Studies of later issues live in their own modules and
# are imported lazily so this module stays light.
Section = Callable[[Params, Path, StagedOutputs], list[str]]


def _sections() -> list[Section]:
    # The other studies' sections import this module (and heavier ones): import them here.
    from pipeline.bert.report import bert_section
    from pipeline.clip.report import clip_section
    from pipeline.scaling_report import decoder_only_section, scaling_section

    return [data_section, nmt_section, decoder_only_section, scaling_section, bert_section, clip_section]


def write_report(params: Params, root: Path) -> None:
    with staged_outputs(root, clear=[REPORT, FIGURES, TABLES]) as out:
        lines = [
            "# Attention experiments: report",
            "",
            "Generated by `dvc repro` (stage `report`) from the MLflow runs that produced the current",
            "DVC outputs (matched by the `dvc_outputs_sha256` tag). Do not edit by hand.",
            "",
        ]
        for section in _sections():
            lines += section(params, root, out)
        write_text(out.path(REPORT), "\n".join(lines))


def data_section(params: Params, root: Path, out: StagedOutputs) -> list[str]:
    if not (root / DATA_METRICS).exists():
        return []
    data_stats = json.loads((root / DATA_METRICS).read_text())
    stats = pd.DataFrame(data_stats).T.rename_axis("dataset").reset_index()
    return ["## Data", "", stats.to_markdown(index=False), ""]


def nmt_section(params: Params, root: Path, out: StagedOutputs) -> list[str]:
    runs = load_nmt_runs(params, root)
    summary = nmt_summary(params, runs)
    pivot = summary.pivot(index="hidden", columns="dataset", values="lowest val loss")
    translations = translations_table(runs)
    summary.to_csv(out.path(TABLES / "nmt_summary.csv"), index=False)
    translations.to_csv(out.path(TABLES / "nmt_translations.csv"), index=False)
    figures.save(comparison_figure(runs, params, vary="model"), out.path(FIGURES / "nmt_loss_by_hidden_size.png"))
    figures.save(comparison_figure(runs, params, vary="dataset"), out.path(FIGURES / "nmt_loss_by_dataset_size.png"))
    return [
        "## Transformer encoder-decoder (MLflow experiment `nmt-transformer`)",
        "",
        "### Lowest validation loss (cross-entropy per character)",
        "",
        pivot.to_markdown(),
        "",
        summary.to_markdown(index=False),
        "",
        "`published range`: lowest validation losses seen in published runs of the same assignment.",
        "`val word accuracy`: exact match of the greedy translation of each validation word; targets longer",
        "than the decoding limit (`nmt.eval.max_decode_len` characters) can never match, so they cap it.",
        "",
        "### Loss curves",
        "",
        "![loss by hidden size](figures/nmt_loss_by_hidden_size.png)",
        "",
        "![loss by dataset size](figures/nmt_loss_by_dataset_size.png)",
        "",
        "### Sample translations (greedy decoding, word by word)",
        "",
        translations.to_markdown(index=False),
        "",
    ]
