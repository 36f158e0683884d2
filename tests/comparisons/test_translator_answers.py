"""The comparison answers' verdicts: stated as differences only beyond the run-to-run spread."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import pipeline.comparisons.translator_answers as answers
from pipeline.answers.sentences import count_sentences
from pipeline.comparisons.translator_runs import Contender, Translator, matched_size
from pipeline.reporting import ReportContext, TranslatorResult
from tests.comparisons.curves import curve

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("verdicts", "start"),
    [
        ([{"notebooks": None, "ours": None}], "So at equal compute or size the two architectures cannot be told apart"),
        ([{"notebooks": True, "ours": None}], "So the decoder-only model is ahead"),
        (
            [{"notebooks": False, "ours": None}, {"notebooks": None, "ours": None}],
            "So at matched compute or size the encoder-decoder is ahead or even",
        ),
        ([{"notebooks": True, "ours": False}], "At matched compute or size the verdict depends"),
    ],
    ids=["even", "decoder-only-ahead", "encoder-decoder-ahead", "mixed"],
)
def test_conclusion_of_the_matched_comparisons(verdicts, start):
    assert answers._conclusion(verdicts).startswith(start)


def _translator(
    study: str, name: str, values: list[tuple[float, float]], dataset: str, cell: str | None = None, translations=None
) -> Translator:
    """A configuration whose seeds have (notebooks', ours) lowest losses `values`."""
    params = {"run.dataset": dataset, **({"run.cell": cell} if cell else {})}
    seeds = tuple(
        TranslatorResult(
            name,
            f"{name}-{i}",
            params,
            {"best_val_loss_batch_mean": nb, "best_val_loss": ours, "val_word_accuracy": 0.5},
            pd.DataFrame(),
            pd.DataFrame() if translations is None else translations,
        )
        for i, (nb, ours) in enumerate(values)
    )
    return Translator(study, "encoder-decoder" if study == "transformer" else "rnn", seeds)


def test_a_pair_where_one_finished_no_epoch_within_the_others_budget_is_not_compared(monkeypatch):
    # The decoder-only trains 5 epochs of 100 FLOPs (500 in all); one epoch of the encoder-decoder costs 1000, so
    # within the 500 FLOPs both trained the encoder-decoder has no loss, whichever caller asks.
    decoder = Contender("decoder-only d", "decoder-only", 2000, (curve(100, [3, 2.5, 2, 1.5, 1.2], [1.5, 1.25, 1, 0.75, 0.6]),))
    encoder = Contender("encoder-decoder e", "encoder-decoder", 1000, (curve(1000, [2, 1.5, 1], [1, 0.75, 0.5]),))
    assert matched_size([encoder, decoder]).empty  # the section's table: no row for the pair

    translations = pd.DataFrame({"sentence": ["the air"], "translation": ["ethay airway"]})
    reference = _translator("decoder_only", "d", [(1.2, 0.6)], "small", translations=translations)
    partner = _translator("transformer", "e", [(1.0, 0.5)], "small", translations=translations)
    monkeypatch.setattr(answers, "_matched", lambda ctx: ([decoder, encoder], "small", reference, partner, decoder, encoder, 8))
    answer = answers.decoder_only_quality(ReportContext(ROOT, out=None))
    not_compared = "`e` finished no epoch within 500 FLOPs, so the two cannot be compared there"
    assert f"Within the same 500 FLOPs (the decoder-only run's whole budget), {not_compared}." in answer.text
    assert f"At matched parameter counts, {not_compared} within 500 FLOPs (2,000 against 1,000 parameters)." in answer.text
    within = [(what, value) for what, value in answer.numbers if what.startswith("lowest val loss within")]
    assert within == [("lowest val loss within 500 FLOPs, notebooks' definition, decoder-only d", "1.2000")]  # none for `e`


@pytest.mark.parametrize(
    ("transformer_seeds", "ahead"),
    [
        ([(1.00, 0.50), (1.01, 0.505)], "`gru-large` is significantly ahead in both definitions"),  # 1% relative spread
        ([(1.00, 0.50), (1.30, 0.65)], "neither run is significantly ahead in both definitions"),
    ],  # 30%
)
def test_small_against_large_is_ahead_only_beyond_the_transformers_relative_spread(monkeypatch, transformer_seeds, ahead):
    found = {
        "transformer": [_translator("transformer", "h32-small", transformer_seeds, "small")],
        "recurrent": [
            _translator("recurrent", "gru-small", [(1.2, 0.9)], "small", "gru"),
            _translator("recurrent", "gru-large", [(1.0, 0.7)], "large", "gru"),
        ],
    }
    monkeypatch.setattr(answers, "translators", lambda ctx, study=None: found[study])
    monkeypatch.setattr(answers, "_train_words", lambda ctx, t: 7000 if t.name.endswith("large") else 1000)
    answer = answers.small_against_large("gru", short=False)(ReportContext(ROOT, out=None))
    assert ahead in answer.text
    assert count_sentences(answer.text) <= 3
    short = answers.small_against_large("gru", short=True)(ReportContext(ROOT, out=None))
    assert count_sentences(short.text) <= 2  # the 2021 version: fewer than 3 sentences
