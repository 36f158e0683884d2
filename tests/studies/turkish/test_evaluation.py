"""sacrebleu wiring: perfect, empty and partial hypotheses against numbers known without the code."""

from __future__ import annotations

import pytest

from pipeline.studies.turkish.evaluation import corpus_scores


def test_a_perfect_translation_scores_100():
    references = ["Tom is here.", "I like cats.", "Where is the station?"]
    scores = corpus_scores(list(references), references)
    assert scores["bleu"] == pytest.approx(100.0) and scores["chrf"] == pytest.approx(100.0)
    assert "tok:13a" in scores["bleu_signature"] and "nrefs:1" in scores["bleu_signature"]


def test_nothing_in_common_scores_0():
    scores = corpus_scores(["xyz qqq", "vvv"], ["Tom is here.", "I like cats."])
    assert scores["bleu"] == pytest.approx(0.0) and scores["chrf"] == pytest.approx(0.0, abs=1e-9)


def test_bleu_by_hand_for_one_sentence():
    # "a b c d e" vs "a b c d f": precisions 4/5, 3/4, 2/3, 1/2, no brevity penalty.
    expected = 100 * (4 / 5 * 3 / 4 * 2 / 3 * 1 / 2) ** 0.25
    assert corpus_scores(["a b c d e"], ["a b c d f"])["bleu"] == pytest.approx(expected, rel=1e-6)


def test_lengths_must_match():
    with pytest.raises(ValueError, match="2 hypotheses for 1 references"):
        corpus_scores(["a", "b"], ["a"])
