"""One GPT-style variant, end to end: load the causal LM, fine-tune, evaluate, write outputs, track.

The recipe is the reference notebook's (a variant may change its epochs and lr): AdamW
(its own eps), a linear schedule stepped per batch (no warm-up in the reference),
gradient clipping, a fixed number of epochs and the last epoch's weights. The shared
`classification.run.train_classifier` tracks the run, times a step, trains and evaluates, as for BERT.
There is no resume file: a killed run starts over (its MLflow run is closed as KILLED).
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from pipeline.classification.data import CSV_SPLIT
from pipeline.classification.run import DATASET, train_classifier
from pipeline.core.runtime import seed_everything, select_device
from pipeline.datasets.arithmetic.data import Example, label_counts
from pipeline.studies.gpt import STUDY
from pipeline.studies.gpt import model as gpt_model
from pipeline.studies.gpt.checkpoints import ResolvedCheckpoint
from pipeline.studies.gpt.model import freeze_backbone, load_pretrained
from pipeline.studies.gpt.params import Setup


def train_variant(
    name: str, setup: Setup, checkpoint: ResolvedCheckpoint, splits: dict[str, list[Example]], files: dict[str, Path]
) -> None:
    """Train variant `name` from `checkpoint` on `splits`; write and log its results."""
    config = setup.config
    variant = config.variants[name]
    recipe = config.recipe_for(name)
    device = select_device(setup.shared.device)

    loading = time.perf_counter()
    seed_everything(setup.shared.seed)  # the classification head's initial weights
    model, tokenizer = load_pretrained(checkpoint, config.pad_token, config.checkpoint_key)
    if variant.freeze_backbone:
        freeze_backbone(model)
    load_seconds = time.perf_counter() - loading
    train_classifier(
        STUDY,
        name,
        setup,
        recipe,
        device,
        model=model,
        tokenizer=tokenizer,
        head=model.score,  # the sequence-classification head of every HF causal LM
        family=gpt_model,
        splits=splits,
        files=files,
        checkpoint=checkpoint.description,
        description=f"GPT variant `{name}`: {checkpoint.description} + Linear(hidden, 3) on the last token, backbone "
        f"{'frozen' if variant.freeze_backbone else 'fine-tuned'}, {recipe.epochs} epochs at lr {recipe.lr:g} on {DATASET}.",
        params={
            "variant": variant.model_dump(),
            "checkpoint": {
                "source": checkpoint.source,
                "model_type": model.config.model_type,
                "pad_token": tokenizer.pad_token,
                "pad_token_id": tokenizer.pad_token_id,
            },
            "split": {"source": CSV_SPLIT, **config.split.model_dump()},
            "data": {"train_file": setup.data.train_file, "test_file": setup.data.test_file},
        },
        info={"checkpoint": checkpoint.source, "freeze_backbone": variant.freeze_backbone},
        measure=lambda encoded: {"load_seconds": round(load_seconds, 2)},
        heading=f"{name} ({checkpoint.description}{', backbone frozen' if variant.freeze_backbone else ''})",
        timing=lambda result: f"loading {load_seconds:.1f}s, training {result.train_seconds:.1f}s",
        extra_tables={"tables/split_labels.json": pd.DataFrame([{"split": s, **label_counts(ex)} for s, ex in splits.items()])},
    )
