"""Report section: the recurrent and single-block translators (MLflow experiment `nmt-recurrent`).

The table of every translator the pipeline trains, their translations side by side and the
error analysis by word category are a comparison across studies: `pipeline/comparisons/`.
"""

from __future__ import annotations

import pandas as pd

from pipeline.core import figures
from pipeline.reporting import FIGURES, TABLES, ReportContext, Section, TranslatorResult, artifact_table, load_results, versus
from pipeline.studies.recurrent import STUDY, params
from pipeline.studies.recurrent.answers import ANSWERS, ATTENTION_EXAMPLE, FAILURES, SUMMARY, TIMING, attention_example, failure_mode
from pipeline.translators.attention_maps import attention_figure

BATCH_MEAN = "val_loss_batch_mean"
ATTENTION_MODEL = "rnn-additive-attention"
ASSIGNMENT_SENTENCES = 6  # piglatin.eval.sentences starts with the assignment's six


def _range(published) -> str:
    return f"{published[0]:.2f}-{published[1]:.2f}" if published else "n/a"


def _seconds_per_epoch(run: TranslatorResult) -> float:
    return run.metrics["train_seconds"] / run.metrics["epochs_trained"]


def summary(config, runs: list[TranslatorResult]) -> pd.DataFrame:
    rows = []
    for run in runs:
        settings = config.runs[run.name]
        published = config.published.best_val_loss.get(run.name)
        reference = run.metrics[f"best_{BATCH_MEAN}"]
        rows.append(
            {
                "run": run.name,
                "model": settings.model,
                "cell": "-" if settings.model == "single-block-attention" else settings.cell,
                "dataset": settings.dataset,
                "hidden": settings.hidden_size,
                "batch": settings.batch_size,
                "epochs trained": int(run.metrics["epochs_trained"]),
                "best epoch": int(run.metrics["best_epoch"]),
                "lowest val loss (notebooks)": round(reference, 4),
                "published range (notebooks)": _range(published),
                "vs published": versus(reference, published),
                "lowest val loss (ours)": round(run.metrics["best_val_loss"], 4),
                "val word accuracy": round(run.metrics["val_word_accuracy"], 4),
                "parameters": int(run.metrics["parameters"]),
                "s/epoch": round(_seconds_per_epoch(run), 2),
                "train seconds": round(run.metrics["train_seconds"], 1),
                "tokens/s": round(run.metrics["tokens_per_second"]),
            }
        )
    return pd.DataFrame(rows)


def loss_figure(runs: list[TranslatorResult]):
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    for colour, run in enumerate(runs):
        axis = axes[0] if run.name.endswith("large") else axes[1]
        curve = run.curve
        axis.plot(curve["epoch"], curve[BATCH_MEAN], color=f"C{colour}", label=f"{run.name} validation")
        axis.plot(curve["epoch"], curve["train_loss"], color=f"C{colour}", ls="--", alpha=0.5)
    for axis, title in zip(axes, ("large data set", "small data set")):
        figures.log_axes(
            axis, logx=False, legend={"fontsize": 8}, xlabel="epoch", ylabel="cross-entropy per character", title=f"{title} (dashed: train)"
        )
    figure.tight_layout()
    return figure


def render(ctx: ReportContext) -> list[str]:
    setup = params.load()
    config = setup.config
    runs = load_results(ctx, STUDY, list(config.runs), STUDY.stage_name, extra_curves=(BATCH_MEAN,))
    table = summary(config, runs)
    out = ctx.out
    table.to_csv(out.path(TABLES / "recurrent_summary.csv"), index=False)
    figures.save(loss_figure(runs), out.path(FIGURES / "recurrent_loss.png"))

    lines = [
        f"## {SUMMARY}",
        "",
        "The 2021/2022 versions of the assignment: GRU and LSTM encoder-decoders (cells written from the",
        "handout's equations, tested against `torch.nn.GRUCell`/`LSTMCell`), a GRU decoder with additive",
        "attention, and the 2022 notebook's single-block scaled dot-product attention model (no positional",
        "encoding), on the same data and vocabulary as the transformers.",
        "",
        table.to_markdown(index=False),
        "",
        "Two validation losses: **notebooks** is what the assignment's notebooks printed, the mean of per-batch",
        "mean losses (`val_loss_batch_mean`), the definition of every published range, so `vs published` compares",
        "that column; **ours** weights every batch by its characters (the project's `best_val_loss`).",
        "`s/epoch` includes the validation pass. Each run was trained once (no run-to-run spread measured).",
        "",
        "![recurrent losses](figures/recurrent_loss.png)",
        "",
        *_target_lines(config, table),
    ]
    lines += _attention_lines(ctx, config, runs)
    lines += _timing_lines(config, runs)
    lines += _failure_lines(ctx, config)
    lines += _attention_example_lines(ctx)

    return lines


