"""Report section: Turkish -> English (MLflow experiment `turkish-english`).

Light on purpose (no torch, until the answers and the 3.2c table build the models). Every
number comes from the MLflow runs behind the current `metrics/turkish/*.json`,
`plots/turkish/*.csv` and `timings/turkish/*.json` (found by `ReportContext.run_for`, read through `results`, which the
answers share) or from the prepare stage's statistics; published figures come from
params.yaml. The homework answers are sentences chosen by the measured differences;
the answer sheet's entries are `answers.ANSWERS`.
"""

from __future__ import annotations

import json

import pandas as pd

from pipeline.core import figures
from pipeline.core.io import require_inputs
from pipeline.reporting import FIGURES, TABLES, ReportContext, Section
from pipeline.studies.turkish import PREPARE_STAGE, STATISTICS, STUDY, params
from pipeline.studies.turkish.answers import (
    ANSWERS,
    EFFECTS_HEADING,
    FITTING_HEADING,
    INTERFACE_HEADING,
    LOSS_HEADING,
    TRANSFORMER_HEADING,
    interfaces,
)
from pipeline.studies.turkish.figures import loss_curves, timing_curves
from pipeline.studies.turkish.params import TurkishParams
from pipeline.studies.turkish.results import (
    BOOTSTRAP_SAMPLES,
    CLEAR,
    SIGNIFICANCE,
    TurkishRun,
    architecture_runs,
    effects_table,
    load_benchmark,
    load_runs,
    paired_scores,
)


def render(ctx: ReportContext) -> list[str]:
    config = params.load().config
    require_inputs([ctx.root / STATISTICS], PREPARE_STAGE)
    data = json.loads((ctx.root / STATISTICS).read_text())
    runs = load_runs(ctx, config)
    cells = architecture_runs(runs)  # the recipe once per cell, and the transformer
    ablations = [run for run in runs if run not in cells]

    scores = scores_table(runs)
    samples = samples_table(cells or runs)
    effects = effects_table(config, cells, ablations)
    scores.to_csv(ctx.out.path(TABLES / "turkish_scores.csv"), index=False)
    samples.to_csv(ctx.out.path(TABLES / "turkish_sample_translations.csv"), index=False)
    effects.to_csv(ctx.out.path(TABLES / "turkish_effects.csv"), index=False)
    shown = cells or runs
    title = " vs ".join(dict.fromkeys(CELL_NAMES.get(r.cell, r.cell) for r in shown)) + " encoder-decoder"
    figures.save(loss_curves({r.name: r.curve for r in shown}, title), ctx.out.path(FIGURES / "turkish_loss_curves.png"))
    lines = [
        f"## Turkish -> English with an encoder-decoder: RNN, LSTM, Transformer (MLflow experiment `{STUDY.experiment}`)",
        "",
        *data_lines(config, data),
        *model_lines(config, runs),
        "### Scores on the test split",
        "",
        scores.to_markdown(index=False),
        "",
        f"BLEU and chrF: sacrebleu corpus scores against one reference per pair ({int(runs[0].metrics['test_sentences'])} "
        "test sentences); `copy source` scores the Turkish sentence itself as the translation. `train BLEU`: the same",
        "score on as many training pairs (how well the model reproduces what it trained on). Validation and test",
        "losses are measured free running (teacher forcing 0), the training loss with the run's teacher forcing.",
        "",
        f"### {LOSS_HEADING}",
        "",
        "![loss curves](figures/turkish_loss_curves.png)",
        "",
        "### Sample translations (test split)",
        "",
        samples.to_markdown(index=False),
        "",
    ]
    if ablations:
        figures.save(
            loss_curves({r.name: r.curve for r in runs if r.cell == ablations[0].cell}, "Ablations"),
            ctx.out.path(FIGURES / "turkish_ablations.png"),
        )
        lines += [
            f"### {EFFECTS_HEADING}",
            "",
            "Each ablation changes one setting of the run it is compared with; differences are ablation minus base.",
            "",
            effects.to_markdown(index=False),
            "",
            *effect_sentences(effects),
            "",
            "![ablations](figures/turkish_ablations.png)",
            "",
        ]
    lines += [f"### {FITTING_HEADING}", "", *fitting_sentences(runs, cells, ablations), "", *transformer_lines(ctx, config, cells)]
    return lines


