"""The benchmark's random batches and its flat metrics, against hand-built expectations."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch

from pipeline.studies.turkish.benchmark import FIRST_WORD_ID, random_batch, summary
from pipeline.studies.turkish.model import Seq2SeqConfig


def test_random_batches_are_full_length_sentences_of_words():
    config = Seq2SeqConfig("lstm", source_vocab=40, target_vocab=30)
    batch = random_batch(config, length=9, batch_size=5, teacher_forcing=0.5, generator=torch.Generator().manual_seed(0))
    for ids, vocab in ((batch.source, 40), (batch.target, 30)):
        assert ids.shape == (5, 9)
        assert (ids[:, 0] == config.start_id).all() and (ids[:, -1] == config.end_id).all()
        assert ids[:, 1:-1].min() >= FIRST_WORD_ID and ids[:, 1:-1].max() < vocab  # no padding, no special token inside
    assert batch.source_lengths.tolist() == [9] * 5 and batch.teacher_forcing.shape == (8,)
    draws = torch.cat([random_batch(config, 9, 2, 0.25, torch.Generator().manual_seed(s)).teacher_forcing for s in range(400)])
    assert draws.float().mean().item() == pytest.approx(0.25, abs=0.03)


def test_summary_names_every_number_by_run_mode_and_length():
    table = pd.DataFrame(
        [
            {
                "run": "lstm",
                "cell": "lstm",
                "parameters": 10,
                "mode": "train",
                "length": 8,
                "batch_size": 4,
                "seconds": 0.2,
                "min_seconds": 0.1,
                "max_seconds": 0.3,
                "epoch_seconds": 0.8,
            },
            {
                "run": "lstm",
                "cell": "lstm",
                "parameters": 10,
                "mode": "decode",
                "length": 8,
                "batch_size": 4,
                "seconds": 0.05,
                "min_seconds": 0.04,
                "max_seconds": 0.06,
                "epoch_seconds": math.nan,
            },
        ]
    )
    assert summary(table) == {
        "lstm_parameters": 10,
        "lstm_train_seconds_L8": 0.2,
        "lstm_train_seconds_L8_min": 0.1,
        "lstm_train_seconds_L8_max": 0.3,
        "lstm_epoch_seconds_L8": 0.8,
        "lstm_decode_seconds_L8": 0.05,
        "lstm_decode_seconds_L8_min": 0.04,
        "lstm_decode_seconds_L8_max": 0.06,
    }
