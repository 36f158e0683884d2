"""Training the small CLIP on the synthetic scenes (stage `clip_train`).

open_clip builds the model from `attn-clip-tiny.json`, tokenises with its own BPE
tokenizer and computes the symmetric contrastive loss (`open_clip.loss.ClipLoss`); the
core's `fit()` runs the loop and `TrackedRun` the MLflow run and outputs. Captions are
re-drawn every epoch: half of them name every slot, the others a random subset, so the
model also learns what partial captions ("two red shapes") mean, which the caption
search relies on. Training scenes come in pairs differing in one slot (hard negatives,
like the gallery's distractors); a batch keeps pairs together and both captions of a
pair name the slot they differ in, so neither caption also fits the other image. After
every epoch a callback measures validation retrieval: each image must find its own
(full) caption among the 100 captions of its block of distinct scenes (chance 1/100).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import open_clip
import pandas as pd
import torch

from pipeline.core.callbacks import CallbackList, Callbacks, EpochRecord, epoch_metrics
from pipeline.core.errors import PipelineError
from pipeline.core.io import file_sha256, write_metrics
from pipeline.core.lineage import stage_fingerprint
from pipeline.core.params import SharedParams
from pipeline.core.paths import project_root
from pipeline.core.run import TrackedRun
from pipeline.core.runtime import seed_everything, select_device
from pipeline.core.training import FitConfig, fit
from pipeline.studies.clip import (
    CONFIG_FILE,
    PIPELINE_MODEL,
    RETRIEVAL_BLOCK,
    STUDY,
    TRAIN_RUN,
    data,
    scenes,
)
from pipeline.studies.clip.figures import training_figure
from pipeline.studies.clip.models import register_pipeline_model, save_checkpoint
from pipeline.studies.clip.params import ClipParams
from pipeline.studies.clip.scoring import image_features, text_features

# The code a training run executes: the stage entry point and everything it imports.
TRAIN_STAGE = ("pipeline.studies.clip.stages", "train")  # the stage function whose code keys the run

MAX_LOGIT_SCALE = math.log(100)  # open_clip's training clamp: scale x cos never beyond 100 x cos


@dataclass
class ClipBatch:
    images: torch.Tensor  # (B, 3, S, S) normalised
    tokens: torch.Tensor  # (B, L) token ids

    def to(self, device: torch.device) -> ClipBatch:
        return ClipBatch(self.images.to(device), self.tokens.to(device))


def to_model_input(images: np.ndarray, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    """(N, S, S, 3) uint8 -> (N, 3, S, S) float, normalised like open_clip's preprocess.

    The images already have the model's size, so Resize/CenterCrop are identities and
    this equals `preprocess(PIL image)` without a PIL round trip per image.
    """
    pixels = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
    return (pixels - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def sample_caption(scene: scenes.Scene, rng: np.random.Generator, full_fraction: float, required: tuple[str, ...] = ()) -> str:
    """The full caption with probability `full_fraction`, else a random subset of slots
    that always includes `required`."""
    if rng.random() < full_fraction:
        return scene.caption()
    return scene.caption(tuple(slot for slot in scenes.SLOTS if slot in required or rng.random() < 0.5))


class CaptionedImages:
    """Batches of (image, caption); captions re-drawn per epoch, deterministic for (seed, epoch)."""

    def __init__(self, split: scenes.SceneSet, images: torch.Tensor, tokenizer, batch_size: int, seed: int, full_fraction: float):
        self.split = split
        self.images = images  # (N, 3, S, S)
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.seed = seed
        self.full_fraction = full_fraction

    def batches(self, epoch: int) -> list[ClipBatch]:
        rng = np.random.default_rng([self.seed, epoch])
        count = len(self.split.scenes)
        pairs = rng.permutation((count + 1) // 2)  # shuffle pairs, keep each pair adjacent
        order = np.stack([2 * pairs, 2 * pairs + 1], axis=1).ravel()
        order = order[order < count]
        # Full batches only: a tiny last batch would make an easy contrastive problem.
        usable = len(order) - len(order) % self.batch_size or len(order)
        batches = []
        for start in range(0, usable, self.batch_size):
            index = order[start : start + self.batch_size]
            captions = [sample_caption(self.split.scenes[i], rng, self.full_fraction, self._pair_slots(i)) for i in index]
            batches.append(ClipBatch(self.images[index], self.tokenizer(captions)))
        return batches

    def _pair_slots(self, i: int) -> tuple[str, ...]:
        """The slot(s) in which image i differs from its pair partner."""
        partner = i ^ 1  # 2k <-> 2k+1
        if partner >= len(self.split.scenes):
            return ()
        return scenes.differing_slots(self.split.scenes[i], self.split.scenes[partner])

    def __len__(self) -> int:
        return max(1, len(self.split.scenes) // self.batch_size)


def full_caption_batches(split: scenes.SceneSet, images: torch.Tensor, tokenizer, size: int) -> list[ClipBatch]:
    return [
        ClipBatch(images[i : i + size], tokenizer([s.caption() for s in split.scenes[i : i + size]]))
        for i in range(0, len(split.scenes), size)
    ]


class ContrastiveLoss:
    """loss_fn for fit(): open_clip's symmetric InfoNCE over the batch, weighted by batch size."""

    def __init__(self):
        self.loss = open_clip.loss.ClipLoss()

    def __call__(self, model, batch: ClipBatch) -> tuple[torch.Tensor, int]:
        image_feats, text_feats, scale = model(batch.images, batch.tokens)  # unit features, exp(logit_scale)
        return self.loss(image_feats, text_feats, scale), len(batch.images)


