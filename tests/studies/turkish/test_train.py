"""TranslationSelection: the kept epoch, its weights and the stop, against chrF computed independently; its
snapshots on disk, which let a killed run resume with the best epoch's weights."""

from __future__ import annotations

import pytest
import torch
from sacrebleu.metrics import CHRF
from torch import nn

from pipeline.core.callbacks import EpochRecord
from pipeline.core.errors import PipelineError
from pipeline.studies.turkish.train import Snapshots, TranslationSelection

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


def _write_resume_file(path) -> None:
    """What `fit` does when it saves: a new file replaces the old one (a new inode)."""
    scratch = path.with_suffix(".tmp")
    scratch.write_text("state")
    scratch.replace(path)


@pytest.mark.parametrize(("saved_after", "resumed_best"), [((1,), 1), ((1, 3), 3)])
def test_a_resumed_selection_gets_back_the_best_weights_of_the_epochs_it_resumes_after(tmp_path, saved_after, resumed_best):
    """Killed after epoch 4: the resume file holds the epochs up to its last save, and the best of those is
    restored, even when later (lost) epochs had already written better snapshots."""
    resume_file = tmp_path / "state.pt"
    model = nn.Linear(1, 1, bias=False)
    epoch = {"now": 0}
    selection = TranslationSelection(model, lambda: EPOCHS[epoch["now"] - 1], REFERENCES, 2, Snapshots(tmp_path / "best", resume_file))
    records = []
    for number in range(1, 5):
        epoch["now"] = number
        with torch.no_grad():
            model.weight.fill_(number)
        record = _record(number)
        selection.on_evaluate(record)
        records.append(record)
        if number in saved_after:
            _write_resume_file(resume_file)
        selection.on_epoch_end(record)
    # Epochs 1-3 each improved chrF; only the snapshots the resume file may still need are on disk.
    kept = {path.name for path in (tmp_path / "best").glob("*.pt")}
    assert kept == ({"epoch-3.pt"} if saved_after == (1, 3) else {"epoch-1.pt", "epoch-2.pt", "epoch-3.pt"})

    resumed = TranslationSelection(nn.Linear(1, 1, bias=False), lambda: [], REFERENCES, 2, Snapshots(tmp_path / "best", resume_file))
    resumed.on_resume(records[: saved_after[-1]])
    assert resumed.best_epoch == resumed_best and resumed.bad_epochs == 0
    assert resumed.best_chrf == pytest.approx(records[resumed_best - 1].extra["val_chrf"])
    assert resumed.best_state["weight"].item() == float(resumed_best)
    assert {path.name for path in (tmp_path / "best").glob("*.pt")} == {f"epoch-{resumed_best}.pt"}


def test_a_resume_without_the_best_snapshot_says_how_to_start_over(tmp_path):
    selection = TranslationSelection(nn.Linear(1, 1), lambda: [], REFERENCES, 2, Snapshots(tmp_path / "best", tmp_path / "state.pt"))
    record = _record(1)
    record.extra["val_chrf"] = 10.0
    with pytest.raises(PipelineError, match=r"lacks the weights of its best epoch 1; delete .* and rerun"):
        selection.on_resume([record])


def test_without_patience_nothing_is_written(tmp_path):
    """Selecting by validation loss: `fit`'s own resume file keeps those weights."""
    model = nn.Linear(1, 1, bias=False)
    selection = TranslationSelection(model, lambda: REFERENCES, REFERENCES, None, Snapshots(tmp_path / "best", tmp_path / "state.pt"))
    selection.on_evaluate(_record(1))
    assert not (tmp_path / "best").exists() and selection.best_epoch == 1
