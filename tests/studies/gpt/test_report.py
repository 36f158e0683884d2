"""The GPT section and its answers, on runs made up here (`tests/classification/fakes.py`)."""

from __future__ import annotations

import pytest

from pipeline.answers.questions import BY_ID
from pipeline.answers.sentences import count_sentences
from pipeline.core.io import staged_outputs
from pipeline.studies.gpt import report
from pipeline.studies.gpt.answers import ANSWERS
from tests.classification.fakes import bert_runs, fake_context, gpt_runs


@pytest.fixture()
def ctx(tmp_path):
    with staged_outputs(tmp_path, clear=[]) as out:
        context = fake_context(tmp_path, out, bert_runs(), gpt_runs())
        context.text = "\n".join(report.render(context))
        yield context


def test_the_recipe_shown_is_the_one_the_run_logged(ctx):
    # The fake GPT run logged lr 5e-05, 4 epochs, no warm-up, no weight decay (gpt.recipe in params.yaml says 2e-05).
    assert (
        "`finetune` trained with AdamW lr 5e-05 (eps 1e-08, weight decay 0), linear decay from the first step, "
        "clipping 1, batch 32, 4 epochs (56 steps)"
    ) in ctx.text
    assert "lr 2e-05" not in ctx.text


def test_the_continuations_are_shown_as_generated(ctx):
    assert "| One, two, three, four, | ' five, six, seven. Eight' |" in ctx.text
    assert "(15 tokens in 1.5 s; stage `generate_gpt`)" in ctx.text


@pytest.mark.parametrize("question", sorted(ANSWERS))
def test_answers_keep_their_sentence_limits(ctx, question):
    answer = ANSWERS[question](ctx)
    assert BY_ID[question].within_limit(count_sentences(answer.text)), (count_sentences(answer.text), answer.text)
    assert answer.numbers and answer.link


def test_the_generation_answer_quotes_the_continuation(ctx):
    text = ANSWERS["A21-P4.4"](ctx).text
    assert "continued `One, two, three, four,` as `five, six, seven. Eight` by appending its most likely next token 12 times" in text
    assert count_sentences(text) == 3  # the full stop inside the continuation's code span ends no sentence


def test_the_classifier_answer_shows_the_code_and_the_training(ctx):
    answer = ANSWERS["A21-P4.1"](ctx)
    assert [f.__name__ for f in answer.code] == ["load_pretrained", "set_padding", "encode", "sentence_logits"]
    assert answer.numbers[-1] == ("test accuracy, run `gpt/finetune`", f"{153 / 160:.4f}")  # wrong on 1 zero + 6 negatives
