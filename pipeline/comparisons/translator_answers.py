"""The answer sheet's entries that compare translator studies, each computed from `translator_runs`.

- A25-2.2.3a/b: the decoder-only against the encoder-decoder, as trained and at matched
  training FLOPs and parameter counts, then its pros and cons, with their numbers;
- A22-P2.2.5, A21-P3.4: the transformer h32-small's translations against the earlier decoders;
- A22-P1.1b, A21-P1.1b: the plain GRU / LSTM decoder on the small against the large data set.
  The recurrent runs were trained once, so their run-to-run spread is estimated from the
  transformer's seeds (relative to the loss), and the answer says so.
"""

from __future__ import annotations

import numpy as np

from pipeline.comparisons.translator_runs import (
    MATCHED,
    NOTEBOOKS,
    OURS,
    TRANSLATIONS,
    Comparable,
    Contender,
    NotComparable,
    Translator,
    at_budget,
    at_common_budget,
    contenders,
    error_analysis,
    in_table,
    larger_spread,
    nearest_in_size,
    sentence_score,
    translators,
    words_right,
)
from pipeline.core.errors import PipelineError
from pipeline.datasets.piglatin.params import load as load_piglatin
from pipeline.reporting import Answer, AnswerFunction, ReportContext, compare, told_apart
from pipeline.studies import decoder_only, recurrent, transformer
from pipeline.studies.recurrent.answers import SUMMARY as RECURRENT  # its table and loss figure
from pipeline.translators.pairs import read_pairs

DEFINITIONS = {"notebooks": NOTEBOOKS, "ours": OURS}


# ------------------------------------------------------------------- decoder-only vs encoder-decoder (A25-2.2.3)


def _matched(ctx: ReportContext):
    """The pieces both A25-2.2.3 answers use, computed once."""

    def compute():
        found, dataset, _ = contenders(ctx)
        (reference,) = translators(ctx, decoder_only.STUDY.name)
        hidden = int(reference.run.params["run.hidden_size"])
        encoders = [t for t in translators(ctx, transformer.STUDY.name) if t.run.params["run.dataset"] == dataset]
        if not encoders:
            raise PipelineError(f"no encoder-decoder run of `transformer` trained on {dataset!r}, the decoder-only run's data")
        # The encoder-decoder the assignment compares with: the widest on the same data (h64-small).
        partner = max(encoders, key=lambda t: (int(t.run.params["run.hidden_size"]), t.name))
        by_name = {c.name: c for c in found}
        return (
            found,
            dataset,
            reference,
            partner,
            by_name[f"decoder-only {reference.name}"],
            by_name[f"encoder-decoder {partner.name}"],
            hidden,
        )

    return ctx.memo("comparisons:decoder_only_vs_encoder_decoder", compute)


def _verdicts(pair: Comparable) -> dict[str, bool | None]:
    """Per definition: True if the first is lower beyond the larger spread, False if higher beyond it, None if not told apart."""
    out = {}
    for definition in ("notebooks", "ours"):
        a, b = pair.first[definition][0], pair.second[definition][0]
        out[definition] = (a < b) if told_apart(a, b, pair.spread(definition)) else None
    return out


def _at(contender: Contender, budget: float, label: str, other: Contender, other_label: str) -> tuple[str, dict[str, bool | None]]:
    """`contender` against `other` within `budget` as a clause, and the verdicts (none when they cannot be compared)."""
    pair = at_common_budget(contender, other, budget)
    if isinstance(pair, NotComparable):
        return pair.reason(label if pair.short is contender else other_label), {}
    mine, theirs = pair.first, pair.second
    clause = compare(label, mine["notebooks"][0], other_label, theirs["notebooks"][0], pair.spread("notebooks"))
    clause += f" (ours: {mine['ours'][0]:.3f} against {theirs['ours'][0]:.3f})"
    return clause, _verdicts(pair)


