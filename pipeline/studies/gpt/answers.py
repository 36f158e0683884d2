"""The answer sheet's entries of the GPT runs: the 2021 Part 4 classifier (P4.1) and where GPT suits better (P4.4).

The entries comparing GPT with BERT (P4.2, P4.3, P4.5) rest on both studies' runs and are in
`pipeline/comparisons/classifiers.py`.
"""

from __future__ import annotations

from pipeline.reporting import Answer, AnswerFunction, ReportContext, versus
from pipeline.studies.gpt import params
from pipeline.studies.gpt.model import encode, load_pretrained, sentence_logits, set_padding  # their source is shown (A21-P4.1)
from pipeline.studies.gpt.results import GENERATION, HEADING, continuations, load


def classifier(ctx: ReportContext) -> Answer:
    """A21-P4.1: one sentence, the code, and the training evidence as numbers."""
    runs = [run for run in load(ctx) if not run.frozen] or load(ctx)
    run = max(runs, key=lambda r: r.metrics["val_accuracy"])
    published = params.load().config.published
    curve = run.curve
    text = (
        f"`load_pretrained` puts a `Linear(hidden, 3)` head (Hugging Face's `...ForSequenceClassification`) on the "
        f"pretrained causal LM, `set_padding` gives it a padding token, and the head reads the hidden state of each "
        f"sentence's last non-padding token, the only position that has seen the whole sentence; `{run.label}` trained "
        f"end to end reached validation accuracy {run.metrics['val_accuracy']:.4f} and test accuracy "
        f"{run.metrics['test_accuracy']:.4f} ({versus(run.metrics['test_accuracy'], published.test_accuracy)} the "
        f"published {published.test_accuracy[0]:.3g}-{published.test_accuracy[1]:.3g})."
    )
    numbers = tuple(
        (f"epoch {int(row.epoch)}, run `{run.label}`: train loss / val accuracy", f"{row.train_loss:.3f} / {row.val_accuracy:.4f}")
        for row in curve.itertuples()
    ) + ((f"test accuracy, run `{run.label}`", f"{run.metrics['test_accuracy']:.4f}"),)
    return Answer(text, numbers, code=(load_pretrained, set_padding, encode, sentence_logits), link=HEADING)


def generation(ctx: ReportContext) -> Answer:
    """A21-P4.4: at most 3 sentences, resting on the greedy continuations."""
    table, _, model = continuations(ctx)
    first = table.iloc[0]
    text = (
        "GPT's architecture suits generating text left to right, e.g. autocompletion, dialogue or writing code, where "
        "each token must be predicted from the ones before it only. "
        f"The pretrained causal model here ({model}) continued `{first['prompt']}` as `{_inline(first['continuation'])}` by "
        f"appending its most likely next token {int(first['new_tokens'])} times. "
        "BERT is trained to fill in masked tokens from context on both sides, so it has no distribution over the next "
        "token given only the past and cannot generate this way."
    )
    numbers = tuple((f"greedy continuation of {row.prompt!r}, run `gpt generation`", repr(row.continuation)) for row in table.itertuples())
    return Answer(text, numbers, link=GENERATION)


def _inline(text: str) -> str:
    """A continuation on one line inside a code span (newlines shown as spaces)."""
    return " ".join(text.split()).replace("`", "'")


ANSWERS: dict[str, AnswerFunction] = {"A21-P4.1": classifier, "A21-P4.4": generation}
