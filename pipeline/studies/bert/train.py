"""One BERT variant, end to end: load the checkpoint, fine-tune, evaluate, write outputs, track.

The recipe is the assignment's (a variant may change its epochs, lr, warm-up and weight
decay): AdamW, linear warm-up then linear decay stepped per batch, gradient clipping, a
fixed number of epochs and the last epoch's weights (no early stopping). The shared
`classification.run.train_classifier` times a step, trains and evaluates. Runs take well
under a minute, so there is no resume file: a killed run simply starts over (its MLflow run
is closed as KILLED).

Logged besides the accuracies, for the frozen-encoder question: how large the pooled [CLS]
features the head reads are before training (`initial_pooled_scale`) and how far training
moved the head (`head_weight_change`).

`TrackedRun` writes the stage's own files (classifier, metrics, curve) before the last
MLflow calls, so a tracking failure never loses a finished training.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import torch

from pipeline.classification.data import CSV_SPLIT, CsvSplit
from pipeline.classification.evaluation import frame, print_summary
from pipeline.classification.run import train_classifier
from pipeline.core.errors import PipelineError
from pipeline.core.run import TrackedRun
from pipeline.core.runtime import seed_everything, select_device
from pipeline.core.training import FitConfig
from pipeline.datasets.arithmetic.data import Example
from pipeline.studies.bert import STUDY, stage_name
from pipeline.studies.bert.checkpoints import ResolvedCheckpoint
from pipeline.studies.bert.model import (
    SentenceClassifier,
    classification_loss,
    count_truncated,
    encode,
    load_encoder,
    load_tokenizer,
    pooled_scale,
    predict_proba,
    save_classifier,
    sentence_logits,
)
from pipeline.studies.bert.params import BertRecipe, BertStudyParams

DATASET = "verbal-arithmetic"  # the runs' `dataset` tag and the prefix of their logged datasets


def fit_config(recipe: BertRecipe, steps_per_epoch: int) -> FitConfig:
    """AdamW + linear warm-up/decay per batch, clipping, fixed epochs, last weights kept."""
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


def split_params(split: CsvSplit | None, params: BertStudyParams) -> dict:
    """Which train/validation split a variant trained on: the `arithmetic` study's prepared one, or its own of the train CSV."""
    if split is None:
        arithmetic = params.arithmetic
        return {"source": "prepared", "val_fraction": arithmetic.val_fraction, "seed": arithmetic.split_seed, "stratify": True}
    return {"source": CSV_SPLIT, **split.model_dump()}


def train_variant(
    name: str, params: BertStudyParams, checkpoint: ResolvedCheckpoint, splits: dict[str, list[Example]], files: dict[str, Path]
) -> None:
    """Train variant `name` from `checkpoint` on `splits` (read from `files`); write and log its results."""
    started = time.perf_counter()
    config = params.bert
    variant = config.variants[name]
    recipe = config.recipe_for(name)
    device = select_device(params.shared.device)

    seed_everything(params.shared.seed)  # classifier head (and the whole encoder when not pretrained)
    model, tokenizer = build_model(checkpoint, variant.freeze_encoder, config.checkpoint_key(name))
    encoded = {
        split: encode(tokenizer, [e.text for e in examples], [e.label for e in examples], recipe.max_length)
        for split, examples in splits.items()
    }
    truncated = sum(count_truncated(tokenizer, [e.text for e in ex], recipe.max_length) for ex in splits.values())
    if truncated:
        print(f"warning: {name}: {truncated} sentences are longer than max_length={recipe.max_length} tokens", file=sys.stderr)
    parameters = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    initial_pooled_scale = pooled_scale(model, encoded["val"])

    with TrackedRun(
        STUDY,
        name,
        stage=stage_name(name),
        shared=params.shared,
        dataset=DATASET,
        model=checkpoint.description,
        extra_tags={"checkpoint_set": config.checkpoint_set},
        description=f"BERT variant `{name}`: {checkpoint.description} + Linear(hidden, 3), encoder "
        f"{'frozen' if variant.freeze_encoder else 'fine-tuned'}, {recipe.epochs} epochs at lr {recipe.lr:g} on {DATASET}.",
    ) as run:
        run.tracker.log_params(
            {
                "variant": variant.model_dump(exclude={"split"}),
                "checkpoint": {
                    "source": checkpoint.source,
                    "pretrained": checkpoint.pretrained,
                    "pretraining_data": checkpoint.pretraining_data if checkpoint.pretrained else "none (random init)",
                },
                "recipe": recipe.model_dump(),
                "split": split_params(variant.split, params),  # as the gpt study logs its own
                "data": params.arithmetic.model_dump(),
                "seed": params.shared.seed,
                "device": str(device),
                "parameters": parameters,
                "trainable_parameters": trainable,
                "timed_batches": config.timed_batches,  # training batches timed phase by phase, after a warm-up
            }
        )
        for split, examples in splits.items():
            run.tracker.log_dataset(frame(examples), f"{DATASET}-{split}", str(files[split]), split)

        info = {"variant": name, "checkpoint": checkpoint.source, "pretrained": checkpoint.pretrained,
                "freeze_encoder": variant.freeze_encoder, "max_length": recipe.max_length}
        result, evaluation = train_classifier(
            run,
            model=model,
            head=model.classifier,
            splits=splits,
            encoded=encoded,
            batch_size=recipe.batch_size,
            seed=params.shared.seed,
            config=fit_config(recipe, steps_per_epoch=math.ceil(len(splits["train"]) / recipe.batch_size)),
            loss_fn=classification_loss,
            logits=sentence_logits,
            predict=lambda sentences: predict_proba(model, tokenizer, sentences, recipe.max_length, device),
            probes=config.probes,
            details={
                "parameters": parameters,
                "trainable_parameters": trainable,
                "truncated_sentences": truncated,
                "initial_pooled_scale": initial_pooled_scale,
                **{f"{split}_rows": len(examples) for split, examples in splits.items()},
            },
            save_classifier=lambda folder: save_classifier(folder, model, tokenizer, info),
            timed_batches=config.timed_batches,
            device=device,
        )
        print_summary(
            f"{name} ({checkpoint.description}{', encoder frozen' if variant.freeze_encoder else ''})",
            evaluation,
            f"training {result.train_seconds:.1f}s, whole stage {time.perf_counter() - started:.1f}s after imports",
        )
