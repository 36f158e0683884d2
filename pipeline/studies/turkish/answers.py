"""The study's entries of the answer sheet: homework 3, questions 2.1-2.3.1 and 3.2a-c.

Every sentence that states a result is built from the numbers it quotes, read from the runs
behind the current outputs (`results`: the same reads as the report section's); settings
come from params.yaml. The code rows show `model.py`'s classes (imported when answered: the
report module stays free of torch until then).
"""

from __future__ import annotations

import json

import pandas as pd

from pipeline.reporting import Answer, ReportContext
from pipeline.studies.turkish import STATISTICS, params
from pipeline.studies.turkish.params import TurkishParams
from pipeline.studies.turkish.results import (
    CLEAR,
    Paired,
    TurkishRun,
    architecture_runs,
    effects_table,
    load_benchmark,
    load_runs,
    paired_against_copy,
    paired_scores,
)

LOSS_HEADING = "Loss per epoch"
EFFECTS_HEADING = "Homework: which hyperparameters moved the training and validation loss?"
FITTING_HEADING = "Homework: what prevented underfitting and overfitting?"
TRANSFORMER_HEADING = "Homework 3.2: Transformer vs LSTM"
INTERFACE_HEADING = "Homework 3.2c: what the encoder and decoder are given"


def _runs(ctx: ReportContext) -> tuple[TurkishParams, dict[str, TurkishRun]]:
    config = ctx.memo("turkish:params", lambda: params.load().config)
    return config, {run.name: run for run in load_runs(ctx, config)}


def _of(run: TurkishRun, what: str) -> str:
    return f"{what}, run `{run.name}`"


def _training(run: TurkishRun) -> tuple[str, tuple[tuple[str, str], ...]]:
    """How a run trained, in one sentence, and the numbers it quotes."""
    m, curve = run.metrics, run.curve
    first, last = float(curve["train_loss"].iloc[0]), float(m["final_train_loss"])
    text = (
        f"Run `{run.name}` trained {int(m['epochs_trained'])} epochs on {int(m['train_pairs'])} pairs: its training loss fell "
        f"from {first:.3f} to {last:.3f} per English token, while the free-running validation loss was lowest at epoch "
        f"{int(m['best_val_loss_epoch'])} ({m['best_val_loss']:.3f}) and ended at {m['final_val_loss']:.3f}; the kept "
        f"(highest validation chrF, epoch {int(m['best_epoch'])}) weights score test chrF {m['chrf']:.1f} and BLEU {m['bleu']:.2f}, "
        f"against {m['copy_chrf']:.1f} and {m['copy_bleu']:.2f} for copying the Turkish source."
    )
    numbers = (
        (_of(run, "training loss, epoch 1"), f"{first:.3f}"),
        (_of(run, "training loss, last epoch"), f"{last:.3f}"),
        (_of(run, f"lowest validation loss (epoch {int(m['best_val_loss_epoch'])})"), f"{m['best_val_loss']:.3f}"),
        (_of(run, "last validation loss"), f"{m['final_val_loss']:.3f}"),
        (_of(run, "test chrF / BLEU"), f"{m['chrf']:.2f} / {m['bleu']:.2f}"),
        (_of(run, "copy-the-source chrF / BLEU"), f"{m['copy_chrf']:.2f} / {m['copy_bleu']:.2f}"),
    )
    return text, numbers


def _translator_code(run: TurkishRun, description: str, numbers: tuple[tuple[str, str], ...] = ()) -> Answer:
    """HW3-2.1 / HW3-2.2: `model.py`'s classes as `run`'s cell builds them. The two rows differ only in the
    run, its `description` and the `numbers` that quotes; both go on with how the run trained."""
    from pipeline.studies.turkish.model import Decoder, Encoder, Seq2Seq

    training, training_numbers = _training(run)
    return Answer(
        text=f"{description} {training}", numbers=(*numbers, *training_numbers), code=(Seq2Seq, Encoder, Decoder), link=LOSS_HEADING
    )


def rnn_translator(ctx: ReportContext) -> Answer:
    config, runs = _runs(ctx)
    run = runs["rnn"]
    recipe = config.recipe_for(run.name)
    return _translator_code(
        run,
        f"`Seq2Seq` with `cell: rnn` is the RNNTranslator: `Encoder` embeds the Turkish ids ({recipe.embedding_dim} "
        f"dimensions), applies dropout and a {recipe.num_layers}-layer `nn.RNN` (hidden {recipe.hidden_size}) over the "
        "packed sentence and returns its final hidden state, which starts `Decoder`, a stack of `nn.RNNCell`s that emits "
        f"one English token per step from [CLS], reading the true previous token with probability {recipe.teacher_forcing:g} "
        "in training and its own greedy guess otherwise (always, in evaluation).",
    )


