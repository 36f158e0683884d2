"""The BERT section and its answers, on runs made up here: what they say follows from the runs' numbers."""

from __future__ import annotations

import pytest

from pipeline.answers.questions import BY_ID
from pipeline.answers.sentences import count_sentences
from pipeline.core.io import staged_outputs
from pipeline.studies.bert import report
from pipeline.studies.bert.answers import ANSWERS
from tests.classification.fakes import bert_runs, fake_context, gpt_runs


@pytest.fixture()
def rendered(tmp_path):
    def render(scratch_collapses: bool = False) -> tuple[str, object]:
        with staged_outputs(tmp_path, clear=[]) as out:
            ctx = fake_context(tmp_path, out, bert_runs(scratch_collapses), gpt_runs())
            return "\n".join(report.render(ctx)), ctx

    return render


def test_the_frozen_heads_cause_is_stated_from_its_numbers(rendered):
    text, _ = rendered()
    # frozen_reference: 3 epochs of 14 steps at lr 5e-05, head moved 3.1%, mean top probability 0.34.
    assert "- `frozen_reference` (lr 5e-05, 3 epochs, 42 steps): the head's weights moved 3.1% of their initial norm" in text
    assert "its mean top probability on validation is 0.34 (uniform: 0.33), so its head is barely trained" in text
    assert "At lr 5e-05 for 42 steps (`frozen_reference`) the head's weights moved only 3.1%" in text
    assert "at lr 0.1 for 140 steps (`frozen`) they moved 1780%" in text


def test_a_collapsed_baseline_is_the_majority_baseline_and_a_learned_one_is_compared(rendered):
    learned, _ = rendered(scratch_collapses=False)
    # finetune: wrong on 2 zeros + 2 negatives = 156/160; no_pretraining: 2 + 25 -> 133/160; gap 23 sentences.
    assert "pretraining is worth +0.1437 test accuracy (+23 test sentences) over a random-init model that learned" in learned
    collapsed, _ = rendered(scratch_collapses=True)
    assert "without pretraining the model collapsed to always answering 'positive', so it is the majority baseline" in collapsed
    assert "collapsed: always 'positive', i.e. the majority baseline" in collapsed  # the summary table says it too
    assert "pretraining is worth" not in collapsed


def test_the_recipe_table_shows_what_each_run_logged(rendered):
    text, _ = rendered()
    assert "| bert/gpt_recipe     | 5e-05  |        4 |" in text.replace("  |", " |") or "bert/gpt_recipe" in text
    assert "train CSV: not stratified 20%, seed 2021 (448/160 train/val)" in text


def test_inspection_leaves_collapsed_runs_out(rendered):
    text, _ = rendered(scratch_collapses=True)
    assert "left out as majority baselines: `no_pretraining`" in text


@pytest.mark.parametrize("question", sorted(ANSWERS))
def test_answers_keep_their_sentence_limits_and_show_numbers_or_code(rendered, question):
    _, ctx = rendered()
    answer = ANSWERS[question](ctx)
    assert BY_ID[question].within_limit(count_sentences(answer.text)), (count_sentences(answer.text), answer.text)
    assert answer.numbers or answer.code
    assert answer.link


def test_the_2022_answers_quote_the_2022_figures(rendered):
    _, ctx = rendered()
    assert "2022 frozen run: published 0.3" in ANSWERS["A22-P3.3b"](ctx).text
    assert "2025 frozen run: published 0.745" in ANSWERS["A25-3.3b"](ctx).text
    assert "2022 published BERTweet 0.74-0.76 against MathBERT's 0.89-0.9" in ANSWERS["A22-P3.4"](ctx).text
