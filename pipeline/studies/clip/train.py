"""Training the small CLIP on the synthetic scenes (stage `clip_train`).

open_clip builds the model from `attn-clip-tiny.json` and tokenises with its own BPE
tokenizer; the core's `fit()` runs the loop and `TrackedRun` the MLflow run and outputs.
Captions are re-drawn every epoch: a share of them name every slot, the others a random
subset, so the model also learns what partial captions ("two red shapes") mean, which the
caption search relies on.

What makes it read every attribute (the attribute diagnostic, `diagnostic.py`, measures it
after every epoch):
- twin groups: training scenes come in groups of an anchor and its twins, each differing
  from it in one slot, and a batch keeps groups together; a twin's caption names the slot
  it differs in, so the batch holds negatives that only that attribute tells apart;
- a loss that knows which captions are true of which images (`TwinContrastiveLoss`): the
  in-batch InfoNCE of CLIP with the images a partial caption is also true of taken out of
  its negatives, plus the same loss inside each twin group, weighted;
- the text tower frozen for the first steps (`TextTowerFreeze`): trained together from the
  start, the text tower learns to ignore the position words before the image tower can tell
  positions apart (captions that differ only in position end with all but identical
  features), and the gradient that would teach the image tower position vanishes; against
  a fixed random text tower the image tower learns position first, and keeps it once the
  text tower trains too.

After every epoch a callback also measures validation retrieval: each image must find its
own (full) caption among the 100 captions of its block of distinct scenes (chance 1/100).
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
import torch.nn.functional as F

from pipeline.core.callbacks import CallbackList, Callbacks, EpochRecord, epoch_metrics
from pipeline.core.errors import PipelineError
from pipeline.core.io import file_sha256, write_metrics
from pipeline.core.lineage import stage_fingerprint
from pipeline.core.params import SharedParams
from pipeline.core.paths import project_root
from pipeline.core.runtime import seed_everything, select_device
from pipeline.core.tracked_run import TrackedRun
from pipeline.core.training import FitConfig, fit
from pipeline.studies.clip import CONFIG_FILE, PIPELINE_MODEL, RETRIEVAL_BLOCK, STUDY, TRAIN_RUN, data, scenes
from pipeline.studies.clip.diagnostic import CaptionEncoder, ImageEncoder, as_metrics, twin_accuracy, twin_trials
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
    truth: torch.Tensor  # (B, B) bool: caption t is true of image i
    group: torch.Tensor  # (B,) twin group of each image

    def to(self, device: torch.device) -> ClipBatch:
        return ClipBatch(self.images.to(device), self.tokens.to(device), self.truth.to(device), self.group.to(device))


def to_model_input(images: np.ndarray, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    """(N, S, S, 3) uint8 -> (N, 3, S, S) float, normalised like open_clip's preprocess.

    The images already have the model's size, so Resize/CenterCrop are identities and
    this equals `preprocess(PIL image)` without a PIL round trip per image.
    """
    pixels = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
    return (pixels - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def scene_codes(split: scenes.SceneSet) -> np.ndarray:
    """(N, slots) index of each scene's value in each slot's vocabulary."""
    return np.array([[scenes.VOCABULARY[slot].index(getattr(s, slot)) for slot in scenes.SLOTS] for s in split.scenes])


def caption_truth(codes: np.ndarray, named: np.ndarray) -> np.ndarray:
    """(B, B) bool: caption t (naming the slots `named[t]` of scene t) is true of image i,
    i.e. scene i has scene t's value in every slot caption t names. codes, named: (B, slots)."""
    same = codes[:, None, :] == codes[None, :, :]  # (B captions, B images, slots)
    return (same | ~named[:, None, :]).all(axis=-1)