def lstm_translator(ctx: ReportContext) -> Answer:
    config, runs = _runs(ctx)
    run = runs["lstm"]
    m = run.metrics
    reference, published = int(m["reference_parameters"]), config.published.parameters
    vocab = json.loads((ctx.root / STATISTICS).read_text())["tokenizers"]
    same = "exactly the published" if reference == published else f"{reference - published:+,} against the published"
    return _translator_code(
        run,
        "The same classes with `cell: lstm` are the LSTMTranslator: `Encoder` returns the LSTM's final (h, c) and "
        "`Decoder`'s `nn.LSTMCell`s carry both from step to step. Counted on the module built at the homework's "
        f"hub-tokenizer vocabularies ({config.reference_vocab_sizes[0]:,} Turkish, {config.reference_vocab_sizes[1]:,} "
        f"English), it has {reference:,} parameters, {same} {published:,}; at this study's WordPiece vocabularies "
        f"({vocab['turkish']['vocab_size']:,} and {vocab['english']['vocab_size']:,}) it has {int(m['parameters']):,}.",
        numbers=(
            (_of(run, "parameters at the hub vocabularies, counted"), f"{reference:,}"),
            ("parameters, published (params.yaml turkish.published.parameters)", f"{published:,}"),
            (_of(run, "parameters at this study's vocabularies"), f"{int(m['parameters']):,}"),
        ),
    )


def _versus(result: Paired) -> str:
    """`other`'s score against `base`'s, as the paired bootstrap sees the difference."""
    relation = "cannot be told apart from" if not result.distinct else "is above" if result.delta > 0 else "is below"
    return (
        f"`{result.other}`'s test {result.metric} ({result.other_score:.1f}) {relation} `{result.base}`'s "
        f"({result.base_score:.1f}; paired bootstrap over the test sentences, p = {result.p_value:.3f})"
    )


def _overfitting(run: TurkishRun) -> str:
    """Did the validation loss turn up while the training loss fell, and did chrF keep improving past that?"""
    m = run.metrics
    lowest, last, kept = int(m["best_val_loss_epoch"]), int(m["epochs_trained"]), int(m["best_epoch"])
    rise = m["final_val_loss"] - m["best_val_loss"]
    if lowest == last or rise <= 0:
        return f"`{run.name}` did not overfit by the loss: its validation loss was still at its lowest at the last epoch ({last})"
    text = (
        f"`{run.name}` overfits as the loss sees it: the free-running validation loss was lowest at epoch {lowest} "
        f"({m['best_val_loss']:.3f}) and ended {rise:+.3f} higher at epoch {last} while the training loss fell to "
        f"{m['final_train_loss']:.3f}"
    )
    if kept > lowest:
        text += (
            f", yet validation chrF went on rising to its best at epoch {kept} ({m['val_chrf_at_best']:.1f}), so the "
            "translations kept improving after the loss turned"
        )
    return text


