"""The comparison answers' verdicts: stated as differences only beyond the run-to-run spread."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import pipeline.comparisons.translator_answers as answers
from pipeline.answers.sentences import count_sentences
from pipeline.comparisons.translator_runs import Translator
from pipeline.reporting import ReportContext, TranslatorResult

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


def _translator(study: str, name: str, values: list[tuple[float, float]], dataset: str, cell: str | None = None) -> Translator:
    """A configuration whose seeds have (notebooks', ours) lowest losses `values`."""
    params = {"run.dataset": dataset, **({"run.cell": cell} if cell else {})}
    seeds = tuple(
        TranslatorResult(
            name,
            f"{name}-{i}",
            params,
            {"best_val_loss_batch_mean": nb, "best_val_loss": ours, "val_word_accuracy": 0.5},
            pd.DataFrame(),
            pd.DataFrame(),
        )
        for i, (nb, ours) in enumerate(values)
    )
    return Translator(study, "encoder-decoder" if study == "transformer" else "rnn", seeds)


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