def data_lines(config: TurkishParams, data: dict) -> list[str]:
    splits, tokenizers = data["splits"], data["tokenizers"]
    raw = data["raw"]
    size = ", ".join(f"{v['pairs']} {k} ({v['english_sentences']} English sentences)" for k, v in splits.items())
    vocab = ", ".join(
        f"{language} {info['kind']} {info['vocab_size']:,} pieces (test: {info['test']['mean_tokens']:.1f} tokens per sentence, "
        f"{info['test']['truncated_share']:.0%} cut at {config.max_length}, [UNK] rate {info['test']['unk_rate']:.2%})"
        for language, info in tokenizers.items()
    )
    source = f"`{raw['file']}` ({raw['pairs']:,} pairs)" if "pairs" in raw else raw["file"]
    return [
        f"Data: {source}, split with seed {config.split.seed} into {size}; English sentences in two splits: "
        f"{data['english_sentences_in_two_splits']}. Tokenizers: {vocab}.",
        "",
    ]


def model_lines(config: TurkishParams, runs: list[TurkishRun]) -> list[str]:
    recipe = config.recipe
    lstm = next((run for run in runs if run.cell == "lstm" and not set(run.changes) - {"cell"}), None)
    reference = int(lstm.metrics["reference_parameters"]) if lstm else 0
    same = "exactly the count of" if reference == config.published.parameters else "which differs from"
    count = (
        [
            f"Built with the hub tokenizers' vocabularies ({config.reference_vocab_sizes[0]:,} Turkish, {config.reference_vocab_sizes[1]:,} "
            f"English) the LSTM model has {reference:,} parameters, {same} the homework's reference model ({config.published.parameters:,})."
        ]
        if lstm
        else []
    )
    return [
        f"Model (the homework's): embedding {recipe.embedding_dim}, hidden {recipe.hidden_size}, {recipe.num_layers} layers, "
        f"dropout {recipe.dropout:g}; the encoder's final state initialises the decoder; teacher forcing {recipe.teacher_forcing:g} "
        f"in training, 0 in evaluation; clipping {recipe.grad_clip:g}; init U(-{recipe.init_range:g}, {recipe.init_range:g}); "
        f"Adam lr {recipe.lr:g}, batch {recipe.batch_size}; at most {recipe.epochs} epochs; {SELECTION[recipe.select_by].format(patience=recipe.patience)}; "
        f"greedy decoding up to {config.max_length} tokens or [SEP].",
        *count,
        "",
    ]


SELECTION = {
    "val_chrf": (
        "the kept weights are those of the epoch with the highest validation chrF (greedy translations of the validation "
        "split), and training stops after {patience} epochs without a higher one (the reference kept its lowest-validation-loss "
        "epoch instead: here that loss bottoms out while every translation is still the same few tokens)"
    ),
    "val_loss": "early stopping after {patience} epochs without a lower validation loss, the lowest-loss weights kept (the reference's rule)",
}


def scores_table(runs: list[TurkishRun]) -> pd.DataFrame:
    rows = []
    for run in runs:
        m = run.metrics
        rows.append(
            {
                "run": run.name,
                "cell": run.cell,
                "changes": ", ".join(f"{k}={v}" for k, v in run.changes.items() if k != "cell") or "-",
                "parameters": f"{int(m['parameters']):,}",
                "train pairs": int(m["train_pairs"]),
                "epochs (kept)": f"{int(m['epochs_trained'])} ({int(m['best_epoch'])})",
                "val chrF at kept": round(m["val_chrf_at_best"], 2),
                "lowest val loss (epoch)": f"{m['best_val_loss']:.3f} ({int(m['best_val_loss_epoch'])})",
                "val loss at kept": round(m["val_loss_at_best"], 3),
                "test loss": round(m["test_loss"], 3),
                "BLEU": round(m["bleu"], 2),
                "chrF": round(m["chrf"], 2),
                "train BLEU": round(m["train_bleu"], 2),
                "s/epoch": round(m["seconds_per_epoch"], 2),
            }
        )
    first = runs[0].metrics
    rows.append(
        {"run": "copy source", "cell": "-", "changes": "-", "BLEU": round(first["copy_bleu"], 2), "chrF": round(first["copy_chrf"], 2)}
    )
    table = pd.DataFrame(rows)
    return table.astype(object).where(table.notna(), "")  # the baseline row has scores only