def settings_and_behaviour(ctx: ReportContext) -> Answer:
    config, runs = _runs(ctx)
    recipe, lstm = config.recipe, runs["lstm"]
    m = lstm.metrics
    changed = "; ".join(f"`{name}` " + ", ".join(f"{k}={v}" for k, v in run.changes.items()) for name, run in runs.items() if run.changes)
    copy = paired_against_copy(ctx, lstm)["chrF"]
    verdict = (
        "The model learns something"
        if copy.distinct and copy.delta > 0
        else "Whether it learned anything the test cannot show"
        if not copy.distinct
        else "It scores below copying the source"
    )
    return Answer(
        text=(
            f"Settings: the homework's (embedding {recipe.embedding_dim}, hidden {recipe.hidden_size}, {recipe.num_layers} layers, "
            f"dropout {recipe.dropout:g}, teacher forcing {recipe.teacher_forcing:g}, clipping {recipe.grad_clip:g}, "
            f"U(±{recipe.init_range:g}), Adam) with lr {recipe.lr:g}, batch {recipe.batch_size}, at most {recipe.epochs} epochs, "
            f"the highest-validation-chrF epoch kept and training stopped after {recipe.patience} epochs without a higher one; "
            f"the other runs change: {changed}. "
            f"{verdict}: {_versus(copy)}, and it reproduces its own training pairs at BLEU {m['train_bleu']:.1f} against "
            f"{m['bleu']:.1f} on the test pairs. {_overfitting(lstm)}."
        ),
        numbers=(
            (_of(lstm, "test chrF"), f"{copy.other_score:.2f}"),
            ("copy-the-source test chrF", f"{copy.base_score:.2f}"),
            (_of(lstm, "paired bootstrap p-value, chrF vs copying the source"), f"{copy.p_value:.3f}"),
            (_of(lstm, "train BLEU / test BLEU"), f"{m['train_bleu']:.2f} / {m['bleu']:.2f}"),
            (_of(lstm, f"lowest validation loss (epoch {int(m['best_val_loss_epoch'])})"), f"{m['best_val_loss']:.3f}"),
            (_of(lstm, f"last validation loss (epoch {int(m['epochs_trained'])})"), f"{m['final_val_loss']:.3f}"),
            (_of(lstm, f"validation chrF at the kept epoch {int(m['best_epoch'])}"), f"{m['val_chrf_at_best']:.2f}"),
        ),
        link=FITTING_HEADING,
    )


FITTED = 50.0  # train BLEU at which a model counts as reproducing its training pairs


def loss_findings(ctx: ReportContext) -> Answer:
    """At least five sentences: what moved the training and the validation loss, under- and overfitting."""
    config, runs = _runs(ctx)
    cells = architecture_runs(list(runs.values()))
    ablations = [run for run in runs.values() if run not in cells]
    effects = effects_table(config, [run for run in cells if run.cell != "transformer"], ablations)
    rows = effects.to_dict("records")
    by_train = sorted(rows, key=lambda row: -abs(row["Δ final train loss"]))
    clear = sorted((row for row in rows if abs(row["Δ best val loss"]) > CLEAR), key=lambda row: -abs(row["Δ best val loss"]))
    unclear = [row for row in rows if abs(row["Δ best val loss"]) <= CLEAR]
    lstm_run = runs["lstm"]
    lstm = lstm_run.metrics
    lowest = int(lstm["best_val_loss_epoch"])
    at_lowest = float(lstm_run.curve.set_index("epoch").loc[lowest, "train_loss"])

    def listed(chosen: list[dict], key: str) -> str:
        return ", then ".join(f"{row['change']} ({row[key]:+.3f}, `{row['run']}` vs `{row['base']}`)" for row in chosen)

    sentences = [
        f"Changing one setting at a time, the training loss at the last epoch moved most with {listed(by_train, 'Δ final train loss')}.",
        (
            "The lowest validation loss moved most with " + listed(clear, "Δ best val loss") + "."
            if clear
            else "No setting moved the lowest validation loss by more than the threshold below."
        ),
        (
            f"By less than {CLEAR} nats, which one seed per run cannot tell apart from noise: "
            + ", ".join(f"{row['change']} ({row['Δ best val loss']:+.3f})" for row in unclear)
            + "."
            if unclear
            else f"Every change moved it by more than {CLEAR} nats, the least one seed per run credits to a setting."
        ),
    ]
    underfit = lstm["train_bleu"] < FITTED
    # What lowered the training loss, other than training on less data (which only makes fitting easier).
    capacity = [row for row in by_train if row["Δ final train loss"] < -0.005 and not row["change"].startswith("train_pairs")]
    sentences.append(
        "Avoiding underfitting needed "
        + (", ".join(f"{row['change']} ({row['Δ final train loss']:+.3f})" for row in capacity) + " and " if capacity else "")
        + f"epochs well past the validation-loss minimum: `lstm`'s training loss was {at_lowest:.3f} at epoch {lowest}, "
        f"where the validation loss was lowest, and {lstm['final_train_loss']:.3f} at epoch {int(lstm['epochs_trained'])}; "
        + (
            f"even so it reproduces its training pairs at BLEU {lstm['train_bleu']:.1f} only, so it still underfits them "
            "(the homework expects ~500 epochs)."
            if underfit
            else f"it then reproduces its training pairs at BLEU {lstm['train_bleu']:.1f}."
        )
    )
    sentences.append(
        _overfitting(lstm_run)
        + (
            "; keeping the highest-chrF epoch rather than the lowest-loss one is therefore the stop that works here."
            if int(lstm["best_epoch"]) > lowest
            else "."
        )
    )
    data = next((row for row in rows if row["change"].startswith("train_pairs")), None)
    dropout = next((row for row in rows if row["change"].startswith("dropout")), None)
    advice = "To avoid overfitting one can add data"
    if data is not None:
        advice += (
            f" (with fewer pairs, {data['change']}, the lowest validation loss changed by {data['Δ best val loss']:+.3f} "
            f"and validation chrF by {data['Δ val chrF at kept']:+.2f})"
        )
    advice += ", keep dropout"
    if dropout is not None:
        advice += (
            f" (without it, {dropout['change']}, train BLEU changed by {dropout['Δ train BLEU']:+.2f} and test BLEU by "
            f"{dropout['Δ BLEU']:+.2f}, the lowest validation loss by {dropout['Δ best val loss']:+.3f}"
            + (")" if abs(dropout["Δ best val loss"]) > CLEAR else ", too little to tell apart)")
        )
    sentences.append(advice + ", make the model smaller, or stop on validation chrF.")
    numbers = tuple(
        (
            f"{row['change']} (`{row['run']}` vs `{row['base']}`): Δ last training loss / Δ lowest validation loss / "
            "Δ validation chrF / Δ train BLEU / Δ test BLEU",
            f"{row['Δ final train loss']:+.3f} / {row['Δ best val loss']:+.3f} / {row['Δ val chrF at kept']:+.2f} / "
            f"{row['Δ train BLEU']:+.2f} / {row['Δ BLEU']:+.2f}",
        )
        for row in rows
    ) + (
        (_of(lstm_run, f"training loss at epoch {lowest} / at the last"), f"{at_lowest:.3f} / {lstm['final_train_loss']:.3f}"),
        (_of(lstm_run, "train BLEU"), f"{lstm['train_bleu']:.2f}"),
    )
    return Answer(text=" ".join(sentences), numbers=numbers, link=EFFECTS_HEADING)


