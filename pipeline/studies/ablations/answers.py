"""The answer sheet's entries the ablations answer: positional encoding, the unmasked decoder,
additive vs scaled dot-product attention. Each states its results from the runs (`results.load`),
a difference only beyond the replicates' spread.
"""

from __future__ import annotations

import dataclasses

from pipeline.reporting import Answer, AnswerFunction, ReportContext
from pipeline.studies.ablations.data import LONGER
from pipeline.studies.ablations.results import ACCURACY, NOTEBOOKS, OURS, SECONDS_PER_EPOCH, TRAIN_LOSS, Variant, load, versus

# The report headings the answers link to.
POSITIONS_HEADING = "Ablation: positional encoding"
UNMASKED_HEADING = "Ablation: decoder without its causal mask"
ATTENTION_HEADING = "Ablation: additive vs scaled dot-product attention"

LONGER_LOSS = f"loss.{LONGER}"  # the length test's figures over every untrained length
LONGER_ACCURACY = f"word_accuracy.{LONGER}"
LABELS = {"none": "no encoding"}  # how the text names an encoding where its key would read oddly


def _replicates(variant: Variant) -> str:
    n = len(variant.runs)
    return f"{n} seeds" if n > 1 else "one seed"


def positional_encoding(ctx: ReportContext) -> Answer:
    """(a) why positions must be encoded, (b) what sinusoids offer over one-hot codes: 1-2 + 1-2 sentences."""
    r = load(ctx)
    config = r.setup.config
    sinusoidal = r.positions["sinusoidal"]
    numbers = sinusoidal.numbers(OURS, "lowest val loss, sinusoidal")
    numbers += sinusoidal.numbers(ACCURACY, "val word accuracy, sinusoidal")
    if "none" in r.positions:
        none = dataclasses.replace(r.positions["none"], label=LABELS["none"])
        numbers += none.numbers(OURS, "lowest val loss, no positional encoding")
        numbers += none.numbers(ACCURACY, "val word accuracy, no positional encoding")
        evidence = (
            f"; trained without one (means over {_replicates(sinusoidal)}), our transformer's validation loss "
            f"compares as follows: {versus(none, sinusoidal, OURS)} (word accuracy {none.mean(ACCURACY):.2f} without, "
            f"{sinusoidal.mean(ACCURACY):.2f} with sinusoids)"
        )
    else:
        evidence = ""
    part_a = (
        "(a) Attention treats its inputs as a set (permuting the characters only permutes its outputs), so the order "
        "of the letters, which decides what moves to the end of a Pig Latin word, must be added to each embedding"
        f"{evidence}."
    )

    tested = {encoding: r.length_variant(encoding) for encoding in r.positions}
    for encoding, variant in tested.items():
        longer = f"words longer than {config.train_max_length} characters, {encoding} (run `{r.length_run}`)"
        numbers += variant.numbers(LONGER_LOSS, f"loss on {longer}") + variant.numbers(LONGER_ACCURACY, f"word accuracy on {longer}")
    losses = ", ".join(f"{LABELS.get(e, e)} {variant.mean(LONGER_LOSS):.2f}" for e, variant in tested.items())
    part_b = (
        "(b) Sinusoids give every position, however far, a bounded code of the model's width that needs no training and "
        "in which a shift by k positions is one fixed linear map (a rotation), whereas a one-hot code needs one "
        f"dimension per position (at most {config.transformer.hidden_size} here, so no longer sequence can be encoded) "
        f"and makes all positions equally unrelated. On words longer than any trained (over {config.train_max_length} "
        f"characters) the teacher-forced loss per character was {losses}"
    )
    if "one-hot" in tested:
        part_b += f": {versus(tested['sinusoidal'], tested['one-hot'], LONGER_LOSS, 2)}"
    if "learned" in tested:
        part_b += f"; {versus(tested['sinusoidal'], tested['learned'], LONGER_LOSS, 2)}"
    accuracies = ", ".join(f"{LABELS.get(e, e)} {variant.mean(LONGER_ACCURACY):.3f}" for e, variant in tested.items())
    part_b += f"; exact words there: {accuracies}"
    if "one-hot" in tested:
        part_b += f" ({versus(tested['sinusoidal'], tested['one-hot'], LONGER_ACCURACY)})"
    return Answer(f"{part_a} {part_b}.", tuple(numbers), link=POSITIONS_HEADING)