def samples_table(runs: list[TurkishRun]) -> pd.DataFrame:
    table = runs[0].samples[["turkish", "reference"]].copy()
    for run in runs:
        table[run.name] = run.samples["translation"].to_numpy()
    return table


def _direction(delta: float, tolerance: float = 0.005) -> str:
    return "raised" if delta > tolerance else "lowered" if delta < -tolerance else "left about unchanged"


def effect_sentences(effects: pd.DataFrame) -> list[str]:
    lines = []
    for row in effects.to_dict("records"):
        lines.append(
            f"- **{row['change']}** ({row['run']} vs {row['base']}): {_direction(row['Δ final train loss'])} the final training loss "
            f"({row['Δ final train loss']:+.3f}) and {_direction(row['Δ best val loss'])} the best validation loss "
            f"({row['Δ best val loss']:+.3f}); validation chrF {row['Δ val chrF at kept']:+.2f}, test BLEU {row['Δ BLEU']:+.2f}, "
            f"train BLEU {row['Δ train BLEU']:+.2f}."
        )
    return lines


def fitting_sentences(runs: list[TurkishRun], cells: list[TurkishRun], ablations: list[TurkishRun]) -> list[str]:
    lines = []
    for run in runs:
        m = run.metrics
        lowest, kept, last = int(m["best_val_loss_epoch"]), int(m["best_epoch"]), int(m["epochs_trained"])
        rise = m["final_val_loss"] - m["best_val_loss"]
        drop = m["train_loss_at_best"] - m["final_train_loss"]
        if lowest < last and rise > 0:
            loss = (
                f"the validation loss was lowest at epoch {lowest} ({m['best_val_loss']:.3f}) and ended {rise:+.3f} higher at epoch "
                f"{last}, while the training loss kept falling (overfitting, as the loss sees it)"
            )
        else:
            loss = f"the validation loss was still falling at the last epoch ({last}): no overfitting by the loss"
        chrf = m["val_chrf_at_best"]
        after = (
            f"after which the training loss changed by {-drop:+.3f} in {last - kept} more epochs"
            if kept < last
            else "the last epoch trained"
        )
        lines.append(
            f"- `{run.name}`: {loss}; the epoch-{kept} weights were kept (validation chrF {chrf:.1f}, validation loss "
            f"{m['val_loss_at_best']:.3f}), {after}. Train BLEU {m['train_bleu']:.1f} vs test BLEU {m['bleu']:.1f}."
        )
    by_name = {run.name: run for run in runs}
    for ablation in ablations:
        base = next((c for c in cells if c.cell == ablation.cell), None)
        if base is None:
            continue
        d_val = ablation.metrics["best_val_loss"] - base.metrics["best_val_loss"]
        d_chrf = ablation.metrics["val_chrf_at_best"] - base.metrics["val_chrf_at_best"]
        if "dropout" in ablation.changes:
            lines.append(
                f"- Dropout: without it (`{ablation.name}`) the lowest validation loss is {d_val:+.3f} against `{base.name}` and it is "
                f"reached at epoch {int(ablation.metrics['best_val_loss_epoch'])} instead of {int(base.metrics['best_val_loss_epoch'])}; "
                f"the kept epoch's validation chrF is {d_chrf:+.2f}; "
                + (
                    "dropout held overfitting back."
                    if d_val > CLEAR
                    else f"a difference below {CLEAR} nats, too small to credit dropout with preventing overfitting in runs this short."
                )
            )
        if "train_pairs" in ablation.changes:
            lines.append(
                f"- Data: with {int(ablation.metrics['train_pairs'])} instead of {int(base.metrics['train_pairs'])} training pairs "
                f"(`{ablation.name}`) the lowest validation loss is {d_val:+.3f} and the kept epoch's validation chrF {d_chrf:+.2f}; "
                + (
                    "more data is what counters overfitting most directly."
                    if d_val > CLEAR
                    else "the smaller set did not validate clearly worse here."
                )
            )
    if "rnn" in by_name and "lstm" in by_name:
        rnn, lstm = by_name["rnn"].metrics, by_name["lstm"].metrics
        fitted = max(rnn["train_bleu"], lstm["train_bleu"]) >= 50
        lines.append(
            f"- Underfitting: the training loss went from {rnn['train_loss_at_best']:.3f} at the kept epoch to "
            f"{rnn['final_train_loss']:.3f} at the last (RNN), {lstm['train_loss_at_best']:.3f} to {lstm['final_train_loss']:.3f} "
            f"(LSTM), and the models reproduce their own training pairs at BLEU {rnn['train_bleu']:.1f} / {lstm['train_bleu']:.1f}: "
            + (
                "they fit the training set."
                if fitted
                else "neither fits the training set in this budget (the reference needed ~500 epochs). Stopping on the free-running "
                "validation loss would end training long before that; the validation translations go on improving after it."
            )
        )
    return lines


