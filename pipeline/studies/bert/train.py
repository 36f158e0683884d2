"""One BERT variant, end to end: load the checkpoint, fine-tune, evaluate, write outputs, track.

The recipe is the assignment's (a variant may change its epochs and lr): AdamW, linear
warm-up then linear decay stepped per batch, gradient clipping, a fixed number of epochs
and the last epoch's weights (no early stopping). The shared `fit()` loop runs it; a
callback measures validation accuracy after each epoch (`on_evaluate`), and core's
`MlflowEpochLogger` logs it with the epoch's other metrics. Runs take well under a
minute, so there is no resume file: a killed run simply starts over (its MLflow run is
closed as KILLED).

`TrackedRun` writes the stage's own files (classifier, metrics, curve) before the last
MLflow calls, so a tracking failure never loses a finished training.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import accuracy_score, confusion_matrix

from pipeline.core.callbacks import CallbackList, Callbacks, EpochRecord
from pipeline.core.errors import PipelineError
from pipeline.core.io import write_json
from pipeline.core.run import TrackedRun
from pipeline.core.runtime import seed_everything, select_device
from pipeline.core.training import FitConfig, fit
from pipeline.studies.arithmetic import SPLITS
from pipeline.studies.arithmetic.data import LABELS, Example, read_examples, sign_class
from pipeline.studies.bert import STUDY, stage_name
from pipeline.studies.bert.checkpoints import ResolvedCheckpoint
from pipeline.studies.bert.figures import confusion_figure, training_figure
from pipeline.studies.bert.model import (
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
from pipeline.studies.bert.params import BertRecipe, BertStudyParams

DATASET = "verbal-arithmetic"  # the runs' `dataset` tag and the prefix of their logged datasets
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


class ValidationAccuracy(Callbacks):
    """After each epoch: the share of validation sentences classified right, as `record.extra["val_accuracy"]`."""

    def __init__(self, model: SentenceClassifier, val_batches: list[EncodedBatch], device: torch.device | str):
        self.model = model
        self.val_batches = val_batches
        self.device = device

    @torch.no_grad()
    def on_evaluate(self, record: EpochRecord) -> None:
        self.model.eval()
        correct = sum(
            (self.model(b.input_ids, b.attention_mask).argmax(-1) == b.labels).sum().item()
            for b in (batch.to(self.device) for batch in self.val_batches)
        )
        accuracy = correct / sum(len(b) for b in self.val_batches)
        self.model.train()
        record.extra["val_accuracy"] = accuracy


def curve_frame(history: list[EpochRecord]) -> pd.DataFrame:
    """The per-epoch curve `plots/bert/<variant>.csv`: one row per epoch, CURVE_COLUMNS."""
    rows = [
        {
            "epoch": record.epoch,
            "iterations": record.iterations,
            "train_loss": record.train_loss,
            "val_loss": record.val_loss,
            "val_accuracy": record.extra["val_accuracy"],
        }
        for record in history
    ]
    return pd.DataFrame(rows, columns=CURVE_COLUMNS)


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


def train_variant(name: str, params: BertStudyParams, checkpoint: ResolvedCheckpoint, data_dir: Path) -> None:
    """Train variant `name` from `checkpoint` on the prepared splits in `data_dir`; write and log its results."""
    started = time.perf_counter()
    config = params.bert
    variant = config.variants[name]
    recipe = config.recipe_for(name)
    device = select_device(params.shared.device)
    splits = {split: read_examples(data_dir / f"{split}.csv") for split in SPLITS}

    seed_everything(params.shared.seed)  # classifier head (and the whole encoder when not pretrained)
    model, tokenizer = build_model(checkpoint, variant.freeze_encoder, config.checkpoint_key(name))
    encoded = {
        split: encode(tokenizer, [e.text for e in examples], [e.label for e in examples], recipe.max_length)
        for split, examples in splits.items()
    }
    truncated = sum(count_truncated(tokenizer, [e.text for e in ex], recipe.max_length) for ex in splits.values())
    if truncated:
        print(f"warning: {name}: {truncated} sentences are longer than max_length={recipe.max_length} tokens", file=sys.stderr)
    train_batches = ShuffledBatches(encoded["train"], recipe.batch_size, params.shared.seed)
    val_batches = ShuffledBatches(encoded["val"], recipe.batch_size, params.shared.seed).in_order()
    parameters = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)

    with TrackedRun(
        STUDY,
        name,
        stage=stage_name(name),
        shared=params.shared,
        dataset=DATASET,
        model=checkpoint.description,
        extra_tags={"checkpoint_set": config.checkpoint_set},
    ) as run:
        run.tracker.log_params(
            {
                "variant": variant.model_dump(),
                "checkpoint": {"source": checkpoint.source, "pretrained": checkpoint.pretrained},
                "recipe": recipe.model_dump(),
                "data": params.arithmetic.model_dump(),
                "seed": params.shared.seed,
                "device": str(device),
                "parameters": parameters,
                "trainable_parameters": trainable,
            }
        )
        for split, examples in splits.items():
            run.tracker.log_dataset(frame(examples), f"{DATASET}-{split}", str(data_dir / f"{split}.csv"), split)

        result = fit(
            model,
            train_batches=train_batches,
            val_batches=val_batches,
            loss_fn=classification_loss,
            config=fit_config(recipe, steps_per_epoch=math.ceil(len(splits["train"]) / recipe.batch_size)),
            callbacks=CallbackList(ValidationAccuracy(model, val_batches, device), run.epoch_logger()),
            device=device,
            description=f"bert {name}",
        )

        texts = {split: [e.text for e in examples] for split, examples in splits.items()}
        probabilities = {split: predict_proba(model, tokenizer, texts[split], recipe.max_length, device) for split in ("val", "test")}
        predicted = {split: probs.argmax(-1).numpy() for split, probs in probabilities.items()}
        truth = {split: np.array([e.label for e in splits[split]]) for split in ("val", "test")}
        confusion = {split: confusion_matrix(truth[split], predicted[split], labels=range(len(LABELS))) for split in truth}
        curve = curve_frame(result.history)
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
        probe_probs = predict_proba(model, tokenizer, config.probes, recipe.max_length, device)
        probes = probe_table(config.probes, probe_probs)
        test_predictions = frame(splits["test"]).assign(
            prediction=predicted["test"], correct=predicted["test"] == truth["test"]
        )

        with run.outputs() as out:
            info = {"variant": name, "checkpoint": checkpoint.source, "pretrained": checkpoint.pretrained,
                    "freeze_encoder": variant.freeze_encoder, "max_length": recipe.max_length}
            save_classifier(out.path(run.paths.output_dir), model, tokenizer, info)
            write_json(out.path(run.paths.metrics_file), metrics)
            curve.to_csv(out.path(run.paths.curve_file), index=False, float_format="%.6g")

        # At the last epoch's step (step 0 would read as an epoch), leaving out what the
        # per-epoch logging already recorded there: one value per (metric, epoch).
        run.log_summary(metrics, step=len(result.history), skip=CURVE_COLUMNS)
        run.log_figure(training_figure({name: curve}), "figures/training_curve.png")
        run.log_figure(
            confusion_figure({f"{name}, test": confusion["test"], f"{name}, validation": confusion["val"]}),
            "figures/confusion.png",
        )
        for split in ("val", "test"):
            run.tracker.log_table(confusion_frame(confusion[split]), f"tables/confusion_{split}.json")
        run.tracker.log_table(probes, "tables/probe_predictions.json")
        run.tracker.log_table(test_predictions, "tables/test_predictions.json")

        print(
            f"{name} ({checkpoint.description}{', encoder frozen' if variant.freeze_encoder else ''}): "
            f"val accuracy {metrics['val_accuracy']:.4f}, test accuracy {metrics['test_accuracy']:.4f}; "
            f"training {result.train_seconds:.1f}s, whole stage {time.perf_counter() - started:.1f}s after imports",
            file=sys.stderr,
        )
        for row in probes.itertuples():
            print(f"  {row.sentence} -> {row.prediction} ({row.probability:.2f}; true: {row.truth})", file=sys.stderr)


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