def decoder_only_quality(ctx: ReportContext) -> Answer:
    found, dataset, reference, partner, d, e = _matched(ctx)[:6]
    d_run, e_run = reference.run, partner.run
    spread = larger_spread(reference.spread(NOTEBOOKS), partner.spread(NOTEBOOKS))
    d_words, e_words = sentence_score(d_run), sentence_score(e_run)
    winner, loser = (d_run, e_run) if d_words[0] >= e_words[0] else (e_run, d_run)
    differ = _winning_word(winner, loser)
    as_trained = compare(
        f"the decoder-only `{reference.name}`",
        d_run.metrics[NOTEBOOKS],
        f"the encoder-decoder `{partner.name}`",
        e_run.metrics[NOTEBOOKS],
        spread,
    )
    sentences = [
        f"As trained in the assignment, {as_trained} in the notebooks' definition (ours: {d_run.metrics[OURS]:.3f} against "
        f"{e_run.metrics[OURS]:.3f}); it translates {100 * d_run.metrics['val_word_accuracy']:.1f}% of validation words right "
        f"against {100 * e_run.metrics['val_word_accuracy']:.1f}%, and {d_words[0]}/{d_words[1]} words of the assignment's "
        f"sentences against {e_words[0]}/{e_words[1]}"
        + (f" (e.g. `{differ[0]}`: `{differ[1]}` from `{winner.name}` against `{differ[2]}`)" if differ else "")
        + ".",
        f"But it trained with {d.budget / e.budget:.1f}x the FLOPs ({d.budget:.3g} against {e.budget:.3g}) and "
        f"{d.parameters / e.parameters:.1f}x the parameters ({d.parameters:,} against {e.parameters:,}).",
    ]
    budget = min(d.budget, e.budget)
    clause, at_matched = _at(d, budget, f"`{reference.name}`", e, f"`{partner.name}`")
    whose = "the encoder-decoder's" if budget == e.budget else "the decoder-only run's"
    sentences.append(f"Within the same {budget:.3g} FLOPs ({whose} whole budget), {clause}.")
    grid = [c for c in found if c.architecture == "decoder-only" and c is not d and at_budget(c, budget) is not None]
    verdicts = [at_matched]
    if grid:
        best = min(grid, key=lambda c: at_budget(c, budget)["notebooks"][0])
        clause, v = _at(
            best,
            budget,
            f"the IsoFLOP grid's best decoder-only at that budget, `{best.name.removeprefix('decoder-only ')}`",
            e,
            f"`{partner.name}`",
        )
        sentences.append(f"{clause[0].upper()}{clause[1:]}.")
        verdicts.append(v)
    sized = []
    for enc, dec in nearest_in_size(found):
        common = min(enc.budget, dec.budget)
        clause, v = _at(dec, common, f"`{dec.name.removeprefix('decoder-only ')}`", enc, f"`{enc.name.removeprefix('encoder-decoder ')}`")
        sized.append(f"{clause} within {common:.3g} FLOPs ({dec.parameters:,} against {enc.parameters:,} parameters)")
        verdicts.append(v)
    sentences.append("At matched parameter counts, " + "; ".join(sized) + ".")
    sentences.append(_conclusion(verdicts))
    numbers = [
        (f"lowest val loss, notebooks' definition, run `{t.name}` ({t.study})", f"{t.run.metrics[NOTEBOOKS]:.4f}")
        for t in (reference, partner)
    ]
    numbers += [(f"lowest val loss, ours, run `{t.name}` ({t.study})", f"{t.run.metrics[OURS]:.4f}") for t in (reference, partner)]
    numbers += [(f"training FLOPs, {c.name}", f"{c.budget:.4g}") for c in (d, e)]
    numbers += [
        (f"lowest val loss within {budget:.3g} FLOPs, notebooks' definition, {c.name}", f"{at_budget(c, budget)['notebooks'][0]:.4f}")
        for c in [d, e, *grid]
        if at_budget(c, budget) is not None
    ]
    return Answer(" ".join(sentences), tuple(numbers), link=MATCHED)


def _conclusion(verdicts: list[dict[str, bool | None]]) -> str:
    """What the matched comparisons say together: the decoder-only ahead, behind, or not told apart from the encoder-decoder."""
    flat = [v for verdict in verdicts for v in verdict.values()]
    if all(v is None for v in flat):
        return (
            "So at equal compute or size the two architectures cannot be told apart: the decoder-only run's better "
            "translations come from its larger size and compute, not from its architecture."
        )
    if all(v is not False for v in flat):
        return "So the decoder-only model is ahead even at matched compute or size, wherever the difference is beyond the spread."
    if all(v is not True for v in flat):
        return (
            "So at matched compute or size the encoder-decoder is ahead or even: the decoder-only run's better "
            "translations come from its larger size and compute, not from its architecture."
        )
    return (
        "At matched compute or size the verdict depends on the configuration and the loss definition (above), so "
        "neither architecture is ahead overall."
    )


