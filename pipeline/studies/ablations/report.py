"""Report section: the ablations (MLflow experiment `ablations`), read through `results.load`."""

from __future__ import annotations

import pandas as pd

from pipeline.core import figures
from pipeline.reporting import FIGURES, TABLES, ReportContext, Section, artifact_table, translations_table
from pipeline.studies.ablations import STUDY
from pipeline.studies.ablations.answers import ANSWERS, ATTENTION_HEADING, POSITIONS_HEADING, UNMASKED_HEADING
from pipeline.studies.ablations.data import LONGER, bucket_labels
from pipeline.studies.ablations.figures import loss_by_length_figure, loss_curves_figure
from pipeline.studies.ablations.results import ACCURACY, NOTEBOOKS, OURS, SECONDS_PER_EPOCH, TRAIN_LOSS, Results, load

SAMPLE_WORDS = 10  # validation words shown with the causal and the unmasked model's translations


def positions_table(results: Results) -> pd.DataFrame:
    """Each encoding on the lengths it trained on."""
    config = results.setup.config
    return pd.DataFrame(
        [
            {
                "encoding": encoding,
                "lowest val loss": variant.cell(OURS),
                "lowest val loss (notebooks)": variant.cell(NOTEBOOKS),
                f"val word accuracy (<= {config.train_max_length} chars)": variant.cell(ACCURACY),
                "final train loss": variant.cell(TRAIN_LOSS),
            }
            for encoding, variant in results.positions.items()
        ]
    )


def length_table(results: Results) -> pd.DataFrame:
    """Each encoding on the longer words it never trained on, per length bucket and all together."""
    config = results.setup.config
    buckets = [*bucket_labels(config.length_buckets, config.train_max_length)[1:], LONGER]
    name = {bucket: f"all > {config.train_max_length}" if bucket == LONGER else bucket for bucket in buckets}
    rows = []
    for encoding in results.positions:
        tested = results.length_variant(encoding)
        present = [bucket for bucket in buckets if tested.values(f"words.{bucket}")]
        rows.append(
            {"encoding": encoding}
            | {f"loss, {name[b]} chars": tested.cell(f"loss.{b}") for b in present}
            | {f"word accuracy, {name[b]} chars": tested.cell(f"word_accuracy.{b}") for b in present}
        )
    return pd.DataFrame(rows)


def length_words(results: Results) -> str:
    """How many words each length bucket holds, and which runs could not represent some of them."""
    config = results.setup.config
    tested = results.length_variant(next(iter(results.positions)))
    counts = [
        f"{bucket}: {int(tested.mean(f'words.{bucket}'))}"
        for bucket in [*bucket_labels(config.length_buckets, config.train_max_length), LONGER]
        if tested.values(f"words.{bucket}")
    ]
    unrepresentable = [
        f"`{run.name}` {int(run.metrics[f'unrepresentable.{LONGER}'])}"
        for encoding in results.positions
        for run in results.length_variant(encoding).runs
        if run.metrics.get(f"unrepresentable.{LONGER}")
    ]
    note = f" Words a model has too few positions for (scored wrong): {', '.join(unrepresentable)}." if unrepresentable else ""
    return f"Words per length bucket: {', '.join(counts)}.{note}"


def unmasked_table(results: Results) -> pd.DataFrame:
    rows = []
    for variant in (results.causal, results.unmasked):
        rows.append(
            {
                "decoder self-attention": variant.label,
                "runs": ", ".join(f"`{run.name}`" for run in variant.runs),
                "final train loss": variant.cell(TRAIN_LOSS),
                "lowest val loss (teacher forced)": variant.cell(OURS),
                "lowest val loss (notebooks)": variant.cell(NOTEBOOKS),
                "val word accuracy (greedy)": variant.cell(ACCURACY),
            }
        )
    return pd.DataFrame(rows)


def sample_predictions(ctx: ReportContext, results: Results) -> pd.DataFrame:
    """The first validation words with both models' greedy translations (first replicate of each)."""
    causal, unmasked = results.causal.runs[0], results.unmasked.runs[0]
    tables = {
        run.name: artifact_table(ctx.client, run.run_id, "tables/val_predictions.json").head(SAMPLE_WORDS) for run in (causal, unmasked)
    }
    first = tables[causal.name]
    return pd.DataFrame(
        {
            "source": first["source"],
            "target": first["target"],
            f"causal (`{causal.name}`)": first["prediction"],
            f"unmasked (`{unmasked.name}`)": tables[unmasked.name]["prediction"].to_numpy(),
        }
    )


