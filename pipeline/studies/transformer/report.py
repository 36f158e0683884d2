"""Report section: the transformer encoder-decoder runs (MLflow experiment `nmt-transformer`)."""

from __future__ import annotations

import pandas as pd

from pipeline.core import figures
from pipeline.reporting import (
    FIGURES,
    TABLES,
    ReportContext,
    Section,
    TranslatorResult,
    load_results,
    translations_table,
    versus,
)
from pipeline.studies.transformer import STUDY, params, stage_name
from pipeline.studies.transformer.params import TransformerParams


def summary(config: TransformerParams, runs: list[TranslatorResult]) -> pd.DataFrame:
    rows = []
    for run in runs:
        settings = config.runs[run.name]
        published = config.published_best_val_loss.get(run.name)
        best = run.metrics["best_val_loss"]
        reference = run.metrics["best_val_loss_batch_mean"]  # the notebooks' definition, the published one
        rows.append(
            {
                "run": run.name,
                "hidden": settings.hidden_size,
                "dataset": settings.dataset,
                "layers": settings.num_layers,
                "batch": settings.batch_size,
                "epochs trained": int(run.metrics["epochs_trained"]),
                "best epoch": int(run.metrics["best_epoch"]),
                "lowest val loss": round(best, 4),
                "lowest val loss (reference)": round(reference, 4),
                "published range (reference)": f"{published[0]:.2f}-{published[1]:.2f}" if published else "n/a",
                "vs published": versus(reference, published),
                "val word accuracy": round(run.metrics["val_word_accuracy"], 4),
                "val targets > decode limit": int(run.metrics.get("val_targets_over_max_len", 0)),
                "train seconds": round(run.metrics["train_seconds"], 1),
                "tokens/s": round(run.metrics["tokens_per_second"]),
            }
        )
    return pd.DataFrame(rows)


def comparison_figure(runs: list[TranslatorResult], config: TransformerParams, vary: str):
    """Loss vs iterations; one panel per value of the fixed axis, one colour per value of `vary`."""
    import matplotlib.pyplot as plt

    fixed = "dataset" if vary == "model" else "model"
    panels = getattr(config.matrix, fixed)
    by_name = {run.name: run for run in runs}
    figure, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for axis, panel in zip(axes[0], panels):
        for colour, value in enumerate(getattr(config.matrix, vary)):
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


def render(ctx: ReportContext) -> list[str]:
    setup = params.load()
    config = setup.transformer
    runs = load_results(ctx, STUDY, config.matrix.run_names(), stage_name)
    table = summary(config, runs)
    pivot = table.pivot(index="hidden", columns="dataset", values="lowest val loss")
    translations = translations_table(runs)
    out = ctx.out
    table.to_csv(out.path(TABLES / "transformer_summary.csv"), index=False)
    translations.to_csv(out.path(TABLES / "transformer_translations.csv"), index=False)
    figures.save(comparison_figure(runs, config, vary="model"), out.path(FIGURES / "transformer_loss_by_hidden_size.png"))
    figures.save(comparison_figure(runs, config, vary="dataset"), out.path(FIGURES / "transformer_loss_by_dataset_size.png"))
    return [
        f"## Transformer encoder-decoder (MLflow experiment `{STUDY.experiment}`)",
        "",
        "### Lowest validation loss (cross-entropy per character)",
        "",
        pivot.to_markdown(),
        "",
        table.to_markdown(index=False),
        "",
        "`lowest val loss` is ours, every batch weighted by its characters (`best_val_loss`); `(reference)` is the",
        "assignment notebooks' figure, the mean of per-batch mean losses (`best_val_loss_batch_mean`), the lowest over",
        "epochs. `published range (reference)`: lowest validation losses of published runs of the same assignment, in",
        "the notebooks' definition, so `vs published` compares that column.",
        "`val word accuracy`: exact match of the greedy translation of each validation word; targets longer",
        "than the decoding limit (`piglatin.eval.max_decode_len` characters) can never match, so they cap it.",
        "",
        "### Loss curves",
        "",
        "![loss by hidden size](figures/transformer_loss_by_hidden_size.png)",
        "",
        "![loss by dataset size](figures/transformer_loss_by_dataset_size.png)",
        "",
        "### Sample translations (greedy decoding, word by word)",
        "",
        translations.to_markdown(index=False),
        "",
    ]


SECTION = Section(STUDY.name, render)
