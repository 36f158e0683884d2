"""One BERT variant, end to end: load the checkpoint, fine-tune, evaluate, write outputs, track.

The recipe is the assignment's (a variant may change its epochs and lr): AdamW, linear
warm-up then linear decay stepped per batch, gradient clipping, a fixed number of epochs
and the last epoch's weights (no early stopping). The shared `fit()` loop runs it; a callback adds validation accuracy
per epoch. Runs take well under a minute, so there is no resume file: a killed run
simply starts over (its MLflow run is closed as KILLED).

As in every stage, the stage's own files are written before the last MLflow calls,
so a tracking failure never loses a finished training.
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import accuracy_score, confusion_matrix

from pipeline import figures
from pipeline.bert.checkpoints import ResolvedCheckpoint
from pipeline.bert.model import (
    EncodedBatch,
    SentenceClassifier,
    classification_loss,
    count_truncated,
    encode,
    load_encoder,
    load_tokenizer,
    predict_proba,
    save_classifier,
)
from pipeline.bert.report import confusion_figure, training_figure
from pipeline.data.arithmetic import LABELS, Example, read_examples, sign_class
from pipeline.errors import PipelineError
from pipeline.io import staged_outputs, write_json
from pipeline.lineage import OUTPUTS_TAG, outputs_fingerprint
from pipeline.params import BertRecipe, Params
from pipeline.paths import project_root
from pipeline.runtime import seed_everything, select_device
from pipeline.tracking import RunTracker, git_commit
from pipeline.training import Callbacks, EpochRecord, FitConfig, fit

EXPERIMENT = "bert"
CURVE_COLUMNS = ["epoch", "iterations", "train_loss", "val_loss", "val_accuracy"]


class ShuffledBatches:
    """Mini-batches of pre-tokenized sentences; the order depends only on (seed, epoch)."""

    def __init__(self, data: EncodedBatch, batch_size: int, seed: int):
        self.data = data
        self.batch_size = batch_size
        self.seed = seed

    def __call__(self, epoch: int) -> list[EncodedBatch]:
        order = torch.randperm(len(self.data), generator=torch.Generator().manual_seed(self.seed * 1000 + epoch))
        return [self._take(order[i : i + self.batch_size]) for i in range(0, len(order), self.batch_size)]

    def in_order(self) -> list[EncodedBatch]:
        order = torch.arange(len(self.data))
        return [self._take(order[i : i + self.batch_size]) for i in range(0, len(order), self.batch_size)]

    def _take(self, rows: torch.Tensor) -> EncodedBatch:
        return EncodedBatch(self.data.input_ids[rows], self.data.attention_mask[rows], self.data.labels[rows])


class AccuracyLogger(Callbacks):
    """After each epoch: validation accuracy, then the epoch's metrics to MLflow (step = epoch)."""

    def __init__(self, model: SentenceClassifier, val_batches: list[EncodedBatch], tracker: RunTracker, device):
        self.model = model
        self.val_batches = val_batches
        self.tracker = tracker
        self.device = device
        self.curve: list[dict[str, float]] = []

    @torch.no_grad()
    def on_epoch_end(self, record: EpochRecord) -> None:
        self.model.eval()
        correct = sum(
            (self.model(b.input_ids, b.attention_mask).argmax(-1) == b.labels).sum().item()
            for b in (batch.to(self.device) for batch in self.val_batches)
        )
        accuracy = correct / sum(len(b) for b in self.val_batches)
        self.model.train()
        row = {
            "epoch": record.epoch,
            "iterations": record.iterations,
            "train_loss": record.train_loss,
            "val_loss": record.val_loss,
            "val_accuracy": accuracy,
        }
        self.curve.append(row)
        self.tracker.log_metrics({k: v for k, v in row.items() if k != "epoch"} | {"lr": record.lr}, step=record.epoch)


