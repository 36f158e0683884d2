"""Report section: every translator side by side, and the decoder-only against the encoder-decoder.

Listed after the studies' sections. The runs and what is computed from them are in
`translator_runs.py` (the registry of translator studies is there); the answers resting on
these tables in `translator_answers.py`. Differences are stated only beyond the run-to-run
spread the seeds measure.
"""

from __future__ import annotations

from pipeline.comparisons.translator_answers import ANSWERS, decoder_only_quality
from pipeline.comparisons.translator_runs import (
    EVERY_TRANSLATOR,
    LOSSES,
    MATCHED,
    TRANSLATIONS,
    TRANSLATOR_STUDIES,
    Contender,
    contenders,
    error_analysis,
    error_summary,
    every_translator_table,
    in_table,
    matched_flops,
    matched_size,
    sentence_score,
)
from pipeline.core import figures
from pipeline.reporting import FIGURES, TABLES, ReportContext, Section, translations_table


def compute_figure(found: list[Contender]):
    """Validation loss against cumulative training FLOPs, both definitions, every seed."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(13, 4.6), sharex=True)
    for axis, (definition, column) in zip(axes, LOSSES.items()):
        for i, c in enumerate(found):
            style = "-" if c.architecture == "encoder-decoder" else "--"
            for k, curve in enumerate(c.curves):
                axis.plot(
                    curve["cumulative_flops"],
                    curve[column],
                    ls=style,
                    color=f"C{i % 10}",
                    alpha=1 if k == 0 else 0.4,
                    label=f"{c.name} ({c.parameters:,} parameters)" if k == 0 else None,
                )
        figures.log_axes(
            axis, xlabel="cumulative training FLOPs", ylabel=f"validation cross-entropy per character ({definition})", title=f"{definition}"
        )
    axes[0].legend(fontsize=7)
    figure.suptitle("Decoder-only (dashed) vs encoder-decoder (solid) on the same data: loss vs training compute")
    figure.tight_layout()
    return figure


# ------------------------------------------------------------------- the section


def render(ctx: ReportContext) -> list[str]:
    out = ctx.out
    entries = in_table(ctx)
    everything = every_translator_table(entries)
    everything.to_csv(out.path(TABLES / "every_translator.csv"), index=False)
    results = [t.run for t in entries]
    translations = translations_table(results, label=lambda name: name)
    translations.to_csv(out.path(TABLES / "every_translator_translations.csv"), index=False)
    errors = ctx.memo("comparisons:errors", lambda: error_analysis(ctx, entries))
    errors.to_csv(out.path(TABLES / "every_translator_errors.csv"), index=False)
    scores = {t.name: sentence_score(t.run) for t in entries}

    found, dataset, flop_check = contenders(ctx)
    by_flops, by_size = matched_flops(found), matched_size(found)
    by_flops.to_csv(out.path(TABLES / "decoder_only_vs_encoder_decoder_flops.csv"), index=False)
    by_size.to_csv(out.path(TABLES / "decoder_only_vs_encoder_decoder_size.csv"), index=False)
    figures.save(compute_figure(found), out.path(FIGURES / "decoder_only_vs_encoder_decoder.png"))

    lines = [
        f"## {EVERY_TRANSLATOR}",
        "",
        "Every translator run of the pipeline, one row per configuration (studies: "
        + ", ".join(f"`{s.study.name}`" for s in TRANSLATOR_STUDIES if s.in_table)
        + "; the IsoFLOP grid's members are in its own section and below). `lowest val loss (notebooks)` is the assignment",
        "notebooks' definition, which the published ranges use; `(ours)` weights every batch by its characters.",
        "`spread`: max - min over the configuration's seeds. `s/epoch` includes the validation pass.",
        "",
        everything.to_markdown(index=False),
        "",
        f"### {TRANSLATIONS}",
        "",
        "The first six sentences are the assignment's (`an usual` as in the notebook); the rest are edge cases. Last column:",
        "words translated exactly by the rule, over all sentences.",
        "",
        translations.set_index("sentence")
        .T.rename_axis("run")
        .reset_index()
        .assign(**{"words right": lambda f: [f"{scores[r][0]}/{scores[r][1]}" for r in f["run"]]})
        .to_markdown(index=False),
        "",
        "### Error analysis: validation word accuracy by category",
        "",
        "A word counts in every category it falls in (`square`: `qu` and consonant cluster). The small and",
        "large runs are scored on their own validation sets (counts in the first two columns).",
        "",
        errors.to_markdown(index=False),
        "",
        *error_summary(errors, {t.name: t.run.params["run.dataset"] for t in entries}),
        f"## {MATCHED}",
        "",
        f"Every decoder-only and encoder-decoder configuration trained on the {dataset} data set: the assignment's decoder-only",
        "run, the IsoFLOP grid's members and the encoder-decoder runs. Training FLOPs follow the assignment's formula; the",
        "decoder-only runs logged theirs, the encoder-decoder's are counted from its hidden size, depth and training pairs",
        f"with the same conventions (`pipeline/comparisons/compute.py`; the same count gives {flop_check:.4f} x what the",
        "decoder-only run logged). The loss a configuration reaches within a budget is its lowest validation loss over the",
        "epochs that ended within it (the weights early stopping keeps).",
        "",
        "![decoder-only vs encoder-decoder](figures/decoder_only_vs_encoder_decoder.png)",
        "",
        "### At matched training FLOPs",
        "",
        "At each encoder-decoder run's whole training budget, every configuration whose training reached it:",
        "",
        by_flops.to_markdown(index=False),
        "",
        "### At matched parameter counts",
        "",
        "Each encoder-decoder beside the decoder-only configuration nearest to it in parameters, at the compute both reached:",
        "",
        by_size.to_markdown(index=False),
        "",
        "**Read together** (question 2.2.3a): " + decoder_only_quality(ctx).text,
        "",
    ]
    return lines


SECTION = Section("comparisons.translators", render, ANSWERS)