# ------------------------------------------------------------------ question 3.2

CELL_NAMES = {"rnn": "RNN", "lstm": "LSTM", "transformer": "Transformer"}


def transformer_lines(ctx: ReportContext, config: TurkishParams, cells: list[TurkishRun]) -> list[str]:
    """Homework 3.2: the architectures' test scores compared pairwise, the benchmark's batch times, 3.2c's call table."""
    transformer = next((run for run in cells if run.cell == "transformer"), None)
    if transformer is None:  # params.yaml trains none
        return []
    recipe = config.recipe_for(transformer.name)
    comparisons = comparison_table(ctx, cells)
    timing = load_benchmark(ctx)
    times = timing_table(timing)
    comparisons.to_csv(ctx.out.path(TABLES / "turkish_architecture_comparison.csv"), index=False)
    times.to_csv(ctx.out.path(TABLES / "turkish_batch_times.csv"), index=False)
    figures.save(timing_curves(timing), ctx.out.path(FIGURES / "turkish_batch_times.png"))
    lines = [
        f"### {TRANSFORMER_HEADING}",
        "",
        f"`{transformer.name}` is `model.TransformerSeq2Seq`: torch's `nn.TransformerEncoder` and `nn.TransformerDecoder`, "
        f"{recipe.num_layers} pre-LayerNorm layers each, width {recipe.hidden_size} (the token embeddings' size too), "
        f"{recipe.heads} heads, feed-forward {recipe.feedforward_size}, sinusoidal positions, dropout {recipe.dropout:g}, Xavier "
        f"initialisation, Adam lr {recipe.lr:g}, teacher forcing {recipe.teacher_forcing:g} (with all of it, the decoder computes "
        "every target position in one pass under a causal mask); data, tokenizers, training loop, epoch selection and "
        "evaluation are the recurrent runs'. Test scores, each pair of architectures compared on the same test sentences "
        f"by sacrebleu's paired bootstrap ({comparisons.attrs['samples']:,} resamples; p >= {SIGNIFICANCE:g}: cannot be told "
        "apart; it covers the test sample only, each run having one seed):",
        "",
        comparisons.drop(columns="distinct").to_markdown(index=False),
        "",
        "Time per batch against sentence length (stage `benchmark_turkish`, MLflow run `benchmark`): each trained run on "
        "random batches of its own batch size whose sources and targets both have the given number of tokens; a training "
        "step (forward with the run's teacher forcing, backward, Adam) and free-running decoding (no gradients, every step "
        "reads the model's own guess). Median over the timed batches, with (min-max); `epoch s` is the median step times "
        "the batches of one training epoch.",
        "",
        times.to_markdown(index=False),
        "",
        *timing_sentences(timing),
        "",
        "![batch times](figures/turkish_batch_times.png)",
        "",
        f"### {INTERFACE_HEADING}",
        "",
        "The arguments of the first call of `self.encoder` and `self.decoder` in each model's `forward`, recorded with "
        "forward hooks on one teacher-forced batch of the study's sizes (sources of max_length tokens, targets one shorter):",
        "",
    ]
    for run, table in interfaces(ctx).items():
        lines += [f"`{run}` ({CELL_NAMES.get(config.recipe_for(run).cell)}):", "", table.to_markdown(index=False), ""]
    return lines


