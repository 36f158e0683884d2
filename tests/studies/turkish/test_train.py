"""TranslationSelection: the kept epoch, its weights and the stop, against chrF computed independently."""

from __future__ import annotations

import pytest
import torch
from sacrebleu.metrics import CHRF
from torch import nn

from pipeline.core.callbacks import EpochRecord
from pipeline.studies.turkish.train import TranslationSelection

REFERENCES = ["Tom went home.", "I am here."]
# What the model "translates" after each epoch: better, best (epoch 3), then worse twice.
EPOCHS = [["x", "y"], ["Tom went", "I am"], ["Tom went home.", "I am here."], ["Tom", "I"], ["went", "here"]]


def _record(epoch: int) -> EpochRecord:
    return EpochRecord(epoch=epoch, train_loss=1.0, val_loss=1.0, lr=1e-3, iterations=epoch, tokens=epoch, seconds=0.1)


def _run(patience: int | None):
    model = nn.Linear(1, 1, bias=False)
    epoch = {"now": 0}
    selection = TranslationSelection(model, lambda: EPOCHS[epoch["now"] - 1], REFERENCES, patience)
    records, stopped_after = [], None
    for number in range(1, len(EPOCHS) + 1):
        epoch["now"] = number
        with torch.no_grad():
            model.weight.fill_(number)  # the weights "of" this epoch
        record = _record(number)
        selection.on_evaluate(record)
        records.append(record)
        if selection.should_stop(record):
            stopped_after = number
            break
    return selection, records, stopped_after


def test_scores_every_epoch_with_sacrebleu_chrf():
    _, records, _ = _run(patience=None)
    expected = [CHRF().corpus_score(hypotheses, [REFERENCES]).score for hypotheses in EPOCHS]
    assert [r.extra["val_chrf"] for r in records] == pytest.approx(expected)
    assert max(expected) == expected[2] == pytest.approx(100.0)


def test_keeps_the_best_epochs_weights_and_stops_after_patience():
    selection, records, stopped_after = _run(patience=2)
    assert selection.best_epoch == 3 and selection.best_chrf == pytest.approx(100.0)
    assert selection.best_state["weight"].item() == 3.0  # a copy taken at epoch 3, not the live weights
    assert stopped_after == 5 and len(records) == 5


def test_without_patience_it_only_measures():
    selection, records, stopped_after = _run(patience=None)
    assert stopped_after is None and len(records) == len(EPOCHS)
    assert selection.best_state is None and selection.best_epoch == 3
