"""One variant of a classifier study, once its model is built: track, time a step, train, evaluate.

The study loads its checkpoint into a model and tokenizer and says what the variant is;
`train_classifier` encodes the splits, opens the `TrackedRun` (its stage, tags, params and
datasets), times the phases of a training step (forward, backward, optimizer), trains with
the shared `fit()` loop and the recipe's `fit_config` (a callback measures validation
accuracy after each epoch, core's `MlflowEpochLogger` logs it with the epoch's other
metrics), and hands the trained model to `finish_run`, which evaluates it, checks it for
collapse, writes the stage's outputs and logs the rest. The metrics it adds to the study's own:

- `parameters`, `trainable_parameters`, `truncated_sentences` and `<split>_rows`;
- `train_seconds`: the epochs' wall time;
- `<phase>_seconds_per_batch`: the step's phases, timed on a copy of the model (`timing`);
- `head_weight_change`: how far training moved the classification head, as a share of its
  initial norm: a head that stays near its random initialisation has not learned.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import torch

from pipeline.classification.batches import EncodedBatch, ShuffledBatches
from pipeline.classification.evaluation import ValidationAccuracy, finish_run, frame, print_summary
from pipeline.classification.timing import time_training_steps
from pipeline.core.callbacks import CallbackList
from pipeline.core.params import StudySetup
from pipeline.core.paths import Study
from pipeline.core.tracked_run import TrackedRun
from pipeline.core.training import FitConfig, FitResult, fit
from pipeline.datasets.arithmetic.data import Example

DATASET = "verbal-arithmetic"  # the runs' `dataset` tag and the prefix of their logged datasets


class ModelModule(Protocol):
    """What a classifier study's model module provides (`pipeline.studies.bert.model`, `...gpt.model`):
    `train_classifier` and the predict CLI (`predict.classify`) call these."""

    def encode(self, tokenizer: Any, texts: list[str], labels: list[int], max_length: int) -> EncodedBatch: ...

    def sentence_logits(self, model: torch.nn.Module, batch: EncodedBatch) -> torch.Tensor: ...  # (B, C)

    def classification_loss(self, model: torch.nn.Module, batch: EncodedBatch) -> tuple[torch.Tensor, int]: ...

    def predict_proba(
        self, model: torch.nn.Module, tokenizer: Any, texts: list[str], max_length: int, device: torch.device | str = "cpu"
    ) -> torch.Tensor: ...  # (N, C)

    def save_classifier(self, folder: Path, model: torch.nn.Module, tokenizer: Any, info: dict) -> None: ...

    def load_classifier(self, folder: Path, device: torch.device | str = "cpu") -> tuple[torch.nn.Module, Any, dict]: ...


class Recipe(Protocol):
    """A classifier study's training recipe (`bert.recipe`, `gpt.recipe`, with a variant's own values)."""

    max_length: int  # tokens per sentence after padding/truncation
    batch_size: int
    epochs: int
    lr: float
    eps: float  # AdamW's epsilon
    warmup_fraction: float  # linear warm-up over this share of all steps, then linear decay
    grad_clip: float  # max global gradient norm
    weight_decay: float

    def model_dump(self) -> dict: ...  # what the run logs as its `recipe.*` params


def train_classifier(
    study: Study,
    name: str,
    setup: StudySetup,
    recipe: Recipe,
    device: torch.device,
    *,
    model: torch.nn.Module,
    tokenizer: Any,
    head: torch.nn.Linear,
    family: ModelModule,
    splits: dict[str, list[Example]],
    files: dict[str, Path],
    checkpoint: str,
    description: str,
    params: dict,
    info: dict,
    measure: Callable[[dict[str, EncodedBatch]], dict],
    heading: str,
    timing: Callable[[FitResult], str],
    extra_tables: dict[str, pd.DataFrame] | None = None,
) -> None:
    """Train variant `name` of `study` (`model`, its classification layer `head`) on `splits` (read
    from `files`) with `recipe`; evaluate it, write its outputs, log it and print its summary.

    What differs between the studies is handed in: `family` is the study's model module
    (encoding, logits, loss, prediction, saving), `checkpoint` what the model is (the run's
    `model` tag), `description` the run's one-line description, `params` what the variant is
    (logged beside the recipe, seed, device and sizes), `info` what the saved classifier
    records of it, `measure` the study's own numbers, taken on the encoded splits before
    training, `heading` and `timing` the printed summary's first line, `extra_tables` tables
    logged after the confusion tables.
    """
    config = setup.config  # the study's section: checkpoint_set, probes, timed_batches
    seed = setup.shared.seed
    texts = {split: [e.text for e in examples] for split, examples in splits.items()}
    encoded = {
        split: family.encode(tokenizer, texts[split], [e.label for e in examples], recipe.max_length) for split, examples in splits.items()
    }
    truncated = sum(count_truncated(tokenizer, texts[split], recipe.max_length) for split in splits)
    if truncated:
        print(f"warning: {name}: {truncated} sentences are longer than max_length={recipe.max_length} tokens", file=sys.stderr)
    parameters = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)  # the head only when frozen
    details = {
        "parameters": parameters,
        "trainable_parameters": trainable,
        "truncated_sentences": truncated,
        **measure(encoded),
        **{f"{split}_rows": len(examples) for split, examples in splits.items()},
    }

    with TrackedRun(
        study,
        name,
        stage=study.stage_name(name),
        shared=setup.shared,
        dataset=DATASET,
        model=checkpoint,
        extra_tags={"checkpoint_set": config.checkpoint_set},
        description=description,
    ) as run:
        run.tracker.log_params(
            {
                **params,
                "recipe": recipe.model_dump(),
                "seed": seed,
                "device": str(device),
                "parameters": parameters,
                "trainable_parameters": trainable,
                "timed_batches": config.timed_batches,  # training batches timed phase by phase, after a warm-up
            }
        )
        for split, examples in splits.items():
            run.tracker.log_dataset(frame(examples), f"{DATASET}-{split}", str(files[split]), split)

        settings = fit_config(recipe, steps_per_epoch=math.ceil(len(splits["train"]) / recipe.batch_size))
        train_batches = ShuffledBatches(encoded["train"], recipe.batch_size, seed)
        val_batches = ShuffledBatches(encoded["val"], recipe.batch_size, seed).in_order()
        # One warm-up batch, then `timed_batches`, from the first epoch's (a copy of the model trains on them).
        step_seconds = time_training_steps(
            model,
            train_batches(1)[: config.timed_batches + 1],
            family.classification_loss,
            settings.make_optimizer,
            settings.lr,
            settings.grad_clip,
            device,
        )
        initial_head = head.weight.detach().clone()

        result = fit(
            model,
            train_batches=train_batches,
            val_batches=val_batches,
            loss_fn=family.classification_loss,
            config=settings,
            callbacks=CallbackList(ValidationAccuracy(model, val_batches, device, family.sentence_logits), run.epoch_logger()),
            device=device,
            description=f"{study.name} {name}",
        )

        head_change = (head.weight.detach().cpu() - initial_head.cpu()).norm() / initial_head.norm()
        evaluation = finish_run(
            run,
            name,
            result,
            splits,
            predict=lambda sentences: family.predict_proba(model, tokenizer, sentences, recipe.max_length, device),
            probes=config.probes,
            details={
                **details,
                "head_weight_change": float(head_change),
                "train_seconds": round(result.train_seconds, 2),
                **{key: round(value, 5) for key, value in step_seconds.items()},
            },
            save_classifier=lambda folder: family.save_classifier(
                folder, model, tokenizer, {"variant": name, **info, "max_length": recipe.max_length}
            ),
            extra_tables=extra_tables,
        )
        print_summary(heading, evaluation, timing(result))


def count_truncated(tokenizer: Any, texts: list[str], max_length: int) -> int:
    """Sentences longer than `max_length` tokens: the classifier never sees their end."""
    return sum(len(ids) > max_length for ids in tokenizer(texts)["input_ids"])


def fit_config(recipe: Recipe, steps_per_epoch: int) -> FitConfig:
    """AdamW + a linear schedule stepped per batch (warm-up over the recipe's share of the steps,
    then decay to 0), gradient clipping, a fixed number of epochs and the last epoch's weights
    (the reference notebooks train every epoch, with no early stopping)."""
    from transformers import get_linear_schedule_with_warmup

    total_steps = recipe.epochs * steps_per_epoch
    warmup_steps = int(recipe.warmup_fraction * total_steps)

    def make_optimizer(model: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
        trainable = [p for p in model.parameters() if p.requires_grad]  # the head only when frozen
        return torch.optim.AdamW(trainable, lr=lr, eps=recipe.eps, weight_decay=recipe.weight_decay)

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
