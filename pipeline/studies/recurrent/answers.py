"""The answer sheet's entries of the recurrent study, and the findings its report section shows.

Each finding is computed from the runs behind the current outputs (the same reads as the
section's, shared through the report context): the failure mode of the best plain decoder,
a training word additive attention gets right and the plain decoder does not, the training
time with and without attention, and the single-block attention model against the
additive-attention decoder.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pipeline.datasets.piglatin.params import load as load_piglatin
from pipeline.reporting import Answer, AnswerFunction, ReportContext, TranslatorResult, artifact_table, load_results
from pipeline.studies.recurrent import STUDY, params
from pipeline.studies.recurrent.analysis import accuracy_by_category
from pipeline.translators.pairs import read_pairs

BATCH_MEAN = "val_loss_batch_mean"
NOTEBOOKS, OURS = f"best_{BATCH_MEAN}", "best_val_loss"
ATTENTION_MODEL = "rnn-additive-attention"
SINGLE_BLOCK = "single-block-attention"
SUMMARY = f"Recurrent and single-block attention translators (MLflow experiment `{STUDY.experiment}`)"  # headings linked
FAILURES = "Recurrent: failure modes of the best plain decoders"
ATTENTION_EXAMPLE = "Recurrent: a training word that additive attention gets right"
TIMING = "Recurrent: training time per epoch with and without attention"


def runs(ctx: ReportContext) -> dict[str, TranslatorResult]:
    config = params.load().config
    return {run.name: run for run in load_results(ctx, STUDY, list(config.runs), STUDY.stage_name, extra_curves=(BATCH_MEAN,))}


def predictions(ctx: ReportContext, run: TranslatorResult) -> pd.DataFrame:
    """source, target, prediction, correct of every validation word (shared with the comparisons' error analysis)."""
    return ctx.memo(f"val_predictions:{run.run_id}", lambda: artifact_table(ctx.client, run.run_id, "tables/val_predictions.json"))


def seconds_per_epoch(run: TranslatorResult) -> float:
    return run.metrics["train_seconds"] / run.metrics["epochs_trained"]


def _runs_of(config, model: str, cell: str | None = None, dataset: str | None = None) -> list[str]:
    return [
        name
        for name, r in config.runs.items()
        if r.model == model and (cell is None or r.cell == cell) and (dataset is None or r.dataset == dataset)
    ]


# ------------------------------------------------------------------- failure modes (A22-P1.2, A21-P1.2)

ERROR_KINDS = {  # checked in order: the first that fits names the error
    "the right letters in the wrong order": lambda target, prediction: sorted(prediction) == sorted(target),
    "a word too short (letters dropped)": lambda target, prediction: len(prediction) < len(target),
    "a word too long (letters added or repeated)": lambda target, prediction: len(prediction) > len(target),
    "the right length with wrong letters": lambda target, prediction: True,
}


def error_kind(target: str, prediction: str) -> str:
    return next(kind for kind, fits in ERROR_KINDS.items() if fits(target, prediction))


@dataclass(frozen=True)
class FailureMode:
    run: str
    accuracy: float
    errors: int
    words: int
    kind: str  # the most common kind of error
    share: float  # of the errors
    examples: pd.DataFrame  # source, target, prediction: words of that kind of about its median length
    by_length: dict[str, float]  # accuracy per length bucket


def failure_mode(ctx: ReportContext, cell: str, examples: int = 3) -> FailureMode | None:
    """The plain decoder with `cell` whose greedy translations are best (validation word accuracy), and its commonest error."""
    config, found = params.load().config, runs(ctx)
    candidates = [found[n] for n in _runs_of(config, "rnn", cell) if n in found]
    if not candidates:
        return None
    best = max(candidates, key=lambda r: r.metrics["val_word_accuracy"])
    table = predictions(ctx, best)
    wrong = table[~table["correct"].astype(bool)].copy()
    wrong["kind"] = [error_kind(t, p) for t, p in zip(wrong["target"], wrong["prediction"])]
    counts = wrong["kind"].value_counts()
    kind = counts.index[0]
    # Examples of a typical length for that kind (the shortest are often odd abbreviations).
    shown = wrong[wrong["kind"] == kind].assign(length=lambda f: f["source"].str.len())
    shown = shown.assign(off=(shown["length"] - shown["length"].median()).abs()).sort_values(["off", "source"])
    buckets = accuracy_by_category(table).set_index("category")["accuracy"]
    return FailureMode(
        best.name,
        float(best.metrics["val_word_accuracy"]),
        len(wrong),
        len(table),
        kind,
        float(counts.iloc[0] / len(wrong)),
        shown[["source", "target", "prediction"]].head(examples).reset_index(drop=True),
        {c: float(a) for c, a in buckets.items() if c.startswith("length")},
    )


def failure_answer(cell: str) -> AnswerFunction:
    def answer(ctx: ReportContext) -> Answer:
        mode = failure_mode(ctx, cell)
        if mode is None:
            return Answer(f"`recurrent.runs` has no plain {cell.upper()} decoder.", link=FAILURES)
        lengths = list(mode.by_length.items())
        (short, short_accuracy), (long, long_accuracy) = lengths[0], lengths[-1]
        text = (
            f"The best plain {cell.upper()} decoder (`{mode.run}`, {100 * mode.accuracy:.1f}% of validation words right) "
            f"most often outputs {mode.kind}: {100 * mode.share:.0f}% of its {mode.errors} wrong words. "
            f"Failures grow with word length: it gets {100 * short_accuracy:.0f}% of words of {short.removeprefix('length ')} "
            f"letters right but {100 * long_accuracy:.0f}% of words of {long.removeprefix('length ')} letters, because one "
            "fixed-size state must carry the whole word to the decoder."
        )
        numbers = [
            (f"validation word accuracy, run `{mode.run}`", f"{mode.accuracy:.4f}"),
            (f"share of errors that are {mode.kind}, run `{mode.run}`", f"{mode.share:.3f}"),
        ]
        numbers += [(f"`{row.source}` -> (expected `{row.target}`)", f"`{row.prediction}`") for row in mode.examples.itertuples()]
        return Answer(text, tuple(numbers), link=FAILURES)

    return answer


# ------------------------------------------------------------------- attention on a training word (A22-P2.1.2, A21-P2.2)


@dataclass(frozen=True)
class AttentionExample:
    attention: str
    plain: str
    source: str
    target: str
    with_attention: str
    without_attention: str
    where: str  # "training word" or "validation word"


def attention_example(ctx: ReportContext, cell: str) -> AttentionExample | None:
    """A word of the training set (else of the validation set) the additive-attention decoder translates right and
    the plain `cell` decoder on the same data does not: from the translations of the evaluation sentences, the longest."""
    config, found = params.load().config, runs(ctx)
    attention_name = next((n for n in _runs_of(config, ATTENTION_MODEL) if n in found), None)
    if attention_name is None:
        return None
    dataset = config.runs[attention_name].dataset
    plain_name = next((n for n in _runs_of(config, "rnn", cell, dataset) if n in found), None)
    if plain_name is None:
        return None
    attention, plain = found[attention_name], found[plain_name]
    folder = load_piglatin().prepared(ctx.root, dataset).folder
    train = {p.source: p.target for p in ctx.memo(f"train_pairs:{dataset}", lambda: read_pairs(folder / "train.txt"))}
    words = {}
    for sentence, with_attention, without in zip(
        attention.translations["sentence"],
        attention.translations["translation"],
        plain.translations.set_index("sentence").loc[attention.translations["sentence"], "translation"],
    ):
        for word, a, b in zip(sentence.split(), with_attention.split(" "), without.split(" ")):
            words[word] = (a, b)
    wins = [(w, train[w], a, b) for w, (a, b) in words.items() if w in train and a == train[w] != b]
    where = "training word"
    if not wins:  # none of the sentences' training words: fall back to the validation words
        theirs = predictions(ctx, plain).set_index("source")["prediction"]
        mine = predictions(ctx, attention)
        wins = [
            (r.source, r.target, r.prediction, theirs[r.source]) for r in mine.itertuples() if r.correct and theirs[r.source] != r.target
        ]
        where = "validation word"
    if not wins:
        return None
    source, target, a, b = max(wins, key=lambda w: (len(w[0]), w[0]))
    return AttentionExample(attention_name, plain_name, source, target, a, b, where)


def attention_answer(cell: str) -> AnswerFunction:
    def answer(ctx: ReportContext) -> Answer:
        example = attention_example(ctx, cell)
        if example is None:
            return Answer(
                f"No word was found that the additive-attention decoder translates right and the plain {cell.upper()} decoder does not.",
                link=ATTENTION_EXAMPLE,
            )
        text = (
            f"On the {example.where} `{example.source}` (expected `{example.target}`), the additive-attention decoder "
            f"`{example.attention}` outputs `{example.with_attention}` and the plain {cell.upper()} decoder `{example.plain}` "
            f"outputs `{example.without_attention}`."
        )
        numbers = (
            (f"input `{example.source}`, run `{example.attention}`", f"`{example.with_attention}`"),
            (f"input `{example.source}`, run `{example.plain}`", f"`{example.without_attention}`"),
            (f"input `{example.source}`, the rule", f"`{example.target}`"),
        )
        return Answer(text, numbers, link=ATTENTION_EXAMPLE)

    return answer


# ------------------------------------------------------------------- timing (A22-P2.1.3, A21-P2.3)


def timing(ctx: ReportContext) -> tuple[TranslatorResult, TranslatorResult] | None:
    """The additive-attention run and the plain run with the same cell and data (the first such)."""
    config, found = params.load().config, runs(ctx)
    for name in _runs_of(config, ATTENTION_MODEL):
        run = config.runs[name]
        plain = [n for n in _runs_of(config, "rnn", run.cell, run.dataset) if n in found]
        if name in found and plain:
            return found[name], found[plain[0]]
    return None


def timing_answer(ctx: ReportContext) -> Answer:
    pair = timing(ctx)
    if pair is None:
        return Answer("No additive-attention run has a plain run on the same data to compare with.", link=TIMING)
    a, p = pair
    ratio = seconds_per_epoch(a) / seconds_per_epoch(p)
    text = (
        f"Training is {'slower' if ratio > 1 else 'faster'} with attention: `{a.name}` takes {seconds_per_epoch(a):.2f} s per "
        f"epoch and `{p.name}` {seconds_per_epoch(p):.2f} s on the same data ({ratio:.1f}x; "
        f"{a.metrics['tokens_per_second']:,.0f} against {p.metrics['tokens_per_second']:,.0f} target characters per second). "
        "Each decoder step first scores every source annotation (a two-layer MLP over [state; annotation], a softmax and a "
        "weighted sum) and feeds a twice as wide input to the cell, so the work per word grows with target x source length "
        "instead of target + source length; "
        f"`{a.name}` also has hidden size {int(a.params['run.hidden_size'])} against {int(p.params['run.hidden_size'])} "
        f"({int(a.metrics['parameters']):,} against {int(p.metrics['parameters']):,} parameters), as in the handout."
    )
    numbers = (
        (f"seconds per epoch, run `{a.name}`", f"{seconds_per_epoch(a):.3f}"),
        (f"seconds per epoch, run `{p.name}`", f"{seconds_per_epoch(p):.3f}"),
        (f"train seconds, run `{a.name}`", f"{a.metrics['train_seconds']:.1f}"),
        (f"train seconds, run `{p.name}`", f"{p.metrics['train_seconds']:.1f}"),
    )
    return Answer(text, numbers, link=TIMING)


# ------------------------------------------------------------------- single block vs additive attention (A22-P2.2.3)


def repeats(prediction: str, times: int = 3) -> bool:
    """A character repeated `times` times in a row (`oppppp`): decoding that lost its place in the word."""
    return any(prediction[i] * times == prediction[i : i + times] for i in range(len(prediction) - times + 1))


def single_block_answer(ctx: ReportContext) -> Answer:
    config, found = params.load().config, runs(ctx)
    blocks, additives = (
        [n for n in _runs_of(config, SINGLE_BLOCK) if n in found],
        [n for n in _runs_of(config, ATTENTION_MODEL) if n in found],
    )
    if not blocks or not additives:
        return Answer("`recurrent.runs` lacks a single-block or an additive-attention run to compare.", link=SUMMARY)
    block, additive = found[blocks[0]], found[additives[0]]
    stuck = {r.name: float(predictions(ctx, r)["prediction"].map(repeats).mean()) for r in (block, additive)}
    lower = block.metrics[NOTEBOOKS] < additive.metrics[NOTEBOOKS]
    text = (
        f"The single-block attention model `{block.name}` reaches a lowest validation loss of {block.metrics[NOTEBOOKS]:.3f} "
        f"(notebooks' definition; ours {block.metrics[OURS]:.3f}) and translates {100 * block.metrics['val_word_accuracy']:.1f}% "
        f"of validation words right, against {additive.metrics[NOTEBOOKS]:.3f} ({additive.metrics[OURS]:.3f}) and "
        f"{100 * additive.metrics['val_word_accuracy']:.1f}% for the additive-attention GRU decoder `{additive.name}`: it is "
        f"{'better' if lower else 'far worse'}. "
        "Without positional encoding or recurrence, its one attention block sees the source word and its own output as "
        "unordered sets of characters, so it cannot tell which consonants come first or how far it has written; "
        f"{100 * stuck[block.name]:.0f}% of its validation outputs repeat a character three times in a row "
        f"(`{additive.name}`: {100 * stuck[additive.name]:.0f}%), where the GRU's state carries the order. "
        f"It is also smaller: hidden size {int(block.params['run.hidden_size'])}, {int(block.metrics['parameters']):,} "
        f"parameters against {int(additive.params['run.hidden_size'])} and {int(additive.metrics['parameters']):,}."
    )
    numbers = tuple(
        (f"{what}, run `{r.name}`", f"{r.metrics[key]:.4f}")
        for r in (block, additive)
        for what, key in (
            ("lowest val loss, notebooks' definition", NOTEBOOKS),
            ("lowest val loss, ours", OURS),
            ("validation word accuracy", "val_word_accuracy"),
        )
    )
    return Answer(text, numbers, link=SUMMARY)


ANSWERS: dict[str, AnswerFunction] = {
    "A22-P1.2": failure_answer("gru"),
    "A21-P1.2": failure_answer("lstm"),
    "A22-P2.1.2": attention_answer("gru"),
    "A21-P2.2": attention_answer("lstm"),
    "A22-P2.1.3": timing_answer,
    "A21-P2.3": timing_answer,
    "A22-P2.2.3": single_block_answer,
}
