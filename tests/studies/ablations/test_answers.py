"""The answers on made-up runs whose comparisons are known."""

from __future__ import annotations

import pytest

from pipeline.answers.sentences import count_sentences
from pipeline.studies.ablations.answers import ANSWERS
from tests.studies.ablations.fake_results import SENTENCE, context, results


@pytest.mark.parametrize("question", ["A25-2.1.3", "A22-P2.2.4", "A21-P3.3"])
def test_positional_encoding_answer_keeps_its_limit_and_judges_by_the_spread(question):
    far = ANSWERS[question](context(results(close=False)))
    assert 2 <= count_sentences(far.text) <= 4
    assert far.text.startswith("(a) ") and " (b) " in far.text
    # sinusoidal 1.2 mean (spread 0.4) vs one-hot 2.55 (spread 0.1): beyond the spread
    assert "sinusoidal (1.20) is lower than one-hot (2.55) by 1.35, beyond the run-to-run spread of 0.40" in far.text
    assert "sinusoidal (0.275) is lower than no encoding (0.810)" in far.text
    near = ANSWERS[question](context(results(close=True)))
    assert "sinusoidal (1.20) and one-hot (1.25) cannot be told apart" in near.text
    assert (
        "loss on words longer than 7 characters, one-hot (run `length-generalisation`), run `positions-one-hot-0`",
        "2.5000",
    ) in far.numbers


def test_unmasked_answer_states_training_and_generation():
    short = ANSWERS["A21-P3.6"](context(results(close=False)))
    assert count_sentences(short.text) <= 3
    assert "final training loss unmasked (0.002) is lower than causal (0.300) by 0.298" in short.text
    assert f"`{SENTENCE}` became `ay ay oay`" in short.text
    full = ANSWERS["A22-P2.2.7"](context(results(close=False)))
    assert full.text.startswith(short.text) and "cross-" in full.text


def test_attention_answer_gives_both_kinds_and_the_measured_times():
    answer = ANSWERS["A22-P2.2.8"](context(results(close=False)))
    assert "advantage" in answer.text and "disadvantage" in answer.text
    # 1.05 vs 1.035 seconds per epoch, spreads 0.10 and 0.03
    assert "cannot be told apart" in answer.text.split("seconds per epoch:")[1]
    assert "parameters 1,000 vs 999" in answer.text
    assert ANSWERS["A21-P3.7"] is ANSWERS["A22-P2.2.8"]  # the same question, asked again