def unmasked_decoder(with_cross_attention: bool) -> AnswerFunction:
    """What training without the causal mask does, and why; three sentences (four with the note on cross-attention)."""

    def answer(ctx: ReportContext) -> Answer:
        r = load(ctx)
        causal, unmasked = r.causal, r.unmasked
        numbers = []
        for variant in (causal, unmasked):
            numbers += variant.numbers(TRAIN_LOSS, f"final train loss, {variant.label}")
            numbers += variant.numbers(OURS, f"lowest val loss (teacher forced), {variant.label}")
            numbers += variant.numbers(NOTEBOOKS, f"lowest val loss (notebooks' definition), {variant.label}")
            numbers += variant.numbers(ACCURACY, f"val word accuracy (greedy), {variant.label}")
        sentence = r.causal.runs[0].translations.iloc[0]
        generated = r.unmasked.runs[0].translations.iloc[0]["translation"]
        text = (
            "Without the mask, decoder position t attends to input t+1, the very character it is trained to predict, so "
            f"training can copy it instead of predicting it: final training loss {versus(unmasked, causal, TRAIN_LOSS)} "
            f"({_replicates(causal)} each), and teacher-forced validation loss {versus(unmasked, causal, OURS)}. "
            "Greedy generation has no future characters to copy (validation word accuracy: "
            f"{versus(unmasked, causal, ACCURACY, 2)}), e.g. `{sentence['sentence']}` became `{generated}` "
            f"(causal: `{sentence['translation']}`). "
            "The mask is what makes training match generation: each position learns to predict from the characters before "
            "it, which is all it has when it generates."
        )
        if with_cross_attention:
            text += (
                " Making the encoder (cross-) attention non-causal changes nothing: it reads the source word, which is "
                "known whole before decoding starts, so it never had a mask."
            )
        return Answer(text, tuple(numbers), link=UNMASKED_HEADING)

    return answer


def attention_kinds(ctx: ReportContext) -> Answer:
    """One advantage and one disadvantage each, then what the like-for-like runs measured."""
    r = load(ctx)
    additive, dot = r.attention.get("additive"), r.attention.get("scaled-dot")
    rnn = r.setup.config.attention.run
    text = (
        "Additive attention scores each (query, key) pair with a small MLP, `w . ReLU(W [s; h_j] + b)`: its advantage is a "
        "learned, nonlinear comparison that also works when queries and keys differ in size; its disadvantage is cost, an "
        "MLP evaluated for every pair (a hidden layer per source position at every decoding step) that cannot be a single "
        "matrix product. Scaled dot-product attention scores `q . k / sqrt(d)`: its advantage is speed and simplicity, every "
        "score of a sequence in one matrix multiplication with nothing but the projections to learn; its disadvantage is that "
        "queries and keys must share one dimension, the score is only bilinear, and raw dot products grow with d (hence the "
        "1/sqrt(d), without which the softmax saturates)."
    )
    numbers = []
    if additive and dot:
        for variant in (additive, dot):
            numbers += variant.numbers(ACCURACY, f"val word accuracy, {variant.label}")
            numbers += variant.numbers(OURS, f"lowest val loss, {variant.label}")
            numbers += variant.numbers(SECONDS_PER_EPOCH, f"seconds per epoch, {variant.label}", digits=3)
            numbers += variant.numbers("parameters", f"parameters, {variant.label}", digits=0)
        text += (
            f" In our like-for-like runs (the GRU encoder-decoder at hidden {rnn.hidden_size}, {rnn.epochs} epochs, "
            f"{_replicates(additive)} each; only the score differs), validation word accuracy: "
            f"{versus(additive, dot, ACCURACY)}; lowest validation loss: {versus(additive, dot, OURS)}; seconds per epoch: "
            f"{versus(additive, dot, SECONDS_PER_EPOCH, 2)}; "
            f"parameters {additive.mean('parameters'):,.0f} vs {dot.mean('parameters'):,.0f}."
        )
    return Answer(text, tuple(numbers), link=ATTENTION_HEADING)


ANSWERS: dict[str, AnswerFunction] = {
    "A25-2.1.3": positional_encoding,
    "A22-P2.2.4": positional_encoding,
    "A21-P3.3": positional_encoding,
    "A22-P2.2.7": unmasked_decoder(with_cross_attention=True),
    "A21-P3.6": unmasked_decoder(with_cross_attention=False),
    "A22-P2.2.8": attention_kinds,
    "A21-P3.7": attention_kinds,
}
