"""Training the small CLIP on the synthetic scenes (stage `clip_train`).

open_clip builds the model from `attn-clip-tiny.json`, tokenises with its own BPE
tokenizer and computes the symmetric contrastive loss (`open_clip.loss.ClipLoss`); the
project's shared `fit()` runs the loop. Captions are re-drawn every epoch: half of them
name every slot, the others a random subset, so the model also learns what partial
captions ("two red shapes") mean, which the caption search relies on. Training scenes
come in pairs differing in one slot (hard negatives, like the gallery's distractors);
a batch keeps pairs together and both captions of a pair name the slot they differ in,
so neither caption also fits the other image. After every epoch
a callback measures validation retrieval: each image must find its own (full) caption
among the 100 captions of its block of distinct scenes (chance 1/100).
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import open_clip
import pandas as pd
import torch

from pipeline import figures
from pipeline.clip import PIPELINE_MODEL, data, scenes
from pipeline.clip.models import register_pipeline_model, save_checkpoint
from pipeline.clip.scoring import image_features, text_features
from pipeline.errors import PipelineError
from pipeline.io import staged_outputs, write_json
from pipeline.lineage import OUTPUTS_TAG, outputs_fingerprint
from pipeline.params import ClipTrain, Params
from pipeline.paths import project_root
from pipeline.runtime import seed_everything, select_device
from pipeline.tracking import RunTracker, git_commit
from pipeline.training import Callbacks, EpochRecord, FitConfig, fit

RETRIEVAL_BLOCK = 100  # candidates per retrieval query (validation blocks of distinct scenes)
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


class EpochTracker(Callbacks):
    """Clamps the logit scale after each step; after each epoch adds validation retrieval
    accuracy to the record and streams the epoch's metrics to MLflow (step = epoch)."""

    def __init__(self, model, val_batches: list[ClipBatch], tracker: RunTracker, device: torch.device):
        self.model = model
        self.val_batches = val_batches
        self.tracker = tracker
        self.device = device

    def on_batch_end(self, batch, totals: dict[str, float]) -> None:
        with torch.no_grad():
            self.model.logit_scale.clamp_(0, MAX_LOGIT_SCALE)

    def on_resume(self, history: list[EpochRecord]) -> None:
        logged = self.tracker.last_step("val_loss") if self.tracker.resumed else 0
        for record in history:
            if record.epoch > logged:
                self.tracker.log_metrics(epoch_metrics(record), step=record.epoch)

    def on_epoch_end(self, record: EpochRecord) -> None:
        batches = [b.to(self.device) for b in self.val_batches]
        record.extra["val_retrieval_top1"] = retrieval_top1(self.model, batches)
        record.extra["logit_scale"] = float(self.model.logit_scale.detach().exp())
        self.tracker.log_metrics(epoch_metrics(record), step=record.epoch)


def epoch_metrics(record: EpochRecord) -> dict[str, float]:
    return {
        "train_loss": record.train_loss,
        "val_loss": record.val_loss,
        "lr": record.lr,
        "iterations": record.iterations,
        "epoch_seconds": record.seconds,
        **record.extra,
    }


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


def training_figure(curve: pd.DataFrame):
    """Contrastive loss and validation retrieval accuracy per epoch, side by side."""
    import matplotlib.pyplot as plt

    figure, (loss_axis, top1_axis) = plt.subplots(1, 2, figsize=(10, 4))
    loss_axis.plot(curve["epoch"], curve["train_loss"], label="train")
    loss_axis.plot(curve["epoch"], curve["val_loss"], label="validation (full captions)")
    loss_axis.set(xlabel="epoch", ylabel="contrastive loss (InfoNCE, both directions)", title="loss")
    top1_axis.plot(curve["epoch"], curve["val_retrieval_top1"], marker="o", label="image -> its caption, top-1")
    top1_axis.axhline(1 / RETRIEVAL_BLOCK, color="grey", ls="--", label=f"chance (1/{RETRIEVAL_BLOCK})")
    top1_axis.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1), title=f"validation retrieval among {RETRIEVAL_BLOCK}")
    for axis in (loss_axis, top1_axis):
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    return figure