@torch.no_grad()
def retrieval_top1(model, batches: list[ClipBatch]) -> float:
    """Fraction of images whose own caption scores highest among their batch's captions."""
    model.eval()
    correct = total = 0
    for batch in batches:
        image_feats = image_features(model, batch.images)  # (B, D)
        text_feats = text_features(model, batch.tokens)  # (B, D)
        chosen = (image_feats @ text_feats.T).argmax(dim=1)  # (B,) best caption per image
        correct += int((chosen.cpu() == torch.arange(len(chosen))).sum())
        total += len(chosen)
    return correct / max(total, 1)


class RetrievalCallback(Callbacks):
    """Clamps the logit scale after each step; after each epoch adds the validation
    retrieval accuracy and the logit scale to the record (saved in the resume file with
    the rest of the epoch, so a resumed run replays them too)."""

    def __init__(self, model, val_batches: list[ClipBatch], device: torch.device):
        self.model = model
        self.val_batches = val_batches
        self.device = device

    def on_batch_end(self, batch, totals: dict[str, float]) -> None:
        with torch.no_grad():
            self.model.logit_scale.clamp_(0, MAX_LOGIT_SCALE)

    def on_evaluate(self, record: EpochRecord) -> None:
        batches = [b.to(self.device) for b in self.val_batches]
        record.extra["val_retrieval_top1"] = retrieval_top1(self.model, batches)
        record.extra["logit_scale"] = float(self.model.logit_scale.detach().exp())


def make_optimizer(weight_decay: float):
    """AdamW; no decay on gains, biases and the logit scale (open_clip's recipe)."""

    def build(model: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
        decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "logit_scale" not in n]
        no_decay = [p for n, p in model.named_parameters() if p.ndim < 2 or "logit_scale" in n]
        groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, lr=lr, fused=True)  # one kernel for all tensors: same maths, faster

    return build