def _winning_word(winner, loser) -> tuple[str, str, str] | None:
    """The longest word of the evaluation sentences `winner` translates by the rule and `loser` does not:
    (word, winner's output, loser's output)."""
    other = loser.translations.set_index("sentence")["translation"]
    found = []
    for sentence, mine in zip(winner.translations["sentence"], winner.translations["translation"]):
        for word, x, y in zip(sentence.split(), mine.split(" "), other[sentence].split(" ")):
            if words_right(x, word)[0] and not words_right(y, word)[0]:
                found.append((word, x, y))
    return max(found, key=lambda w: (len(w[0]), w[0])) if found else None


def decoder_only_pros_cons(ctx: ReportContext) -> Answer:
    found, dataset, reference, partner, d, e, _ = _matched(ctx)
    hidden, layers = int(partner.run.params["run.hidden_size"]), int(partner.run.params["run.num_layers"])
    folder = load_piglatin().prepared(ctx.root, dataset).folder
    pairs = ctx.memo(f"train_pairs:{dataset}", lambda: read_pairs(folder / "train.txt"))
    # Attention score entries per epoch: one (S + T)^2 grid against self-attention S^2 and T^2 plus cross-attention T S.
    entries = sum((len(p.source) + len(p.target) + 2) ** 2 for p in pairs) / sum(
        (len(p.source) + 1) ** 2 + (len(p.target) + 1) ** 2 + (len(p.source) + 1) * (len(p.target) + 1) for p in pairs
    )
    source, target = np.mean([len(p.source) for p in pairs]), np.mean([len(p.target) for p in pairs])
    prompt = sum(len(p.source) + 1 for p in pairs) / sum(len(p.source) + len(p.target) + 2 for p in pairs)
    same_width = [c for c in found if c.architecture == "decoder-only" and c.name.endswith(f" h{hidden}")]
    grid_layers = int(next((t.run.params["run.num_layers"] for t in translators(ctx, "isoflop")), 0))
    budget = e.budget
    matched = []
    for c in [d, *[c for c in found if c.architecture == "decoder-only" and c is not d]]:
        reached = at_budget(c, budget)
        if reached is not None:
            matched.append((c, reached["notebooks"][0]))
    pros = [
        "one stack of identical causal blocks and one attention type, with no encoder and no cross-attention"
        + (
            f" (at hidden size {hidden}, `{same_width[0].name.removeprefix('decoder-only ')}` has {same_width[0].parameters:,} "
            f"parameters in {grid_layers} layers against {e.parameters:,} in {layers} + {layers} for the encoder-decoder)"
            if same_width
            else ""
        ),
        "the same model and loss as a language model, so one network can be pre-trained on plain text and prompted for translation",
    ]
    numbers = []
    e_loss = at_budget(e, budget)["notebooks"]
    if matched:
        best, best_loss = min(matched, key=lambda m: m[1])
        spread = larger_spread(e_loss[1], at_budget(best, budget)["notebooks"][1])
        even = not told_apart(best_loss, e_loss[0], spread)
        pros.append(
            f"at equal training compute it {'matches' if even else 'beats' if best_loss < e_loss[0] else 'trails'} the "
            f"encoder-decoder here (best decoder-only within {budget:.3g} FLOPs {best_loss:.3f} against {e_loss[0]:.3f}, "
            "notebooks' definition" + (", within the run-to-run spread" if even and spread is not None else "") + ")"
        )
        numbers.append((f"best decoder-only within {budget:.3g} FLOPs ({best.name}), notebooks' definition", f"{best_loss:.4f}"))
    cons = [
        f"every training sequence holds the word and its translation together ({source + target + 2:.1f} tokens on average, against "
        f"{source + 1:.1f} into the encoder and {target + 1:.1f} into the decoder), so each layer's attention scores the full "
        f"(S + T)^2 grid of pairs: {100 * (entries - 1):.0f}% more score entries per epoch than an encoder-decoder layer pair "
        "(S^2 + T^2 + T S), a gap that grows with sentence length",
        f"{100 * prompt:.0f}% of the positions it computes are the prompt (<SOS> and the word), which the loss ignores",
        "it reads the source causally, so a source character never sees the characters after it, while an encoder sees the "
        "whole word at every position (Pig Latin moves the word's first consonants to its end)",
        "at generation the prompt's attention is recomputed at every step unless keys and values are cached",
    ]
    text = "Pros: " + "; ".join(pros) + ". Cons: " + "; ".join(cons) + "."
    numbers += [
        (f"attention score entries per epoch, one decoder-only layer over an encoder-decoder layer pair, {dataset} data", f"{entries:.3f}"),
        ("share of computed positions in the prompt (no loss)", f"{prompt:.3f}"),
        (f"{e.name} within its {budget:.3g} FLOPs, notebooks' definition", f"{e_loss[0]:.4f}"),
    ]
    return Answer(text, tuple(numbers), link=MATCHED)