def attention_table(results: Results) -> pd.DataFrame:
    rows = []
    for kind, variant in results.attention.items():
        rows.append(
            {
                "attention": kind,
                "parameters": ", ".join(sorted({f"{int(v):,}" for v in variant.values("parameters")})),
                "lowest val loss": variant.cell(OURS),
                "lowest val loss (notebooks)": variant.cell(NOTEBOOKS),
                "val word accuracy": variant.cell(ACCURACY),
                "seconds per epoch": variant.cell(SECONDS_PER_EPOCH, 2),
                "epochs": ", ".join(sorted({str(int(v)) for v in variant.values("epochs_trained")})),
            }
        )
    return pd.DataFrame(rows)


def render(ctx: ReportContext) -> list[str]:
    results = load(ctx)
    config = results.setup.config
    out = ctx.out
    positions, lengths = positions_table(results), length_table(results)
    unmasked, attention = unmasked_table(results), attention_table(results)
    samples = sample_predictions(ctx, results)
    sentences = translations_table([results.causal.runs[0], results.unmasked.runs[0]])
    tables = {
        "positions": positions,
        "length_generalisation": lengths,
        "unmasked": unmasked,
        "attention": attention,
        "unmasked_samples": samples,
        "unmasked_sentences": sentences,
    }
    for name, table in tables.items():
        table.to_csv(out.path(TABLES / f"ablations_{name}.csv"), index=False)
    figures.save(
        loss_by_length_figure(results.length_rows, config.train_max_length), out.path(FIGURES / "ablations_length_generalisation.png")
    )
    for name, variants, title, train in (
        ("positions", results.positions.values(), "Positional encodings: validation loss", False),
        ("unmasked", [results.causal, results.unmasked], "Causal vs unmasked decoder: training and validation loss", True),
        ("attention", results.attention.values(), "Additive vs scaled dot-product attention (GRU)", True),
    ):
        curves = {variant.label: [run.curve for run in variant.runs] for variant in variants}
        figures.save(loss_curves_figure(curves, title, train), out.path(FIGURES / f"ablations_{name}_curves.png"))
    transformer, rnn = config.transformer, config.attention.run
    return [
        f"## Ablations: the conceptual questions, run (MLflow experiment `{STUDY.experiment}`)",
        "",
        f"Small runs of the shared translator loop. Every transformer ablation is the encoder-decoder at hidden "
        f"{transformer.hidden_size}, {transformer.num_layers} layer{'s' * (transformer.num_layers > 1)}, batch {transformer.batch_size}, {transformer.epochs} "
        f"epochs at lr {transformer.lr:g}, trained on the {transformer.dataset} set's words of at most "
        f"{config.train_max_length} characters (validation: the validation words of those lengths). {results.spread_note()}",
        "",
        f"### {POSITIONS_HEADING}",
        "",
        "On the lengths trained on:",
        "",
        positions.to_markdown(index=False),
        "",
        "`lowest val loss`: teacher-forced cross-entropy per character on the validation words of the trained lengths "
        "(ours, each batch weighted by its characters; `notebooks`: the mean of per-batch means); `val word accuracy`: "
        "exact greedy translations of those words.",
        "",
        f"On longer words, none of which any model trained on (run `{results.length_run}`, stage `evaluate_ablations`, "
        "each model at its best epoch): teacher-forced loss per character and exact-match word accuracy per "
        "source-length bucket.",
        "",
        lengths.to_markdown(index=False),
        "",
        length_words(results),
        "",
        "![length generalisation](figures/ablations_length_generalisation.png)",
        "",
        "![validation loss by encoding](figures/ablations_positions_curves.png)",
        "",
        f"### {UNMASKED_HEADING}",
        "",
        "The same transformer, its decoder's self-attention without the causal mask (its cross-attention reads the source "
        "and never had one); its causal twin is the sinusoidal run of the same replicate.",
        "",
        unmasked.to_markdown(index=False),
        "",
        "![causal vs unmasked](figures/ablations_unmasked_curves.png)",
        "",
        "Greedy translations of validation words (first replicate of each):",
        "",
        samples.to_markdown(index=False),
        "",
        sentences.to_markdown(index=False),
        "",
        f"### {ATTENTION_HEADING}",
        "",
        f"The recurrent study's GRU encoder-decoder with attention, hidden {rnn.hidden_size}, batch {rnn.batch_size}, "
        f"{rnn.epochs} epochs at lr {rnn.lr:g} on the whole {rnn.dataset} set, with the additive score "
        "(`AdditiveAttention`: an MLP on [s; h_j]) or the scaled dot product (`StepDotAttention`: (W_q s).(W_k h_j)/sqrt(H)); "
        "the values are the annotations in both, and everything else starts from the same weights. Seconds per epoch: "
        "training time over epochs trained, on the machine that ran the stage.",
        "",
        attention.to_markdown(index=False),
        "",
        "![attention curves](figures/ablations_attention_curves.png)",
        "",
    ]


SECTION = Section(STUDY.name, render, answers=ANSWERS)
