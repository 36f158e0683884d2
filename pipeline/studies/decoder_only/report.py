"""Report section: the decoder-only translator (MLflow experiment `nmt-decoder-only`).

Its own run only; the comparison with the encoder-decoder (as trained, at matched training
FLOPs and at matched parameter counts) is a comparison across studies:
`pipeline/comparisons/translators.py`.
"""

from __future__ import annotations

import pandas as pd

from pipeline.core import figures
from pipeline.reporting import FIGURES, TABLES, ReportContext, Section, load_results, versus
from pipeline.studies.decoder_only import STAGE, STUDY, params

BATCH_MEAN = "val_loss_batch_mean"  # the notebooks' validation loss, per epoch
CURVES = (BATCH_MEAN, "cumulative_flops")  # the comparisons read the run with the same extras: one read


def render(ctx: ReportContext) -> list[str]:
    config = params.load().config
    name = config.run_name
    (run,) = load_results(ctx, STUDY, [name], lambda _: STAGE, extra_curves=CURVES)
    metrics, published = run.metrics, config.published.best_val_loss
    notebooks = metrics[f"best_{BATCH_MEAN}"]
    table = pd.DataFrame(
        [
            {
                "run": f"decoder-only {name}",
                "hidden": config.run.hidden_size,
                "layers": config.run.num_layers,
                "dataset": config.run.dataset,
                "parameters": int(metrics["parameters"]),
                "lowest val loss (notebooks)": round(notebooks, 4),
                "published range (notebooks)": f"{published[0]:.2f}-{published[1]:.2f}",
                "vs published": versus(notebooks, published),
                "lowest val loss (ours)": round(metrics["best_val_loss"], 4),
                "best epoch": int(metrics["best_epoch"]),
                "val word accuracy": round(metrics["val_word_accuracy"], 4),
                "train seconds": round(metrics["train_seconds"], 1),
                "training FLOPs": f"{metrics['cumulative_flops']:.3g}",
            }
        ]
    )
    table.to_csv(ctx.out.path(TABLES / "decoder_only_summary.csv"), index=False)
    figures.save(curves_figure(run.curve, name), ctx.out.path(FIGURES / "decoder_only_loss.png"))
    return [
        f"## Decoder-only translator (MLflow experiment `{STUDY.experiment}`)",
        "",
        "`<SOS> word <EOP> translation` in one causal sequence; the loss counts only the translation and `<EOS>`.",
        "Same building blocks as the encoder-decoder (single-head attention, no LayerNorm), no encoder and no",
        "cross-attention. Validation loss is per translated character, in the notebooks' definition (the mean of",
        "per-batch means, which the published range uses) and ours (every batch weighted by its characters).",
        "The comparison with the encoder-decoder, at matched training FLOPs and parameter counts, is in",
        '"Decoder-only vs encoder-decoder at matched compute and size" after the studies.',
        "",
        table.to_markdown(index=False),
        "",
        f"Cumulative training compute: {metrics['cumulative_flops']:.3g} FLOPs ({metrics['cumulative_tokens']:.3g} tokens).",
        "",
        "![decoder-only loss](figures/decoder_only_loss.png)",
        "",
        "### Decoder-only: sample translations",
        "",
        run.translations.rename(columns={"translation": f"decoder-only {name}"}).to_markdown(index=False),
        "",
    ]


def curves_figure(curve: pd.DataFrame, name: str):
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.2))
    axis.plot(curve["epoch"], curve[BATCH_MEAN], color="C3", label="validation (notebooks' definition)")
    axis.plot(curve["epoch"], curve["val_loss"], color="C3", ls=":", label="validation (ours)")
    axis.plot(curve["epoch"], curve["train_loss"], color="C3", ls="--", alpha=0.6, label="train (ours)")
    figures.log_axes(
        axis,
        logx=False,
        legend={"fontsize": 8},
        xlabel="epoch",
        ylabel="cross-entropy per translated character",
        title=f"decoder-only {name}",
    )
    figure.tight_layout()
    return figure


SECTION = Section(STUDY.name, render)