# ------------------------------------------------------------------- the transformer against the earlier decoders


def _category_gap(errors, a: str, b: str, least: int = 20) -> tuple[str, float, float] | None:
    """The word category (with `least` words of the small set) where runs `a` and `b` differ most in accuracy;
    None when no category has that many words."""
    counted = errors[errors["words (small)"] >= least].set_index("category")
    if counted.empty:
        return None
    gap = (counted[a] - counted[b]).abs()
    category = gap.idxmax()
    return category, float(counted.loc[category, a]), float(counted.loc[category, b])


def describe(t: Translator) -> str:
    """A recurrent-study run as a reader names it."""
    cell = t.run.params.get("run.cell", "").upper()
    return {
        "rnn": f"the plain {cell} decoder",
        "rnn-additive-attention": f"the {cell} decoder with additive attention",
        "single-block-attention": "the single-block attention model",
    }.get(t.architecture, t.architecture) + f" `{t.name}`"


def _versus_transformer(ctx: ReportContext, other: Translator, base: Translator, errors, sentences: int) -> list[str]:
    o, b = other.run, base.run
    o_words, b_words = sentence_score(o), sentence_score(b)
    better = o.metrics["val_word_accuracy"] > b.metrics["val_word_accuracy"]
    gap = _category_gap(errors, other.name, base.name)
    differ = _winning_word(*((o, b) if better else (b, o)))
    parts = [
        f"{describe(other)[0].upper()}{describe(other)[1:]} translates {100 * o.metrics['val_word_accuracy']:.1f}% of validation words "
        f"right (lowest validation loss {o.metrics[NOTEBOOKS]:.3f}, notebooks' definition) against the transformer `{base.name}`'s "
        f"{100 * b.metrics['val_word_accuracy']:.1f}% ({b.metrics[NOTEBOOKS]:.3f}), and {o_words[0]}/{o_words[1]} words of the "
        f"assignment's sentences against {b_words[0]}/{b_words[1]}: it is {'better' if better else 'worse'}.",
        (
            f"The gap is widest on {gap[0]} words ({gap[1]:.2f} against {gap[2]:.2f} right)"
            if gap
            else "No word category has enough validation words to compare them by category"
        )
        + (
            f", e.g. `{differ[0]}` becomes `{differ[1] if better else differ[2]}` against the transformer's "
            f"`{differ[2] if better else differ[1]}`."
            if differ
            else "."
        ),
    ]
    return parts[:sentences]


def transformer_against_earlier(decoders: tuple[tuple[str, str | None], ...], sentences: int) -> AnswerFunction:
    """The transformer h32-small against the small-data recurrent runs of `decoders` ((model, cell or None) each, in
    that order), `sentences` sentences each."""

    def answer(ctx: ReportContext) -> Answer:
        # The transformer's first configuration: the narrowest on the small data set (h32-small).
        small = [t for t in translators(ctx, transformer.STUDY.name) if t.run.params["run.dataset"] == "small"]
        base = min(small, key=lambda t: (int(t.run.params["run.hidden_size"]), t.name))
        earlier = translators(ctx, recurrent.STUDY.name)
        found = [
            next(
                (
                    t
                    for t in earlier
                    if t.architecture == model and t.run.params["run.dataset"] == "small" and cell in (None, t.run.params.get("run.cell"))
                ),
                None,
            )
            for model, cell in decoders
        ]
        others = [t for t in found if t is not None]
        if not others:
            return Answer(
                f"`recurrent.runs` has none of the decoders to compare with on the small data set: {decoders}.", link=TRANSLATIONS
            )
        errors = ctx.memo("comparisons:errors", lambda: error_analysis(ctx, in_table(ctx)))
        text = " ".join(s for other in others for s in _versus_transformer(ctx, other, base, errors, sentences))
        numbers = tuple(
            (f"{what}, run `{t.name}` ({t.study})", f"{t.run.metrics[key]:.4f}")
            for t in (base, *others)
            for what, key in (("validation word accuracy", "val_word_accuracy"), ("lowest val loss, notebooks' definition", NOTEBOOKS))
        )
        return Answer(text, numbers, link=TRANSLATIONS)

    return answer