def _target_lines(config, table: pd.DataFrame) -> list[str]:
    """The issue's targets, read off the table: published ranges, and attention against no attention."""
    judged = table[table["vs published"] != "n/a"]
    above = judged[judged["vs published"] == "above"]
    lines = [
        f"**Against the published ranges** (notebooks' definition): {len(judged) - len(above)} of {len(judged)} runs are inside or below."
    ]
    for _, row in above.iterrows():
        loss, published = row["lowest val loss (notebooks)"], row["published range (notebooks)"]
        still_improving = row["best epoch"] == row["epochs trained"]
        lines.append(
            f"`{row['run']}` is above ({loss:.3f} against {published})"
            + ("; its best epoch is its last, so it was still improving when the epoch budget ended." if still_improving else ".")
        )
    by_run = table.set_index("run")
    for name, run in config.runs.items():
        if run.model != ATTENTION_MODEL or name not in by_run.index:
            continue
        same = [
            n for n, r in config.runs.items() if r.model == "rnn" and r.cell == run.cell and r.dataset == run.dataset and n in by_run.index
        ]
        for other in same:
            better = by_run.loc[name, "val word accuracy"] > by_run.loc[other, "val word accuracy"]
            lines.append(
                f"**Attention against none** on the same data: `{name}` reaches word accuracy "
                f"{by_run.loc[name, 'val word accuracy']:.3f}, `{other}` {by_run.loc[other, 'val word accuracy']:.3f} "
                f"({'higher' if better else 'NOT higher'} with attention)."
            )
    return [" ".join(lines), ""]


def _attention_lines(ctx: ReportContext, config, runs: list[TranslatorResult]) -> list[str]:
    lines = ["### Attention maps", ""]
    for run in runs:
        if config.runs[run.name].model != ATTENTION_MODEL:
            continue
        attention = artifact_table(ctx.client, run.run_id, "tables/attention_maps.json")
        file = FIGURES / f"recurrent_attention_{run.name}.png"
        figures.save(attention_figure(attention, f"{run.name}: attention weights"), ctx.out.path(file))
        lines += [
            f"`{run.name}`: each row is one output character, each column a source character; the weights of a",
            "row sum to 1. A translator that learnt the rule attends to the first vowel while it copies the",
            "word's tail, then back to the moved consonants before `ay`.",
            "",
            f"![attention maps of {run.name}](figures/{file.name})",
            "",
        ]
    return lines


def _timing_lines(config, runs: list[TranslatorResult]) -> list[str]:
    by_name = {run.name: run for run in runs}
    attention = [n for n, r in config.runs.items() if r.model == ATTENTION_MODEL and n in by_name]
    plain = [n for n, r in config.runs.items() if r.model == "rnn" and n in by_name]
    if not attention or not plain:
        return []
    a, p = by_name[attention[0]], by_name[plain[0]]
    a_config, p_config = config.runs[a.name], config.runs[p.name]
    ratio = _seconds_per_epoch(a) / _seconds_per_epoch(p)
    return [
        f"### {TIMING}",
        "",
        f"`{a.name}` (hidden {a_config.hidden_size}) takes {_seconds_per_epoch(a):.2f} s per epoch, "
        f"`{p.name}` (hidden {p_config.hidden_size}, same data and batch size) {_seconds_per_epoch(p):.2f} s: "
        f"{ratio:.1f}x. Without attention a decoder step is one cell update; with it, each of the T decoder steps first",
        "scores all S source annotations (an MLP over [state; annotation] for every source character, a softmax and a",
        "weighted sum) and the cell reads a 2H-wide input, so the work per word grows as T x S instead of T + S. The",
        "controlled comparison at equal hidden size is in the written-questions section.",
        "",
    ]


def _failure_lines(ctx: ReportContext, config) -> list[str]:
    """The commonest error of the best plain decoder of each cell, with examples (questions P1.2 of 2021/2022)."""
    cells = sorted({r.cell for r in config.runs.values() if r.model == "rnn"})
    lines = [
        f"### {FAILURES}",
        "",
        "For each cell, the plain decoder (no attention) whose greedy translations of its validation words are best; its",
        "wrong words sorted into kinds (checked in this order: the right letters in the wrong order, too short, too long,",
        "wrong letters), and the shortest examples of its commonest kind.",
        "",
    ]
    for cell in cells:
        mode = failure_mode(ctx, cell)
        if mode is None:
            continue
        lines += [
            f"`{mode.run}`: {100 * mode.accuracy:.1f}% of {mode.words} validation words right; {100 * mode.share:.0f}% of its "
            f"{mode.errors} errors are {mode.kind}. Accuracy by word length: "
            + ", ".join(f"{c.removeprefix('length ')} letters {a:.3f}" for c, a in mode.by_length.items())
            + ".",
            "",
            mode.examples.rename(columns={"source": "input", "target": "expected", "prediction": "output"}).to_markdown(index=False),
            "",
        ]
    return lines


def _attention_example_lines(ctx: ReportContext) -> list[str]:
    lines = [f"### {ATTENTION_EXAMPLE}", ""]
    for cell in ("gru", "lstm"):
        example = attention_example(ctx, cell)
        if example is None:
            continue
        lines += [
            f"- {example.where} `{example.source}` (expected `{example.target}`): `{example.attention}` -> "
            f"`{example.with_attention}`, `{example.plain}` -> `{example.without_attention}`."
        ]
    return [*lines, ""]


SECTION = Section(STUDY.name, render, ANSWERS)
