"""Report section: the transformer encoder-decoder runs (MLflow experiment `nmt-transformer`).

The headline column is the assignment notebooks' validation loss, which every published
figure uses; ours stands beside it (`results.py` says why both, and reads the runs).
"""

from __future__ import annotations

import pandas as pd

from pipeline.core import figures
from pipeline.reporting import FIGURES, TABLES, ReportContext, Section, TranslatorResult, translations_table, versus
from pipeline.studies.transformer import STUDY
from pipeline.studies.transformer.answers import ANSWERS
from pipeline.studies.transformer.params import TransformerParams
from pipeline.studies.transformer.results import CURVES, EFFECTS, HEADLINE, NOTEBOOKS, OURS, Configurations, effects, load


def summary(configurations: Configurations) -> pd.DataFrame:
    config, rows = configurations.config, []
    for run in configurations.runs:
        settings = config.runs[run.name]
        published = config.published.best_val_loss.get(run.name)
        notebooks, spread = run.metrics[NOTEBOOKS], configurations.spread(run.name, NOTEBOOKS)
        ours_spread = configurations.spread(run.name, OURS)
        rows.append(
            {
                "run": run.name,
                "hidden": settings.hidden_size,
                "dataset": settings.dataset,
                "layers": settings.num_layers,
                "batch": settings.batch_size,
                "seeds": len(configurations.seeds[run.name]),
                "lowest val loss (notebooks)": round(notebooks, 4),
                "spread (notebooks)": round(spread, 4) if spread is not None else "-",
                "published range (notebooks)": f"{published[0]:.2f}-{published[1]:.2f}" if published else "n/a",
                "vs published": versus(notebooks, published),
                "lowest val loss (ours)": round(run.metrics[OURS], 4),
                "spread (ours)": round(ours_spread, 4) if ours_spread is not None else "-",
                "best epoch": int(run.metrics["best_epoch"]),
                "epochs trained": int(run.metrics["epochs_trained"]),
                "val word accuracy": round(run.metrics["val_word_accuracy"], 4),
                "val targets > decode limit": int(run.metrics.get("val_targets_over_max_len", 0)),
                "train seconds": round(run.metrics["train_seconds"], 1),
                "tokens/s": round(run.metrics["tokens_per_second"]),
            }
        )
    return pd.DataFrame(rows)


def comparison_figure(runs: list[TranslatorResult], config: TransformerParams, vary: str):
    """Validation loss vs iterations in both definitions (rows); one column per value of the fixed axis,
    one colour per value of `vary`. Training loss (dashed) is logged in our definition only."""
    import matplotlib.pyplot as plt

    fixed = "dataset" if vary == "model" else "model"
    panels = getattr(config.matrix, fixed)
    by_name = {run.name: run for run in runs}
    figure, axes = plt.subplots(2, len(panels), figsize=(5.5 * len(panels), 7.5), squeeze=False, sharex="col")
    for row, (definition, column) in enumerate(CURVES.items()):
        for axis, panel in zip(axes[row], panels):
            for colour, value in enumerate(getattr(config.matrix, vary)):
                name = f"{value}-{panel}" if vary == "model" else f"{panel}-{value}"
                curve = by_name[name].curve
                axis.plot(curve["iterations"], curve[column], color=f"C{colour}", label=f"{name} validation")
                if definition == "ours":
                    axis.plot(curve["iterations"], curve["train_loss"], color=f"C{colour}", ls="--", alpha=0.6, label=f"{name} train")
            figures.log_axes(
                axis,
                logx=False,
                legend={"fontsize": 8},
                ylabel=f"cross-entropy per character ({definition})",
                title=f"{fixed} = {panel}, {definition}",
            )
    for axis in axes[-1]:
        axis.set_xlabel("iterations (optimizer steps)")
    figure.suptitle(
        f"Loss vs iterations, by {'hidden size' if vary == 'model' else 'dataset size'}: "
        "the notebooks' validation loss (top) and ours (bottom)"
    )
    figure.tight_layout()
    return figure


# ------------------------------------------------------------------- the section


def render(ctx: ReportContext) -> list[str]:
    configurations = load(ctx)
    config, runs = configurations.config, configurations.runs
    table = summary(configurations)
    pivot = table.assign(cell=[f"{n:.4f} ({o:.4f})" for n, o in zip(table["lowest val loss (notebooks)"], table["lowest val loss (ours)"])])
    pivot = pivot.pivot(index="hidden", columns="dataset", values="cell")[config.matrix.dataset]
    translations = translations_table(runs)
    out = ctx.out
    table.to_csv(out.path(TABLES / "transformer_summary.csv"), index=False)
    translations.to_csv(out.path(TABLES / "transformer_translations.csv"), index=False)
    figures.save(comparison_figure(runs, config, vary="model"), out.path(FIGURES / "transformer_loss_by_hidden_size.png"))
    figures.save(comparison_figure(runs, config, vary="dataset"), out.path(FIGURES / "transformer_loss_by_dataset_size.png"))
    return [
        f"## Transformer encoder-decoder (MLflow experiment `{STUDY.experiment}`)",
        "",
        f"### {HEADLINE}",
        "",
        "Lowest validation loss, the notebooks' definition (ours in brackets):",
        "",
        pivot.to_markdown(),
        "",
        table.to_markdown(index=False),
        "",
        "`lowest val loss (notebooks)` is the assignment notebooks' figure, the mean of per-batch mean losses",
        "(`best_val_loss_batch_mean`), the lowest over epochs: every published figure uses it, so `vs published` compares",
        "it with `published range (notebooks)` (published runs of 2022-2025). `(ours)` weights every batch by its characters",
        "(`best_val_loss`). " + configurations.seeds_note(),
        "`val word accuracy`: exact match of the greedy translation of each validation word; targets longer",
        "than the decoding limit (`piglatin.eval.max_decode_len` characters) can never match, so they cap it.",
        "",
        "![loss by hidden size](figures/transformer_loss_by_hidden_size.png)",
        "",
        "![loss by dataset size](figures/transformer_loss_by_dataset_size.png)",
        "",
        f"### {EFFECTS}",
        "",
        " ".join(effects(ctx, configurations)),
        "",
        "### Transformer: sample translations (greedy decoding, word by word)",
        "",
        translations.to_markdown(index=False),
        "",
    ]


SECTION = Section(STUDY.name, render, ANSWERS)