# ------------------------------------------------------------------ question 3.2


def _timing(table: pd.DataFrame, run: str, mode: str) -> pd.DataFrame:
    return table[(table["run"] == run) & (table["mode"] == mode)].sort_values("length").set_index("length")


def _apart(a: pd.Series, b: pd.Series) -> bool:
    """Two timings differ when their min-max spreads over the timed batches do not overlap."""
    return a["max_seconds"] < b["min_seconds"] or b["max_seconds"] < a["min_seconds"]


def _scaling(table: pd.DataFrame, mode: str, recurrent: str, transformer: str) -> dict:
    """Batch times at the shortest and longest length, their growth, and whether the two runs differ at the longest."""
    lstm, trans = _timing(table, recurrent, mode), _timing(table, transformer, mode)
    short, long = int(lstm.index.min()), int(lstm.index.max())
    return {
        "short": short,
        "long": long,
        "lstm": (lstm.loc[short, "seconds"], lstm.loc[long, "seconds"]),
        "transformer": (trans.loc[short, "seconds"], trans.loc[long, "seconds"]),
        "lstm_growth": lstm.loc[long, "seconds"] / lstm.loc[short, "seconds"],
        "transformer_growth": trans.loc[long, "seconds"] / trans.loc[short, "seconds"],
        "apart": _apart(lstm.loc[long], trans.loc[long]),
        "ratio": lstm.loc[long, "seconds"] / trans.loc[long, "seconds"],  # > 1: the transformer is faster
        "epoch": (lstm.loc[long, "epoch_seconds"], trans.loc[long, "epoch_seconds"]),
        "batch": (int(lstm["batch_size"].iloc[0]), int(trans["batch_size"].iloc[0])),
    }


def _pair(ctx: ReportContext) -> tuple[TurkishParams, TurkishRun, TurkishRun]:
    config, runs = _runs(ctx)
    recurrent = next(run for run in config.benchmark.runs if config.recipe_for(run).cell != "transformer")
    transformer = next(run for run in config.benchmark.runs if config.recipe_for(run).cell == "transformer")
    return config, runs[recurrent], runs[transformer]


def _timing_numbers(scale: dict, mode: str, recurrent: str, transformer: str) -> tuple[tuple[str, str], ...]:
    what = {"train": "training step", "decode": "free-running decoding"}[mode]
    return tuple(
        (
            f"{what}, median seconds per batch at {scale['short']} / {scale['long']} tokens, run `{run}` (MLflow run `benchmark`)",
            f"{scale[key][0]:.4f} / {scale[key][1]:.4f}",
        )
        for run, key in ((recurrent, "lstm"), (transformer, "transformer"))
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3g} ms"


