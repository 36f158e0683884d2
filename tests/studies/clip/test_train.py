"""Training the small CLIP: the per-epoch retrieval measurements survive a kill and resume.

The retrieval accuracy and logit scale are added to each epoch's record in the
`on_evaluate` hook, before the resume file is written, so a run killed and resumed
replays its earlier epochs (to MLflow and into the curve) with them, and ends exactly
where an uninterrupted run ends. Random weights, a few dozen tiny images, two epochs.
"""

from __future__ import annotations

import pytest
import torch

from pipeline.core.callbacks import (
    CallbackList,
    Callbacks,
    EpochRecord,
    MlflowEpochLogger,
)
from pipeline.core.training import FitConfig, fit
from pipeline.studies.clip import PIPELINE_MODEL, scenes

EXTRA = ("val_retrieval_top1", "logit_scale")
EPOCHS = 2


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def setup():
    import open_clip

    from pipeline.studies.clip.models import register_pipeline_model
    from pipeline.studies.clip.train import (
        CaptionedImages,
        full_caption_batches,
        to_model_input,
    )

    register_pipeline_model()
    tokenizer = open_clip.get_tokenizer(PIPELINE_MODEL)
    config = open_clip.get_model_preprocess_cfg(open_clip.create_model(PIPELINE_MODEL))
    mean, std = config["mean"], config["std"]
    train_split = scenes.train_split(3, 32, 32)
    val_split = scenes.validation_split(3, 1, 32, block_size=20)
    train_data = CaptionedImages(train_split, to_model_input(train_split.images, mean, std), tokenizer, 8, seed=3, full_fraction=0.5)
    val_batches = full_caption_batches(val_split, to_model_input(val_split.images, mean, std), tokenizer, 20)
    return train_data, val_batches


class FakeTracker:
    """What MlflowEpochLogger needs of a RunTracker: a fresh run, metrics kept in memory."""

    resumed = False

    def __init__(self):
        self.logged: dict[int, dict[str, float]] = {}

    def last_step(self, key: str) -> int:
        return 0

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        self.logged[step] = dict(metrics)


class Crash(Exception):
    pass


class CrashInEpoch(Callbacks):
    """A kill in the middle of `epoch` (after its resume file from the epoch before is written)."""

    def __init__(self, epoch: int):
        self.epoch, self.finished = epoch, 0

    def on_batch_end(self, batch, totals):
        if self.finished == self.epoch - 1:
            raise Crash

    def on_epoch_end(self, record: EpochRecord) -> None:
        self.finished = record.epoch


class Replayed(Callbacks):
    def __init__(self):
        self.history: list[EpochRecord] | None = None

    def on_resume(self, history: list[EpochRecord]) -> None:
        self.history = list(history)


def _fit(setup, *extra_callbacks: Callbacks, resume_path=None):
    import open_clip

    from pipeline.studies.clip.train import (
        ContrastiveLoss,
        RetrievalCallback,
        make_optimizer,
        warmup_cosine,
    )

    train_data, val_batches = setup
    torch.manual_seed(0)
    model = open_clip.create_model(PIPELINE_MODEL)
    config = FitConfig(
        epochs=EPOCHS, patience=EPOCHS, lr=1e-3, make_optimizer=make_optimizer(0.1),
        make_scheduler=warmup_cosine(EPOCHS * len(train_data), 2), scheduler_step="batch", restore_best=False,
    )
    callbacks = CallbackList(RetrievalCallback(model, val_batches, torch.device("cpu")), *extra_callbacks)
    result = fit(
        model, train_data.batches, val_batches, ContrastiveLoss(), config,
        resume_path=resume_path, fingerprint="clip-test", callbacks=callbacks, description="clip-test",
    )
    return model, result


def _essentials(history: list[EpochRecord]):
    return [(r.epoch, r.train_loss, r.val_loss, r.lr, r.iterations, r.tokens, r.extra) for r in history]


def test_a_resumed_run_replays_the_retrieval_metrics_and_ends_like_an_uninterrupted_one(setup, tmp_path):
    resume = tmp_path / "state.pt"
    with pytest.raises(Crash):
        _fit(setup, CrashInEpoch(epoch=2), resume_path=resume)

    replayed, tracker = Replayed(), FakeTracker()
    model, result = _fit(setup, replayed, MlflowEpochLogger(tracker), resume_path=resume)
    assert result.resumed_from_epoch == 1
    (first,) = replayed.history
    assert set(EXTRA) <= set(first.extra)  # saved with the epoch, not added after the resume file was written
    assert 0.0 <= first.extra["val_retrieval_top1"] <= 1.0
    assert sorted(tracker.logged) == [1, 2]
    for step in (1, 2):  # MLflow gets every epoch's retrieval accuracy, the replayed one included
        assert set(EXTRA) <= set(tracker.logged[step])
    assert tracker.logged[1]["val_retrieval_top1"] == first.extra["val_retrieval_top1"]

    straight_model, straight = _fit(setup)
    assert _essentials(result.history) == _essentials(straight.history)
    for key, value in straight_model.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
