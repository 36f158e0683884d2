"""Training the small CLIP: the loss, the text tower's frozen start, and the per-epoch
measurements surviving a kill and resume.

The retrieval accuracy, logit scale and attribute diagnostic are added to each epoch's
record in the `on_evaluate` hook, before the resume file is written, so a run killed and
resumed replays its earlier epochs (to MLflow and into the curve) with them, and ends
exactly where an uninterrupted run ends, the frozen text tower included. Random weights, a
few dozen tiny images, two epochs.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pipeline.core.callbacks import CallbackList, Callbacks, EpochRecord, MlflowEpochLogger
from pipeline.core.training import FitConfig, fit
from pipeline.studies.clip import PIPELINE_MODEL, scenes

EXTRA = ("val_retrieval_top1", "logit_scale", "twin_accuracy_position", "twin_accuracy_min")
EPOCHS = 2
FROZEN = 6  # text tower frozen for the first 6 of the 8 steps (4 per epoch)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def setup():
    import open_clip

    from pipeline.studies.clip.models import register_pipeline_model
    from pipeline.studies.clip.train import CaptionedImages, full_caption_batches, to_model_input

    register_pipeline_model()
    tokenizer = open_clip.get_tokenizer(PIPELINE_MODEL)
    config = open_clip.get_model_preprocess_cfg(open_clip.create_model(PIPELINE_MODEL))
    mean, std = config["mean"], config["std"]
    train_split = scenes.train_split(3, 24, 32, group_size=3)
    val_split = scenes.validation_split(3, 1, 32, block_size=20)
    train_data = CaptionedImages(
        train_split, to_model_input(train_split.images, mean, std), tokenizer, 6, group_size=3, seed=3, full_fraction=0.5
    )
    val_batches = full_caption_batches(val_split, to_model_input(val_split.images, mean, std), tokenizer, 20)
    twins = scenes.twin_split(3, ("colour", "position"), 4, 32)
    return train_data, val_batches, twins, (mean, std), tokenizer


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
        RetrievalCallback,
        TextTowerFreeze,
        TwinCallback,
        TwinContrastiveLoss,
        make_optimizer,
        model_encoders,
        warmup_cosine,
    )

    train_data, val_batches, twins, (mean, std), tokenizer = setup
    torch.manual_seed(0)
    model = open_clip.create_model(PIPELINE_MODEL)
    config = FitConfig(
        epochs=EPOCHS,
        patience=EPOCHS,
        lr=1e-3,
        make_optimizer=make_optimizer(0.1),
        make_scheduler=warmup_cosine(EPOCHS * len(train_data), 2, FROZEN),
        scheduler_step="batch",
        restore_best=False,
    )
    callbacks = CallbackList(
        TextTowerFreeze(model, FROZEN),
        RetrievalCallback(model, val_batches, torch.device("cpu")),
        TwinCallback(twins, model_encoders(model, tokenizer, mean, std)),
        *extra_callbacks,
    )
    result = fit(
        model,
        train_data.batches,
        val_batches,
        TwinContrastiveLoss(1.0),
        config,
        resume_path=resume_path,
        fingerprint="clip-test",
        callbacks=callbacks,
        description="clip-test",
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


# ---------------------------------------------------------------------------- the loss


def _features(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    image = torch.nn.functional.normalize(torch.randn(n, 8, generator=generator), dim=-1)
    text = torch.nn.functional.normalize(torch.randn(n, 8, generator=generator), dim=-1)
    return image, text


def _batch(truth, group):
    from pipeline.studies.clip.train import ClipBatch

    n = len(group)
    return ClipBatch(torch.zeros(n, 3, 2, 2), torch.zeros(n, 4, dtype=torch.long), torch.tensor(truth), torch.tensor(group))


def _by_hand(logits, truth, allowed) -> float:
    """Symmetric cross-entropy, numpy: row t of `logits` over the images allowed for it, own image the target."""
    logits, truth, allowed = (np.asarray(x) for x in (logits, truth, allowed))
    n = len(logits)
    keep = allowed & ~(truth & ~np.eye(n, dtype=bool))  # other images the caption is true of are no negatives

    def one_way(matrix, mask):
        return np.mean([np.log(np.exp(matrix[t][mask[t]]).sum()) - matrix[t, t] for t in range(n)])

    return (one_way(logits, keep) + one_way(logits.T, keep.T)) / 2


def test_loss_without_false_negatives_or_twins_is_open_clips():
    import open_clip

    from pipeline.studies.clip.train import TwinContrastiveLoss

    image, text = _features(6, 0)
    model = lambda images, tokens: (image, text, torch.tensor(20.0))  # noqa: E731 - a stand-in for CLIP's forward
    batch = _batch(np.eye(6, dtype=bool), np.arange(6))
    loss, weight = TwinContrastiveLoss(twin_weight=0.0)(model, batch)
    expected = open_clip.loss.ClipLoss()(image, text, torch.tensor(20.0))
    assert weight == 6 and loss.item() == pytest.approx(expected.item(), rel=1e-6)


def test_loss_masks_captions_true_of_other_images_and_adds_the_twin_term():
    from pipeline.studies.clip.train import TwinContrastiveLoss

    image, text = _features(6, 1)
    scale = 10.0
    model = lambda images, tokens: (image, text, torch.tensor(scale))  # noqa: E731
    truth = np.eye(6, dtype=bool)
    truth[0, 1] = truth[3, 5] = True  # caption 0 also fits image 1, caption 3 image 5
    group = np.array([0, 0, 0, 1, 1, 1])
    logits = (scale * text @ image.T).numpy().astype(np.float64)
    everywhere = np.ones((6, 6), dtype=bool)
    in_group = group[:, None] == group[None, :]

    masked_only, _ = TwinContrastiveLoss(twin_weight=0.0)(model, _batch(truth, group))
    assert masked_only.item() == pytest.approx(_by_hand(logits, truth, everywhere), rel=1e-5)
    with_twins, _ = TwinContrastiveLoss(twin_weight=0.5)(model, _batch(truth, group))
    expected = _by_hand(logits, truth, everywhere) + 0.5 * _by_hand(logits, truth, in_group)
    assert with_twins.item() == pytest.approx(expected, rel=1e-5)


def test_caption_truth_matches_the_scenes():
    from pipeline.studies.clip.search import true_of
    from pipeline.studies.clip.train import caption_truth, scene_codes

    split = scenes.train_split(8, 12, 32, group_size=6)
    rng = np.random.default_rng(0)
    named = rng.random((12, len(scenes.SLOTS))) < 0.5  # (B, slots)
    truth = caption_truth(scene_codes(split), named)
    for t, caption_scene in enumerate(split.scenes):
        attributes = {slot: getattr(caption_scene, slot) for slot, on in zip(scenes.SLOTS, named[t]) if on}
        assert truth[t].tolist() == [true_of(scene, attributes) for scene in split.scenes]


# ---------------------------------------------------------------- the frozen text tower


def test_text_tower_waits_for_its_steps_then_warms_up():
    import open_clip

    from pipeline.studies.clip.models import register_pipeline_model
    from pipeline.studies.clip.train import (
        CaptionedImages,
        TextTowerFreeze,
        TwinContrastiveLoss,
        make_optimizer,
        to_model_input,
        warmup_cosine,
    )

    register_pipeline_model()
    split = scenes.train_split(4, 24, 32, group_size=3)
    images = to_model_input(split.images, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25))
    data = CaptionedImages(split, images, open_clip.get_tokenizer(PIPELINE_MODEL), 6, group_size=3, seed=4, full_fraction=0.5)
    torch.manual_seed(0)
    model = open_clip.create_model(PIPELINE_MODEL)
    optimizer = make_optimizer(0.1)(model, 1e-3)
    scheduler = warmup_cosine(total_steps=20, warmup_steps=2, text_frozen_steps=3)(optimizer)
    freeze = TextTowerFreeze(model, 3)
    image_group, text_group = (next(g for g in optimizer.param_groups if g["tower"] == tower) for tower in ("image", "text"))
    moved, rates = [], []
    for batch in data.batches(1)[:4]:
        before = {name: p.detach().clone() for name, p in model.named_parameters()}
        rates.append((image_group["lr"], text_group["lr"]))
        loss, _ = TwinContrastiveLoss(1.0)(model, batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        freeze.on_batch_end(batch, {})
        moved.append({name for name, p in model.named_parameters() if not torch.equal(p, before[name])})
    for step in range(3):  # frozen: the image tower moves, the text tower does not (no decay either)
        assert moved[step] and all(name.startswith("visual.") for name in moved[step]), step
        assert rates[step][1] == 0.0
    assert "token_embedding.weight" in moved[3]  # the fourth step trains it
    assert rates[3][1] == pytest.approx(rates[3][0] / 2)  # its own warm-up: step 1 of 2
