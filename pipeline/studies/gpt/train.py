"""One GPT-style variant, end to end: load the causal LM, fine-tune, evaluate, write outputs, track.

The recipe is the reference notebook's (a variant may change its epochs and lr): AdamW
(its own eps), a linear schedule stepped per batch (no warm-up in the reference),
gradient clipping, a fixed number of epochs and the last epoch's weights. The shared
`classification.run.train_classifier` times a step, trains and evaluates, as for BERT.
There is no resume file: a killed run starts over (its MLflow run is closed as KILLED).
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import pandas as pd
import torch

from pipeline.classification.data import CSV_SPLIT, SPLITS
from pipeline.classification.evaluation import frame, print_summary
from pipeline.classification.run import train_classifier
from pipeline.core.run import TrackedRun
from pipeline.core.runtime import seed_everything, select_device
from pipeline.core.training import FitConfig
from pipeline.datasets.arithmetic.data import Example, label_counts
from pipeline.studies.gpt import STUDY, stage_name
from pipeline.studies.gpt.checkpoints import ResolvedCheckpoint
from pipeline.studies.gpt.model import (
    classification_loss,
    count_truncated,
    encode,
    freeze_backbone,
    load_pretrained,
    predict_proba,
    save_classifier,
    sentence_logits,
)
from pipeline.studies.gpt.params import GptRecipe, GptStudyParams

DATASET = "verbal-arithmetic"


def fit_config(recipe: GptRecipe, steps_per_epoch: int) -> FitConfig:
    """AdamW(lr, eps) + linear schedule per batch (warm-up share from the recipe), clipping, last weights kept."""
    from transformers import get_linear_schedule_with_warmup

    total_steps = recipe.epochs * steps_per_epoch
    warmup_steps = int(recipe.warmup_fraction * total_steps)

    def make_optimizer(model: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
        trainable = [p for p in model.parameters() if p.requires_grad]
        return torch.optim.AdamW(trainable, lr=lr, eps=recipe.eps, weight_decay=recipe.weight_decay)

    return FitConfig(
        epochs=recipe.epochs,
        patience=recipe.epochs,
        lr=recipe.lr,
        make_optimizer=make_optimizer,
        make_scheduler=lambda optimizer: get_linear_schedule_with_warmup(optimizer, warmup_steps, total_steps),
        scheduler_step="batch",
        grad_clip=recipe.grad_clip,
        restore_best=False,
    )


def train_variant(name: str, params: GptStudyParams, checkpoint: ResolvedCheckpoint, splits: dict[str, list[Example]], files: dict[str, Path]) -> None:
    """Train variant `name` from `checkpoint` on `splits`; write and log its results."""
    config = params.gpt
    variant = config.variants[name]
    recipe = config.recipe_for(name)
    device = select_device(params.shared.device)

    loading = time.perf_counter()
    seed_everything(params.shared.seed)  # the classification head's initial weights
    model, tokenizer = load_pretrained(checkpoint, config.pad_token, config.checkpoint_key)
    if variant.freeze_backbone:
        freeze_backbone(model)
    load_seconds = time.perf_counter() - loading
    texts = {split: [e.text for e in examples] for split, examples in splits.items()}
    encoded = {split: encode(tokenizer, texts[split], [e.label for e in splits[split]], recipe.max_length) for split in SPLITS}
    truncated = sum(count_truncated(tokenizer, texts[split], recipe.max_length) for split in SPLITS)
    if truncated:
        print(f"warning: {name}: {truncated} sentences are longer than max_length={recipe.max_length} tokens", file=sys.stderr)
    parameters = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)

    with TrackedRun(
        STUDY, name, stage=stage_name(name), shared=params.shared, dataset=DATASET, model=checkpoint.description,
        extra_tags={"checkpoint_set": config.checkpoint_set},
        description=f"GPT variant `{name}`: {checkpoint.description} + Linear(hidden, 3) on the last token, backbone "
        f"{'frozen' if variant.freeze_backbone else 'fine-tuned'}, {recipe.epochs} epochs at lr {recipe.lr:g} on {DATASET}.",
    ) as run:
        run.tracker.log_params(
            {
                "variant": variant.model_dump(),
                "checkpoint": {"source": checkpoint.source, "model_type": model.config.model_type,
                               "pad_token": tokenizer.pad_token, "pad_token_id": tokenizer.pad_token_id},
                "recipe": recipe.model_dump(),
                "split": {"source": CSV_SPLIT, **config.split.model_dump()},
                "data": {"train_file": params.arithmetic.train_file, "test_file": params.arithmetic.test_file},
                "seed": params.shared.seed,
                "device": str(device),
                "parameters": parameters,
                "trainable_parameters": trainable,
                "timed_batches": config.timed_batches,  # training batches timed phase by phase, after a warm-up
            }
        )
        for split, examples in splits.items():
            run.tracker.log_dataset(frame(examples), f"{DATASET}-{split}", str(files[split]), split)

        info = {"variant": name, "checkpoint": checkpoint.source, "freeze_backbone": variant.freeze_backbone,
                "max_length": recipe.max_length}
        result, evaluation = train_classifier(
            run,
            model=model,
            head=model.score,  # the sequence-classification head of every HF causal LM
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
                "load_seconds": round(load_seconds, 2),
                **{f"{split}_rows": len(examples) for split, examples in splits.items()},
            },
            save_classifier=lambda folder: save_classifier(folder, model, tokenizer, info),
            timed_batches=config.timed_batches,
            device=device,
            extra_tables={
                "tables/split_labels.json": pd.DataFrame([{"split": s, **label_counts(ex)} for s, ex in splits.items()])
            },
        )
        print_summary(
            f"{name} ({checkpoint.description}{', backbone frozen' if variant.freeze_backbone else ''})",
            evaluation,
            f"loading {load_seconds:.1f}s, training {result.train_seconds:.1f}s",
        )