def _growth(scale: dict, key: str, run: str) -> str:
    before, after = scale[key]
    return f"`{run}` {_ms(before)} to {_ms(after)} (x{scale[key + '_growth']:.1f})"


def transformer_advantage(ctx: ReportContext) -> Answer:
    config, recurrent, transformer = _pair(ctx)
    train = _scaling(load_benchmark(ctx), "train", recurrent.name, transformer.name)
    flatter = train["transformer_growth"] < train["lstm_growth"]
    if not train["apart"]:
        verdict = f"at {train['long']} tokens the two steps cannot be told apart (their spreads over the timed batches overlap)"
    elif train["ratio"] > 1:
        verdict = f"at {train['long']} tokens the Transformer's step is {train['ratio']:.1f}x faster"
    else:
        verdict = (
            f"at {train['long']} tokens the Transformer's step is still {1 / train['ratio']:.1f}x slower: on this "
            "machine the one-pass decoder does not yet pay for its larger matrix products"
        )
    return Answer(
        text=(
            "A Transformer processes all positions of a sentence at once: self-attention links any two tokens in one step, "
            "and with teacher forcing its decoder computes every target position in one pass under a causal mask, where the "
            "LSTM must step through the positions one after another (and squeeze the source into one final state). "
            f"Measured on random batches from {train['short']} to {train['long']} tokens, a training step went from "
            f"{_growth(train, 'lstm', recurrent.name)} and {_growth(train, 'transformer', transformer.name)}, "
            + ("the Transformer's the flatter growth" if flatter else "the Transformer's growth not the flatter one here")
            + f"; {verdict} (`{recurrent.name}` {train['epoch'][0]:.3g} s against `{transformer.name}` {train['epoch'][1]:.3g} s "
            f"per training epoch of {config.split.train_pairs:,} pairs at that length)."
        ),
        numbers=_timing_numbers(train, "train", recurrent.name, transformer.name)
        + (
            (
                f"training epoch at {train['long']} tokens, seconds, `{recurrent.name}` / `{transformer.name}` (MLflow run `benchmark`)",
                f"{train['epoch'][0]:.3g} / {train['epoch'][1]:.3g}",
            ),
        ),
        link=TRANSFORMER_HEADING,
    )


def lstm_advantage(ctx: ReportContext) -> Answer:
    config, recurrent, transformer = _pair(ctx)
    decode = _scaling(load_benchmark(ctx), "decode", recurrent.name, transformer.name)
    chrf = paired_scores(ctx, recurrent, transformer)["chrF"]
    steeper = decode["transformer_growth"] > decode["lstm_growth"]
    return Answer(
        text=(
            "An LSTM carries one fixed-size state from step to step, so generating each token costs the same and needs the "
            "same memory however long the sentence so far, while a Transformer decoder attends over the whole prefix (and "
            "torch's, with no cache, recomputes it at every step); its recurrence also builds word order in, a useful bias "
            "when data are few. "
            f"Measured on random batches from {decode['short']} to {decode['long']} tokens, free-running decoding went from "
            f"{_growth(decode, 'lstm', recurrent.name)} and {_growth(decode, 'transformer', transformer.name)}, "
            + ("the Transformer's the steeper growth" if steeper else "the LSTM's growth at least as steep here")
            + f"; and on these {config.split.train_pairs:,} training pairs {_versus(chrf)}."
        ),
        numbers=_timing_numbers(decode, "decode", recurrent.name, transformer.name)
        + (
            (f"test chrF, `{recurrent.name}` / `{transformer.name}`", f"{chrf.base_score:.2f} / {chrf.other_score:.2f}"),
            (f"paired bootstrap p-value, chrF `{transformer.name}` vs `{recurrent.name}`", f"{chrf.p_value:.3f}"),
        ),
        link=TRANSFORMER_HEADING,
    )