# ------------------------------------------------------------------- small vs large data (A22-P1.1b, A21-P1.1b)


def relative_spread(ctx: ReportContext, key: str) -> float | None:
    """The largest run-to-run spread the transformer's seeds measured, relative to the loss."""
    ratios = [t.spread(key) / t.run.metrics[key] for t in translators(ctx, transformer.STUDY.name) if t.spread(key) is not None]
    return max(ratios) if ratios else None


def small_against_large(cell: str, short: bool) -> AnswerFunction:
    """The plain `cell` decoder on the small against the large data: ahead only beyond the (estimated) spread."""

    def answer(ctx: ReportContext) -> Answer:
        plain = [
            t for t in translators(ctx, recurrent.STUDY.name) if t.architecture == "rnn" and t.run.params.get("run.cell", cell) == cell
        ]
        small = next((t for t in plain if t.run.params["run.dataset"] == "small"), None)
        large = next((t for t in plain if t.run.params["run.dataset"] == "large"), None)
        if small is None or large is None:
            return Answer(f"`recurrent.runs` has no plain {cell.upper()} decoder on both data sets to compare.", link=RECURRENT)
        clauses, verdicts = [], []
        for definition, key in DEFINITIONS.items():
            relative = relative_spread(ctx, key)
            a, b = small.run.metrics[key], large.run.metrics[key]
            spread = relative * (a + b) / 2 if relative is not None else None
            clauses.append(
                f"{compare(f'`{small.name}`', a, f'`{large.name}`', b, spread)} ({'the notebooks' + chr(39) if definition == 'notebooks' else 'ours'})"
            )
            verdicts.append((a > b) if told_apart(a, b, spread) else None)
        if verdicts[0] is not None and verdicts[0] == verdicts[1]:
            verdict = f"`{large.name if verdicts[0] else small.name}` is significantly ahead in both definitions"
        else:
            verdict = "neither run is significantly ahead in both definitions"
        why = (
            f"the large set has {_train_words(ctx, large) / _train_words(ctx, small):.0f}x the training words, and "
            f"`{large.name}` translates {100 * large.run.metrics['val_word_accuracy']:.1f}% of its validation words right "
            f"against {100 * small.run.metrics['val_word_accuracy']:.1f}%, yet the notebooks' mean weights the large set's many "
            "small batches of rare word lengths like its full ones, and both are scored on their own validation sets"
        )
        relative = relative_spread(ctx, NOTEBOOKS)
        spread_note = (
            f"the spread is the transformer seeds' largest relative spread ({100 * relative:.1f}% of the loss), as these runs "
            "were trained once"
            if relative is not None
            else "no run-to-run spread was measured"
        )
        if short:  # "fewer than 3 sentences"
            text = f"{'; '.join(clauses)}: {verdict} ({spread_note}). What accounts for it: {why}."
        else:
            text = f"{'; '.join(clauses)}. So {verdict} ({spread_note}). What accounts for it: {why}."
        numbers = tuple(
            (f"lowest val loss, {name}, run `{t.name}`", f"{t.run.metrics[key]:.4f}")
            for t in (small, large)
            for name, key in (("notebooks' definition", NOTEBOOKS), ("ours", OURS))
        )
        return Answer(text, numbers, link=RECURRENT)

    return answer


def _train_words(ctx: ReportContext, t: Translator) -> int:
    dataset = t.run.params["run.dataset"]
    folder = load_piglatin().prepared(ctx.root, dataset).folder
    return len(ctx.memo(f"train_pairs:{dataset}", lambda: read_pairs(folder / "train.txt")))


ANSWERS: dict[str, AnswerFunction] = {
    "A25-2.2.3a": decoder_only_quality,
    "A25-2.2.3b": decoder_only_pros_cons,
    "A22-P2.2.5": transformer_against_earlier((("rnn-additive-attention", None), ("single-block-attention", None)), 2),
    "A21-P3.4": transformer_against_earlier((("rnn", "lstm"), ("rnn-additive-attention", None)), 1),  # 2021: an LSTM
    "A22-P1.1b": small_against_large("gru", short=False),
    "A21-P1.1b": small_against_large("lstm", short=True),
}