def warmup_cosine(total_steps: int, warmup_steps: int):
    """Linear warm-up then cosine decay to zero, stepped per batch."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return lambda optimizer: torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def run_fingerprint(shared: SharedParams, params: ClipParams, inputs: list[Path], root: Path) -> str:
    """What a training run is: its params, data and code (keys its resume state and MLflow run)."""
    source = {
        "train": params.train.model_dump(),
        "seed": shared.seed,
        "device": shared.device,
        "data": file_sha256(*inputs),
        "code": stage_fingerprint(*TRAIN_STAGE, root),
        "model_config": file_sha256(CONFIG_FILE),
    }
    return hashlib.sha256(json.dumps(source, sort_keys=True).encode()).hexdigest()


CURVE_COLUMNS = ["epoch", "iterations", "train_loss", "val_loss", "val_retrieval_top1", "lr", "logit_scale"]


def train_clip(*, shared: SharedParams, params: ClipParams, data_dir: Path) -> None:
    started = time.perf_counter()
    root = project_root()
    config = params.train
    device = select_device(shared.device)
    train_split = data.load_split(data_dir, "train")
    val_split = data.load_split(data_dir, "validation")
    if len(val_split.scenes) % RETRIEVAL_BLOCK:
        raise PipelineError(f"{data_dir / 'validation.csv'}: expected blocks of {RETRIEVAL_BLOCK} images, got {len(val_split.scenes)}")
    fingerprint = run_fingerprint(shared, params, data.split_files(data_dir), root)

    register_pipeline_model()
    seed_everything(shared.seed)
    logging.getLogger().setLevel(logging.ERROR)  # open_clip warns on the root logger that the init is random: it is meant to be
    model = open_clip.create_model(PIPELINE_MODEL)
    tokenizer = open_clip.get_tokenizer(PIPELINE_MODEL)
    preprocess_cfg = open_clip.get_model_preprocess_cfg(model)
    mean, std = preprocess_cfg["mean"], preprocess_cfg["std"]
    train_data = CaptionedImages(
        train_split, to_model_input(train_split.images, mean, std), tokenizer, config.batch_size, shared.seed, config.full_caption_fraction
    )
    val_batches = full_caption_batches(val_split, to_model_input(val_split.images, mean, std), tokenizer, RETRIEVAL_BLOCK)
    num_parameters = sum(p.numel() for p in model.parameters())
    total_steps = config.epochs * len(train_data)

    with TrackedRun(
        STUDY, TRAIN_RUN, stage="clip_train", shared=shared, dataset="synthetic-scenes", model=PIPELINE_MODEL,
        fingerprint=fingerprint, run_name=f"{TRAIN_RUN}-{PIPELINE_MODEL}",
    ) as run:
        run.tracker.log_params(
            {"train": config.model_dump(), "data": params.data.model_dump(), "seed": shared.seed}
            | {"device": str(device), "parameters": num_parameters, "model": PIPELINE_MODEL}
        )
        if not run.tracker.resumed:
            for name, split in (("train", train_split), ("validation", val_split)):
                frame = pd.DataFrame(split.table()).assign(caption=[s.caption() for s in split.scenes])
                with warnings.catch_warnings():  # MLflow's hint about integer columns: `count` has no missing values
                    warnings.simplefilter("ignore", UserWarning)
                    run.tracker.log_dataset(frame, f"synthetic-scenes-{name}", str(data_dir / f"{name}.csv"), name)

        result = fit(
            model,
            train_batches=train_data.batches,
            val_batches=val_batches,
            loss_fn=ContrastiveLoss(),
            config=FitConfig(
                epochs=config.epochs,
                patience=config.epochs,  # a fixed cosine schedule: train it to the end
                lr=config.lr,
                make_optimizer=make_optimizer(config.weight_decay),
                make_scheduler=warmup_cosine(total_steps, config.warmup_steps),
                scheduler_step="batch",
                restore_best=False,  # the schedule's end is the model we want
            ),
            resume_path=run.resume_state,
            fingerprint=fingerprint,
            callbacks=CallbackList(RetrievalCallback(model, val_batches, device), run.epoch_logger()),
            device=device,
            description="clip_train",
        )
        final_top1 = retrieval_top1(model, [b.to(device) for b in val_batches])
        curve = pd.DataFrame([epoch_metrics(r) | {"epoch": r.epoch} for r in result.history]).reindex(columns=CURVE_COLUMNS)
        metrics = {
            "val_retrieval_top1": final_top1,
            "chance_top1": 1 / RETRIEVAL_BLOCK,
            "retrieval_candidates": RETRIEVAL_BLOCK,
            "final_val_loss": result.history[-1].val_loss,
            "final_train_loss": result.history[-1].train_loss,
            "logit_scale": float(model.logit_scale.detach().exp()),
            "epochs_trained": len(result.history),
            "parameters": num_parameters,
            "train_images": len(train_split.scenes),
            "validation_images": len(val_split.scenes),
            "train_seconds": round(result.train_seconds, 2),
        }

        with run.outputs() as out:
            save_checkpoint(model, out.path(run.paths.output_dir))
            write_metrics(out, run.paths.metrics_file, metrics)
            curve.to_csv(out.path(run.paths.curve_file), index=False, float_format="%.6g")

        run.log_summary(metrics, skip=list(epoch_metrics(result.history[-1])))
        run.log_figure(training_figure(curve), "figures/training_curve.png")
        print(
            f"clip_train: validation retrieval top-1 {final_top1:.3f} among {RETRIEVAL_BLOCK} (chance {1 / RETRIEVAL_BLOCK:.2f}), "
            f"val loss {result.history[-1].val_loss:.4f}; training {result.train_seconds:.1f}s, "
            f"whole stage {time.perf_counter() - started:.1f}s after imports",
            file=sys.stderr,
        )