def interfaces(ctx: ReportContext) -> dict[str, pd.DataFrame]:
    """The calls of `self.encoder` / `self.decoder` of the LSTM and the Transformer at the study's sizes (3.2c)."""

    def compute() -> dict[str, pd.DataFrame]:
        from pipeline.studies.turkish.interfaces import call_table
        from pipeline.studies.turkish.model import Seq2SeqConfig, build

        config, recurrent, transformer = _pair(ctx)
        vocab = json.loads((ctx.root / STATISTICS).read_text())["tokenizers"]
        tables = {}
        for run in (recurrent, transformer):
            recipe = config.recipe_for(run.name)
            model = build(
                Seq2SeqConfig(
                    cell=recipe.cell,
                    source_vocab=vocab["turkish"]["vocab_size"],
                    target_vocab=vocab["english"]["vocab_size"],
                    embedding_dim=recipe.embedding_dim,
                    hidden_size=recipe.hidden_size,
                    num_layers=recipe.num_layers,
                    dropout=recipe.dropout,
                    max_length=config.max_length,
                    heads=recipe.heads,
                    feedforward_size=recipe.feedforward_size,
                )
            )
            tables[run.name] = call_table(model, config.max_length, config.max_length - 1, recipe.batch_size)
        return tables

    return ctx.memo("turkish:interfaces", compute)


def _times(count: int) -> str:
    return "once" if count == 1 else "twice" if count == 2 else f"{count} times"


def encoder_decoder_inputs(ctx: ReportContext) -> Answer:
    from pipeline.studies.turkish.model import Seq2Seq, TransformerSeq2Seq

    _, recurrent, transformer = _pair(ctx)
    tables = interfaces(ctx)

    def arg(run: str, call: str, name: str) -> str:
        table = tables[run]
        return table[(table["call"] == f"self.{call}") & (table["argument"] == name)]["shape"].item()

    def calls(run: str, call: str) -> int:
        table = tables[run]
        return int(table[table["call"] == f"self.{call}"]["calls per batch"].iloc[0])

    r, t = recurrent.name, transformer.name
    return Answer(
        text=(
            f"`LSTMTranslator` (`Seq2Seq`, run `{r}`) calls `self.encoder(source, lengths)` once with the Turkish ids "
            f"(B, S) = {arg(r, 'encoder', 'source')} and their lengths {arg(r, 'encoder', 'lengths')}, which returns only the "
            f"final (h, c), each (L, B, H) = {arg(r, 'encoder', 'returns').split(', (')[0]}, and calls `self.decoder(token, state)` "
            f"{_times(calls(r, 'decoder'))}, once per target step, with the previous token {arg(r, 'decoder', 'token')} and that state. "
            f"With Transformers (`TransformerSeq2Seq`, run `{t}`) the encoder gets the whole source, its ids (B, S) embedded "
            f"with positions, {arg(t, 'encoder', 'src')}, and a source key padding mask {arg(t, 'encoder', 'src_key_padding_mask')} "
            "(True at [PAD]), because attention reads every position and has no order or padding of its own; it returns memory, "
            f"one vector per source token, {arg(t, 'encoder', 'returns')}, since the decoder should attend to all of them rather "
            f"than to one summary. The decoder is called {_times(calls(t, 'decoder'))} per batch with the whole decoder input, "
            f"[CLS] plus the target shifted right ((B, T) ids embedded: {arg(t, 'decoder', 'tgt')}), the memory "
            f"{arg(t, 'decoder', 'memory')}, a causal mask {arg(t, 'decoder', 'tgt_mask')} that keeps position t from reading "
            "later tokens it must predict (what stepping gave the LSTM for free), and the source padding mask again "
            f"({arg(t, 'decoder', 'memory_key_padding_mask')}) for cross-attention; it returns {arg(t, 'decoder', 'returns')}, "
            "one output per target position."
        ),
        numbers=tuple(
            (
                f"`self.{row['call'].split('.')[1]}` argument `{row['argument']}`, run `{run}` (measured with forward hooks at report time)",
                row["shape"],
            )
            for run, table in tables.items()
            for row in table.to_dict("records")
            if row["argument"] != "tgt_is_causal"
        ),
        code=(Seq2Seq.forward, TransformerSeq2Seq.forward, TransformerSeq2Seq.encode, TransformerSeq2Seq.decode),
        link=INTERFACE_HEADING,
    )


ANSWERS = {
    "HW3-2.1": rnn_translator,
    "HW3-2.2": lstm_translator,
    "HW3-2.3": settings_and_behaviour,
    "HW3-2.3.1": loss_findings,
    "HW3-3.2a": transformer_advantage,
    "HW3-3.2b": lstm_advantage,
    "HW3-3.2c": encoder_decoder_inputs,
}
