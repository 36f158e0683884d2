"""Report section: the decoder-only translator beside the encoder-decoder runs."""

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
    versus,
)
from pipeline.studies import transformer
from pipeline.studies.decoder_only import STAGE, STUDY, params
from pipeline.studies.transformer import params as transformer_params


def render(ctx: ReportContext) -> list[str]:
    setup = params.load()
    config = setup.decoder_only
    name = config.run_name
    (run,) = load_results(ctx, STUDY, [name], lambda _: STAGE, extra_curves=("cumulative_flops",))
    metrics = run.metrics
    published = config.published_best_val_loss
    best = metrics["best_val_loss"]
    reference = metrics["best_val_loss_batch_mean"]  # the notebooks' definition, the published one

    rows = [{
        "run": f"decoder-only {name}", "architecture": "decoder-only", "hidden": config.run.hidden_size,
        "layers": config.run.num_layers, "dataset": config.run.dataset,
        "parameters": int(metrics["parameters"]), "lowest val loss": round(best, 4),
        "lowest val loss (reference)": round(reference, 4), "best epoch": int(metrics["best_epoch"]),
        "published range (reference)": f"{published[0]:.2f}-{published[1]:.2f} ({versus(reference, published)})",
        "val word accuracy": round(metrics["val_word_accuracy"], 4), "train seconds": round(metrics["train_seconds"], 1),
    }]
    encoder_decoder = transformer_params.load()
    # The same read as the transformer section's (shared through the report context).
    transformer_runs = load_results(ctx, transformer.STUDY, encoder_decoder.transformer.matrix.run_names(), transformer.stage_name)
    for other in transformer_runs:
        settings = encoder_decoder.transformer.runs[other.name]
        rows.append({
            "run": f"encoder-decoder {other.name}", "architecture": "encoder-decoder", "hidden": settings.hidden_size,
            "layers": settings.num_layers, "dataset": settings.dataset, "parameters": int(other.metrics["parameters"]),
            "lowest val loss": round(other.metrics["best_val_loss"], 4),
            "lowest val loss (reference)": round(other.metrics["best_val_loss_batch_mean"], 4),
            "best epoch": int(other.metrics["best_epoch"]), "published range (reference)": "see above", "val word accuracy": round(other.metrics["val_word_accuracy"], 4),
            "train seconds": round(other.metrics["train_seconds"], 1),
        })
    comparison = pd.DataFrame(rows)
    comparison.to_csv(ctx.out.path(TABLES / "decoder_only_vs_encoder_decoder.csv"), index=False)

    translations = run.translations.copy()
    same_data = [r for r in transformer_runs if encoder_decoder.transformer.runs[r.name].dataset == config.run.dataset]
    for other in same_data:
        translations[f"encoder-decoder {other.name}"] = other.translations.set_index("sentence").loc[
            translations["sentence"], "translation"].to_numpy()
    translations = translations.rename(columns={"translation": f"decoder-only {name}"})

    figures.save(curves_figure(run.curve, name, same_data), ctx.out.path(FIGURES / "decoder_only_loss.png"))
    return [
        f"## Decoder-only translator (MLflow experiment `{STUDY.experiment}`)",
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


def curves_figure(curve: pd.DataFrame, name: str, others: list[TranslatorResult]):
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.2))
    axis.plot(curve["epoch"], curve["val_loss"], color="C3", label=f"decoder-only {name} validation")
    axis.plot(curve["epoch"], curve["train_loss"], color="C3", ls="--", alpha=0.6, label=f"decoder-only {name} train")
    for i, run in enumerate(others):
        axis.plot(run.curve["epoch"], run.curve["val_loss"], color=f"C{i}", label=f"encoder-decoder {run.name} validation")
    axis.set(xlabel="epoch", ylabel="cross-entropy per translated character", yscale="log",
             title="Decoder-only vs encoder-decoder on the same data")
    axis.grid(alpha=0.3, which="both")
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


SECTION = Section(STUDY.name, render)