def fit_config(recipe: BertRecipe, steps_per_epoch: int) -> FitConfig:
    """AdamW + linear warm-up/decay per batch, clipping, fixed epochs, last weights kept."""
    from transformers import get_linear_schedule_with_warmup

    total_steps = recipe.epochs * steps_per_epoch
    warmup_steps = int(recipe.warmup_fraction * total_steps)

    def make_optimizer(model: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
        trainable = [p for p in model.parameters() if p.requires_grad]  # the head only when frozen
        return torch.optim.AdamW(trainable, lr=lr, weight_decay=recipe.weight_decay)

    return FitConfig(
        epochs=recipe.epochs,
        patience=recipe.epochs,  # the reference trains every epoch
        lr=recipe.lr,
        make_optimizer=make_optimizer,
        make_scheduler=lambda optimizer: get_linear_schedule_with_warmup(optimizer, warmup_steps, total_steps),
        scheduler_step="batch",
        grad_clip=recipe.grad_clip,
        restore_best=False,
    )


def build_model(checkpoint: ResolvedCheckpoint, freeze_encoder: bool, key: str) -> tuple[SentenceClassifier, object]:
    """(classifier, tokenizer); a checkpoint that cannot be loaded is a one-line error naming `key`."""
    try:
        tokenizer = load_tokenizer(checkpoint.location)
        encoder = load_encoder(checkpoint.location, checkpoint.pretrained)
    except (OSError, ValueError) as error:  # not downloadable, not a model, unknown architecture...
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise PipelineError(f"params.yaml: {key}: cannot load {checkpoint.source!r} ({reason})") from None
    if getattr(encoder, "pooler", None) is None:
        raise PipelineError(f"params.yaml: {key}: {checkpoint.source!r} has no pooler ([CLS] pooled output) to classify from")
    return SentenceClassifier(encoder, freeze_encoder=freeze_encoder), tokenizer


def frame(examples: list[Example]) -> pd.DataFrame:
    return pd.DataFrame({"index": [e.index for e in examples], "input": [e.text for e in examples], "label": [e.label for e in examples]})


def train_variant(
    *,
    name: str,
    params: Params,
    checkpoint: ResolvedCheckpoint,
    checkpoint_key: str,
    data_dir: Path,
    output_dir: Path,
    metrics_file: Path,
    curve_file: Path,
) -> None:
    started = time.perf_counter()
    variant = params.bert.variants[name]
    recipe = params.bert.recipe_for(name)
    device = select_device(params.device)
    splits = {split: read_examples(data_dir / f"{split}.csv") for split in ("train", "val", "test")}

    seed_everything(params.seed)  # classifier head (and the whole encoder when not pretrained)
    model, tokenizer = build_model(checkpoint, variant.freeze_encoder, checkpoint_key)
    encoded = {
        split: encode(tokenizer, [e.text for e in examples], [e.label for e in examples], recipe.max_length)
        for split, examples in splits.items()
    }
    truncated = sum(count_truncated(tokenizer, [e.text for e in ex], recipe.max_length) for ex in splits.values())
    if truncated:
        print(f"warning: {name}: {truncated} sentences are longer than max_length={recipe.max_length} tokens", file=sys.stderr)
    train_batches = ShuffledBatches(encoded["train"], recipe.batch_size, params.seed)
    val_batches = ShuffledBatches(encoded["val"], recipe.batch_size, params.seed).in_order()
    parameters = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)

    commit, dirty = git_commit()
    tags = {
        "git_commit": commit,
        "git_dirty": str(dirty).lower(),
        "dvc_stage": os.environ.get("DVC_STAGE", f"train_bert@{name}"),
        "dataset": "verbal-arithmetic",
        "profile": params.profile,
        "model": checkpoint.description,
        "checkpoint_set": params.bert.checkpoint_set,
    }
    with RunTracker(EXPERIMENT, name, tags) as tracker:
        tracker.log_params(
            {
                "variant": variant.model_dump(),
                "checkpoint": {"source": checkpoint.source, "pretrained": checkpoint.pretrained},
                "recipe": recipe.model_dump(),
                "data": params.bert.data.model_dump(),
                "seed": params.seed,
                "device": str(device),
                "parameters": parameters,
                "trainable_parameters": trainable,
            }
        )
        for split, examples in splits.items():
            tracker.log_dataset(frame(examples), f"verbal-arithmetic-{split}", str(data_dir / f"{split}.csv"), split)

        logger = AccuracyLogger(model, val_batches, tracker, device)
        result = fit(
            model,
            train_batches=train_batches,
            val_batches=val_batches,
            loss_fn=classification_loss,
            config=fit_config(recipe, steps_per_epoch=math.ceil(len(splits["train"]) / recipe.batch_size)),
            callbacks=logger,
            device=device,
            description=f"bert {name}",
        )

        texts = {split: [e.text for e in examples] for split, examples in splits.items()}
        probabilities = {split: predict_proba(model, tokenizer, texts[split], recipe.max_length, device) for split in ("val", "test")}
        predicted = {split: probs.argmax(-1).numpy() for split, probs in probabilities.items()}
        truth = {split: np.array([e.label for e in splits[split]]) for split in ("val", "test")}
        confusion = {split: confusion_matrix(truth[split], predicted[split], labels=range(len(LABELS))) for split in truth}
        curve = pd.DataFrame(logger.curve, columns=CURVE_COLUMNS)
        metrics = {
            "val_accuracy": float(accuracy_score(truth["val"], predicted["val"])),
            "test_accuracy": float(accuracy_score(truth["test"], predicted["test"])),
            "best_val_accuracy": float(curve["val_accuracy"].max()),
            "final_train_loss": result.history[-1].train_loss,
            "final_val_loss": result.history[-1].val_loss,
            "epochs_trained": len(result.history),
            "parameters": parameters,
            "trainable_parameters": trainable,
            "truncated_sentences": truncated,
            "train_seconds": round(result.train_seconds, 2),
        }
        probe_probs = predict_proba(model, tokenizer, params.bert.probes, recipe.max_length, device)
        probes = probe_table(params.bert.probes, probe_probs)
        test_predictions = frame(splits["test"]).assign(
            prediction=predicted["test"], correct=predicted["test"] == truth["test"]
        )

        root = project_root()
        with staged_outputs(root, clear=[output_dir, metrics_file, curve_file]) as out:
            info = {"variant": name, "checkpoint": checkpoint.source, "pretrained": checkpoint.pretrained,
                    "freeze_encoder": variant.freeze_encoder, "max_length": recipe.max_length}
            save_classifier(out.path(output_dir), model, tokenizer, info)
            write_json(out.path(metrics_file), metrics)
            curve.to_csv(out.path(curve_file), index=False, float_format="%.6g")

        # At the last epoch's step (step 0 would read as an epoch), leaving out what the
        # per-epoch logging already recorded there: one value per (metric, epoch).
        per_epoch = set(curve.columns)
        tracker.log_metrics({k: float(v) for k, v in metrics.items() if k not in per_epoch}, step=len(result.history))
        for figure, artifact in (
            (training_figure({name: curve}), "figures/training_curve.png"),
            (confusion_figure({f"{name}, test": confusion["test"], f"{name}, validation": confusion["val"]}), "figures/confusion.png"),
        ):
            tracker.log_figure(figure, artifact)
            figures.close(figure)
        for split in ("val", "test"):
            tracker.log_table(confusion_frame(confusion[split]), f"tables/confusion_{split}.json")
        tracker.log_table(probes, "tables/probe_predictions.json")
        tracker.log_table(test_predictions, "tables/test_predictions.json")
        tracker.set_tags({OUTPUTS_TAG: outputs_fingerprint(metrics_file, curve_file)})

    print(
        f"{name} ({checkpoint.description}{', encoder frozen' if variant.freeze_encoder else ''}): "
        f"val accuracy {metrics['val_accuracy']:.4f}, test accuracy {metrics['test_accuracy']:.4f}; "
        f"training {result.train_seconds:.1f}s, whole stage {time.perf_counter() - started:.1f}s after imports",
        file=sys.stderr,
    )
    for row in probes.itertuples():
        print(f"  {row.sentence} -> {row.prediction} ({row.probability:.2f}; true: {row.truth})", file=sys.stderr)
    if tracker.failures:
        raise PipelineError(
            f"{name}: training finished and its outputs are written, but MLflow did not record everything "
            f"({tracker.failure_summary()}); rerun the stage to log it again"
        )


def probe_table(sentences: list[str], probabilities: torch.Tensor) -> pd.DataFrame:
    """One row per sentence: the true sign, the predicted class and every class probability."""
    table = pd.DataFrame(
        {
            "sentence": sentences,
            "truth": [LABELS[sign_class(s)] for s in sentences],
            "prediction": [LABELS[i] for i in probabilities.argmax(-1).tolist()],
            "probability": probabilities.max(-1).values.numpy().round(4),
        }
    )
    for i, label in enumerate(LABELS):
        table[f"p_{label}"] = probabilities[:, i].numpy().round(4)
    return table


def confusion_frame(matrix: np.ndarray) -> pd.DataFrame:
    """Rows: true class; columns: predicted class (scikit-learn's convention)."""
    return pd.DataFrame(matrix, columns=[f"predicted {label}" for label in LABELS]).assign(true=list(LABELS))[
        ["true", *[f"predicted {label}" for label in LABELS]]
    ]