def train_clip(
    *,
    params: Params,
    data_dir: Path,
    experiment: str,
    output_dir: Path,
    metrics_file: Path,
    curve_file: Path,
    state_dir: Path,
    fingerprint: str,
) -> None:
    started = time.perf_counter()
    config: ClipTrain = params.clip.train
    device = select_device(params.device)
    train_split = data.load_split(data_dir, "train")
    val_split = data.load_split(data_dir, "validation")
    if len(val_split.scenes) % RETRIEVAL_BLOCK:
        raise PipelineError(f"{data_dir / 'validation.csv'}: expected blocks of {RETRIEVAL_BLOCK} images, got {len(val_split.scenes)}")

    register_pipeline_model()
    seed_everything(params.seed)
    logging.getLogger().setLevel(logging.ERROR)  # open_clip warns on the root logger that the init is random: it is meant to be
    model = open_clip.create_model(PIPELINE_MODEL)
    tokenizer = open_clip.get_tokenizer(PIPELINE_MODEL)
    preprocess_cfg = open_clip.get_model_preprocess_cfg(model)
    mean, std = preprocess_cfg["mean"], preprocess_cfg["std"]
    train_data = CaptionedImages(
        train_split, to_model_input(train_split.images, mean, std), tokenizer, config.batch_size, params.seed, config.full_caption_fraction
    )
    val_batches = full_caption_batches(val_split, to_model_input(val_split.images, mean, std), tokenizer, RETRIEVAL_BLOCK)
    num_parameters = sum(p.numel() for p in model.parameters())
    total_steps = config.epochs * len(train_data)

    commit, dirty = git_commit()
    tags = {
        "git_commit": commit,
        "git_dirty": str(dirty).lower(),
        "dvc_stage": os.environ.get("DVC_STAGE", "clip_train"),
        "dataset": "synthetic-scenes",
        "profile": params.profile,
        "model": PIPELINE_MODEL,
        "config_sha256": fingerprint,
    }
    with RunTracker(experiment, f"train-{PIPELINE_MODEL}", tags, resume_file=state_dir / "mlflow_run_id") as tracker:
        tracker.log_params(
            {"train": config.model_dump(), "data": params.clip.data.model_dump(), "seed": params.seed}
            | {"device": str(device), "parameters": num_parameters, "model": PIPELINE_MODEL}
        )
        if not tracker.resumed:
            for name, split in (("train", train_split), ("validation", val_split)):
                frame = pd.DataFrame(split.table()).assign(caption=[s.caption() for s in split.scenes])
                with warnings.catch_warnings():  # MLflow's hint about integer columns: `count` has no missing values
                    warnings.simplefilter("ignore", UserWarning)
                    tracker.log_dataset(frame, f"synthetic-scenes-{name}", str(data_dir / f"{name}.csv"), name)

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
            resume_path=state_dir / "state.pt",
            fingerprint=fingerprint,
            callbacks=EpochTracker(model, val_batches, tracker, device),
            device=device,
            description="clip_train",
        )
        final_top1 = retrieval_top1(model, [b.to(device) for b in val_batches])
        curve = pd.DataFrame([epoch_metrics(r) | {"epoch": r.epoch} for r in result.history])
        curve = curve.reindex(columns=["epoch", "iterations", "train_loss", "val_loss", "val_retrieval_top1", "lr", "logit_scale"])
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

        root = project_root()
        with staged_outputs(root, clear=[output_dir, metrics_file, curve_file]) as out:
            save_checkpoint(model, out.path(output_dir))
            write_json(out.path(metrics_file), metrics)
            curve.to_csv(out.path(curve_file), index=False, float_format="%.6g")

        # Summaries at step 0, except keys the epochs already logged (no bogus epoch-0 point).
        per_epoch = set(epoch_metrics(result.history[-1]))
        tracker.log_metrics({k: float(v) for k, v in metrics.items() if k not in per_epoch})
        figure = training_figure(curve)
        tracker.log_figure(figure, "figures/training_curve.png")
        figures.close(figure)
        tracker.set_tags({OUTPUTS_TAG: outputs_fingerprint(metrics_file, curve_file)})

    print(
        f"clip_train: validation retrieval top-1 {final_top1:.3f} among {RETRIEVAL_BLOCK} (chance {1 / RETRIEVAL_BLOCK:.2f}), "
        f"val loss {result.history[-1].val_loss:.4f}; training {result.train_seconds:.1f}s, "
        f"whole stage {time.perf_counter() - started:.1f}s after imports",
        file=sys.stderr,
    )
    if tracker.failures:
        raise PipelineError(
            f"clip_train: training finished and its outputs are written, but MLflow did not record everything "
            f"({tracker.failure_summary()}); rerun the stage to log it again (it resumes from the finished state)"
        )
    shutil.rmtree(state_dir, ignore_errors=True)