def comparison_table(ctx: ReportContext, cells: list[TurkishRun]) -> pd.DataFrame:
    """Every pair of architecture runs: test BLEU and chrF, the difference, sacrebleu's paired-bootstrap p-value."""
    rows = []
    for i, base in enumerate(cells):
        for other in cells[i + 1 :]:
            for metric, result in paired_scores(ctx, base, other).items():
                rows.append(
                    {
                        "base": base.name,
                        "other": other.name,
                        "metric": metric,
                        "base score": round(result.base_score, 2),
                        "other score": round(result.other_score, 2),
                        "Δ (other - base)": round(result.delta, 2),
                        "p-value": round(result.p_value, 3),
                        "verdict": "differ" if result.distinct else "cannot be told apart",
                        "distinct": result.distinct,
                    }
                )
    table = pd.DataFrame(rows)
    table.attrs["samples"] = BOOTSTRAP_SAMPLES
    return table


def timing_table(timing: pd.DataFrame) -> pd.DataFrame:
    """One row per length: each run's training step (ms), training epoch (s) and decoding (ms), median (min-max)."""

    def cell(row) -> str:
        return f"{row.seconds * 1000:.1f} ({row.min_seconds * 1000:.1f}-{row.max_seconds * 1000:.1f})"

    table = pd.DataFrame({"tokens": sorted(timing["length"].unique())}).set_index("tokens")
    for (run, mode), rows in timing.groupby(["run", "mode"], sort=False):
        rows = rows.set_index("length")
        table[f"{run} {mode} ms"] = [cell(row) for row in rows.itertuples()]
        if mode == "train":
            table[f"{run} epoch s"] = rows["epoch_seconds"].round(2)
    return table.reset_index()


def timing_sentences(timing: pd.DataFrame) -> list[str]:
    """How each run's batch time grows from the shortest to the longest length, and which is faster at the longest."""
    lines = []
    for mode, what in (("train", "A training step"), ("decode", "Free-running decoding")):
        rows = timing[timing["mode"] == mode]
        short, long = int(rows["length"].min()), int(rows["length"].max())
        at = {run: group.set_index("length") for run, group in rows.groupby("run", sort=False)}
        growth = ", ".join(
            f"`{run}` {g.loc[long, 'seconds'] / g.loc[short, 'seconds']:.1f}x ({g.loc[short, 'seconds'] * 1000:.1f} to "
            f"{g.loc[long, 'seconds'] * 1000:.1f} ms)"
            for run, g in at.items()
        )
        ranked = sorted(at, key=lambda run: at[run].loc[long, "seconds"])
        fastest, slowest = at[ranked[0]].loc[long], at[ranked[-1]].loc[long]
        verdict = (
            f"at {long} tokens `{ranked[0]}` is {slowest['seconds'] / fastest['seconds']:.1f}x faster than `{ranked[-1]}`"
            if fastest["max_seconds"] < slowest["min_seconds"]
            else f"at {long} tokens the runs cannot be told apart (their min-max spreads overlap)"
        )
        lines.append(f"- {what} grows from {short} to {long} tokens (x{long // short} the length) by {growth}; {verdict}.")
    return lines


SECTION = Section(STUDY.name, render, answers=ANSWERS)
