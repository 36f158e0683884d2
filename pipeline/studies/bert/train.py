"""One BERT variant, end to end: load the checkpoint, fine-tune, evaluate, write outputs, track.

The recipe is the assignment's (a variant may change its epochs, lr, warm-up and weight
decay): AdamW, linear warm-up then linear decay stepped per batch, gradient clipping, a
fixed number of epochs and the last epoch's weights (no early stopping). The shared
`classification.run.train_classifier` tracks the run, times a step, trains and evaluates. Runs
take well under a minute, so there is no resume file: a killed run simply starts over (its
MLflow run is closed as KILLED).

Logged besides the accuracies, for the frozen-encoder question: how large the pooled [CLS]
features the head reads are before training (`initial_pooled_scale`) and how far training
moved the head (`head_weight_change`).

`TrackedRun` writes the stage's own files (classifier, metrics, curve) before the last
MLflow calls, so a tracking failure never loses a finished training.
"""

from __future__ import annotations

import time
from pathlib import Path

from pipeline.classification.data import CSV_SPLIT, CsvSplit
from pipeline.classification.run import DATASET, train_classifier
from pipeline.core.errors import PipelineError
from pipeline.core.runtime import seed_everything, select_device
from pipeline.datasets.arithmetic.data import Example
from pipeline.studies.bert import STUDY
from pipeline.studies.bert import model as bert_model
from pipeline.studies.bert.checkpoints import ResolvedCheckpoint
from pipeline.studies.bert.model import SentenceClassifier, load_encoder, load_tokenizer, pooled_scale
from pipeline.studies.bert.params import Setup


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


def split_params(split: CsvSplit | None, setup: Setup) -> dict:
    """Which train/validation split a variant trained on: the `arithmetic` study's prepared one, or its own of the train CSV."""
    if split is None:
        arithmetic = setup.data
        return {"source": "prepared", "val_fraction": arithmetic.val_fraction, "seed": arithmetic.split_seed, "stratify": True}
    return {"source": CSV_SPLIT, **split.model_dump()}


def train_variant(
    name: str, setup: Setup, checkpoint: ResolvedCheckpoint, splits: dict[str, list[Example]], files: dict[str, Path]
) -> None:
    """Train variant `name` from `checkpoint` on `splits` (read from `files`); write and log its results."""
    started = time.perf_counter()
    config = setup.config
    variant = config.variants[name]
    recipe = config.recipe_for(name)
    device = select_device(setup.shared.device)

    seed_everything(setup.shared.seed)  # classifier head (and the whole encoder when not pretrained)
    model, tokenizer = build_model(checkpoint, variant.freeze_encoder, config.checkpoint_key(name))
    train_classifier(
        STUDY,
        name,
        setup,
        recipe,
        device,
        model=model,
        tokenizer=tokenizer,
        head=model.classifier,
        family=bert_model,
        splits=splits,
        files=files,
        checkpoint=checkpoint.description,
        description=f"BERT variant `{name}`: {checkpoint.description} + Linear(hidden, 3), encoder "
        f"{'frozen' if variant.freeze_encoder else 'fine-tuned'}, {recipe.epochs} epochs at lr {recipe.lr:g} on {DATASET}.",
        params={
            "variant": variant.model_dump(exclude={"split"}),
            "checkpoint": {
                "source": checkpoint.source,
                "pretrained": checkpoint.pretrained,
                "pretraining_data": checkpoint.pretraining_data if checkpoint.pretrained else "none (random init)",
            },
            "split": split_params(variant.split, setup),  # as the gpt study logs its own
            "data": setup.data.model_dump(),
        },
        info={"checkpoint": checkpoint.source, "pretrained": checkpoint.pretrained, "freeze_encoder": variant.freeze_encoder},
        measure=lambda encoded: {"initial_pooled_scale": pooled_scale(model, encoded["val"])},
        heading=f"{name} ({checkpoint.description}{', encoder frozen' if variant.freeze_encoder else ''})",
        timing=lambda result: f"training {result.train_seconds:.1f}s, whole stage {time.perf_counter() - started:.1f}s after imports",
    )