def sample_slots(rng: np.random.Generator, full_fraction: float, required: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Every slot with probability `full_fraction`, else a random subset that always includes `required`."""
    if rng.random() < full_fraction:
        return scenes.SLOTS
    return tuple(slot for slot in scenes.SLOTS if slot in required or rng.random() < 0.5)


class CaptionedImages:
    """Batches of (image, caption, truth, group); captions re-drawn per epoch, deterministic
    for (seed, epoch). Twin groups are shuffled as wholes and stay adjacent, so a batch of a
    multiple of `group_size` holds whole groups."""

    def __init__(
        self, split: scenes.SceneSet, images: torch.Tensor, tokenizer, batch_size: int, group_size: int, seed: int, full_fraction: float
    ):
        self.split = split
        self.images = images  # (N, 3, S, S)
        self.codes = scene_codes(split)  # (N, slots)
        self.group = np.arange(len(split.scenes)) // group_size  # (N,)
        self.tokenizer = tokenizer
        self.tokens: dict[str, torch.Tensor] = {}  # caption -> (L,) ids: the grammar has few captions, BPE is slow
        self.batch_size = batch_size
        self.group_size = group_size
        self.seed = seed
        self.full_fraction = full_fraction

    def batches(self, epoch: int) -> list[ClipBatch]:
        rng = np.random.default_rng([self.seed, epoch])
        count, size = len(self.split.scenes), self.group_size
        groups = rng.permutation(self.group[-1] + 1)
        order = (groups[:, None] * size + np.arange(size)).ravel()  # shuffle groups, keep each one adjacent
        order = order[order < count]
        # Full batches only: a tiny last batch would make an easy contrastive problem.
        usable = len(order) - len(order) % self.batch_size or len(order)
        batches = []
        for start in range(0, usable, self.batch_size):
            index = order[start : start + self.batch_size]
            named = [sample_slots(rng, self.full_fraction, self._twin_slots(i)) for i in index]
            captions = [self.split.scenes[i].caption(slots) for i, slots in zip(index, named)]
            named_mask = np.array([[slot in slots for slot in scenes.SLOTS] for slots in named])  # (B, slots)
            truth = caption_truth(self.codes[index], named_mask)
            batches.append(
                ClipBatch(self.images[index], self._tokenize(captions), torch.from_numpy(truth), torch.from_numpy(self.group[index]))
            )
        return batches

    def _tokenize(self, captions: list[str]) -> torch.Tensor:
        new = [caption for caption in dict.fromkeys(captions) if caption not in self.tokens]
        if new:
            self.tokens.update(zip(new, self.tokenizer(new)))
        return torch.stack([self.tokens[caption] for caption in captions])  # (B, L)

    def _twin_slots(self, i: int) -> tuple[str, ...]:
        """The slot in which image i differs from its group's anchor (none for the anchor)."""
        return scenes.differing_slots(self.split.scenes[i], self.split.scenes[self.group[i] * self.group_size])

    def __len__(self) -> int:
        return max(1, len(self.split.scenes) // self.batch_size)


def full_caption_batches(split: scenes.SceneSet, images: torch.Tensor, tokenizer, size: int) -> list[ClipBatch]:
    """Validation: every image with its full caption; each image its own group."""
    codes, batches = scene_codes(split), []
    for start in range(0, len(split.scenes), size):
        index = np.arange(start, min(start + size, len(split.scenes)))
        truth = caption_truth(codes[index], np.ones((len(index), len(scenes.SLOTS)), dtype=bool))
        captions = [split.scenes[i].caption() for i in index]
        batches.append(ClipBatch(images[index], tokenizer(captions), torch.from_numpy(truth), torch.from_numpy(index)))
    return batches


def symmetric_cross_entropy(logits: torch.Tensor) -> torch.Tensor:
    """CLIP's loss on (B captions, B images) logits whose diagonal holds the matching pairs."""
    labels = torch.arange(len(logits), device=logits.device)
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2


class TwinContrastiveLoss:
    """loss_fn for fit(): CLIP's symmetric InfoNCE over the batch, for partial captions and
    twin groups, weighted by batch size.

    An image a caption is also true of is no negative for it ("two red shapes" fits two red
    circles and two red squares): those logits are masked out, in both directions. The twin
    term is the same loss inside each twin group, where the only negatives are the twins:
    in the full batch they are a few among many easy negatives and weigh little.
    """

    def __init__(self, twin_weight: float):
        self.twin_weight = twin_weight

    def __call__(self, model, batch: ClipBatch) -> tuple[torch.Tensor, int]:
        image_feats, text_feats, scale = model(batch.images, batch.tokens)  # unit features (B, D), exp(logit_scale)
        logits = scale * text_feats @ image_feats.T  # (B captions, B images)
        own = torch.eye(len(logits), dtype=torch.bool, device=logits.device)
        logits = logits.masked_fill(batch.truth & ~own, float("-inf"))
        loss = symmetric_cross_entropy(logits)
        if self.twin_weight:
            same_group = batch.group[:, None] == batch.group[None, :]  # (B, B)
            loss = loss + self.twin_weight * symmetric_cross_entropy(logits.masked_fill(~same_group, float("-inf")))
        return loss, len(batch.images)


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


def model_encoders(model, tokenizer, mean: tuple[float, ...], std: tuple[float, ...]) -> tuple[ImageEncoder, CaptionEncoder]:
    """The model as the diagnostic's two encoders (uint8 images / captions -> unit features)."""

    def encode_images(images: np.ndarray) -> np.ndarray:
        model.eval()
        return image_features(model, to_model_input(images, mean, std)).cpu().numpy()

    def encode_captions(captions: list[str]) -> np.ndarray:
        model.eval()
        return text_features(model, tokenizer(captions)).cpu().numpy()

    return encode_images, encode_captions


class TextTowerFreeze(Callbacks):
    """Keeps the text tower (every parameter outside `visual.`) frozen for the first
    `steps` optimizer steps: no gradients, so no updates and no backward pass through it.
    A resumed run picks the state up from the iterations already done."""

    def __init__(self, model, steps: int):
        self.text_parameters = [p for name, p in model.named_parameters() if not name.startswith("visual.")]
        self.steps, self.done = steps, 0
        self._apply()

    def _apply(self) -> None:
        for parameter in self.text_parameters:
            parameter.requires_grad_(self.done >= self.steps)

    def on_resume(self, history: list[EpochRecord]) -> None:
        self.done = history[-1].iterations if history else 0
        self._apply()

    def on_batch_end(self, batch, totals: dict[str, float]) -> None:
        self.done += 1
        if self.done == self.steps:
            self._apply()


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


class TwinCallback(Callbacks):
    """After each epoch adds the attribute diagnostic to the record: twin_accuracy_<attribute>
    for every attribute of `twins`, and the weakest as twin_accuracy_min."""

    def __init__(self, twins: scenes.Twins, encoders: tuple[ImageEncoder, CaptionEncoder]):
        self.twins = twins
        self.encoders = encoders

    def on_evaluate(self, record: EpochRecord) -> None:
        record.extra.update(as_metrics(twin_accuracy(twin_trials(self.twins, *self.encoders))))


def make_optimizer(weight_decay: float):
    """AdamW; no decay on gains, biases and the logit scale (open_clip's recipe). One pair
    of parameter groups per tower (`tower`: image = `visual.*`, text = the rest), so the
    text tower can follow its own schedule."""

    def build(model: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
        groups = []
        for tower in ("image", "text"):
            named = [(n, p) for n, p in model.named_parameters() if n.startswith("visual.") == (tower == "image")]
            decay = [p for n, p in named if p.ndim >= 2 and "logit_scale" not in n]
            no_decay = [p for n, p in named if p.ndim < 2 or "logit_scale" in n]
            groups += [
                {"params": decay, "weight_decay": weight_decay, "tower": tower},
                {"params": no_decay, "weight_decay": 0.0, "tower": tower},
            ]
        return torch.optim.AdamW(groups, lr=lr, fused=True)  # one kernel for all tensors: same maths, faster

    return build


def warmup_cosine(total_steps: int, warmup_steps: int, text_frozen_steps: int = 0):
    """Linear warm-up then cosine decay to zero, stepped per batch. The text tower's groups
    get nothing for `text_frozen_steps` steps, then their own linear warm-up into the same
    cosine (no jump from 0 to the full rate once it starts training)."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    def text_factor(step: int) -> float:
        if step < text_frozen_steps:
            return 0.0
        return factor(step) * min(1.0, (step - text_frozen_steps + 1) / max(1, warmup_steps))

    def build(optimizer: torch.optim.Optimizer) -> torch.optim.lr_scheduler.LambdaLR:
        return torch.optim.lr_scheduler.LambdaLR(
            optimizer, [text_factor if group.get("tower") == "text" else factor for group in optimizer.param_groups]
        )

    return build


def run_fingerprint(shared: SharedParams, params: ClipParams, inputs: list[Path], root: Path) -> str:
    """What a training run is: its params, data and code (keys its resume state and MLflow run)."""
    source = {
        "train": params.train.model_dump(),
        "diagnostic": params.diagnostic.model_dump(),  # measured every epoch, saved with the resume state
        "twin_seed": params.data.seed,
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
        train_split,
        to_model_input(train_split.images, mean, std),
        tokenizer,
        config.batch_size,
        params.data.group_size,
        shared.seed,
        config.full_caption_fraction,
    )
    val_batches = full_caption_batches(val_split, to_model_input(val_split.images, mean, std), tokenizer, RETRIEVAL_BLOCK)
    # Held-out twins: drawn here from their own random stream (no split on disk uses it).
    diagnostic = params.diagnostic
    twins = scenes.twin_split(params.data.seed, tuple(diagnostic.attributes), diagnostic.pairs, train_split.images.shape[1])
    encoders = model_encoders(model, tokenizer, mean, std)
    num_parameters = sum(p.numel() for p in model.parameters())
    total_steps = config.epochs * len(train_data)
    twin_columns = list(as_metrics(dict.fromkeys(diagnostic.attributes, 0.0)))

    with TrackedRun(
        STUDY,
        TRAIN_RUN,
        stage="clip_train",
        shared=shared,
        dataset="synthetic-scenes",
        model=PIPELINE_MODEL,
        fingerprint=fingerprint,
        run_name=f"{TRAIN_RUN}-{PIPELINE_MODEL}",
    ) as run:
        run.tracker.log_params(
            {"train": config.model_dump(), "data": params.data.model_dump(), "diagnostic": diagnostic.model_dump(), "seed": shared.seed}
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
            loss_fn=TwinContrastiveLoss(config.twin_loss_weight),
            config=FitConfig(
                epochs=config.epochs,
                patience=config.epochs,  # a fixed cosine schedule: train it to the end
                lr=config.lr,
                make_optimizer=make_optimizer(config.weight_decay),
                make_scheduler=warmup_cosine(total_steps, config.warmup_steps, config.text_frozen_steps),
                scheduler_step="batch",
                restore_best=False,  # the schedule's end is the model we want
            ),
            resume_path=run.resume_state,
            fingerprint=fingerprint,
            callbacks=CallbackList(
                TextTowerFreeze(model, config.text_frozen_steps),
                RetrievalCallback(model, val_batches, device),
                TwinCallback(twins, encoders),
                run.epoch_logger(),
            ),
            device=device,
            description="clip_train",
        )
        final_top1 = retrieval_top1(model, [b.to(device) for b in val_batches])
        trials = twin_trials(twins, *encoders)
        accuracy = twin_accuracy(trials)
        curve = pd.DataFrame([epoch_metrics(r) | {"epoch": r.epoch} for r in result.history]).reindex(columns=CURVE_COLUMNS + twin_columns)
        metrics = {
            "val_retrieval_top1": final_top1,
            "chance_top1": 1 / RETRIEVAL_BLOCK,
            "retrieval_candidates": RETRIEVAL_BLOCK,
            **as_metrics(accuracy),
            "twin_trials_per_attribute": 2 * diagnostic.pairs,
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
        run.tracker.log_table(trials.round(6), "tables/twin_trials.json")
        run.log_figure(training_figure(curve, diagnostic.goal), "figures/training_curve.png")
        print(
            f"clip_train: validation retrieval top-1 {final_top1:.3f} among {RETRIEVAL_BLOCK} (chance {1 / RETRIEVAL_BLOCK:.2f}), "
            f"val loss {result.history[-1].val_loss:.4f}; twin accuracy "
            + ", ".join(f"{attribute} {value:.3f}" for attribute, value in accuracy.items())
            + f"; training {result.train_seconds:.1f}s, whole stage {time.perf_counter() - started:.1f}s after imports",
            file=sys.stderr,
        )
