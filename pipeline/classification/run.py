"""What every classifier study's run does once its model is built: time a step, train, evaluate.

The study builds its model, tokenizer and recipe and opens its `TrackedRun`; `train_classifier`
then times the phases of a training step (forward, backward, optimizer), trains with the
shared `fit()` loop (a callback measures validation accuracy after each epoch, core's
`MlflowEpochLogger` logs it with the epoch's other metrics), and hands the trained model to
`finish_run`, which evaluates it, checks it for collapse, writes the stage's outputs and logs
the rest. The metrics it adds to the study's `details`:

- `train_seconds`: the epochs' wall time;
- `<phase>_seconds_per_batch`: the step's phases, timed on a copy of the model (`timing`);
- `head_weight_change`: how far training moved the classification head, as a share of its
  initial norm: a head that stays near its random initialisation has not learned.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import torch

from pipeline.classification.batches import EncodedBatch, ShuffledBatches
from pipeline.classification.evaluation import Evaluation, Logits, PredictProba, ValidationAccuracy, finish_run
from pipeline.classification.timing import time_training_steps
from pipeline.core.callbacks import CallbackList
from pipeline.core.run import TrackedRun
from pipeline.core.training import FitConfig, FitResult, LossFn, fit
from pipeline.datasets.arithmetic.data import Example


def train_classifier(
    run: TrackedRun,
    *,
    model: torch.nn.Module,
    head: torch.nn.Linear,
    splits: dict[str, list[Example]],
    encoded: dict[str, EncodedBatch],
    batch_size: int,
    seed: int,
    config: FitConfig,
    loss_fn: LossFn,
    logits: Logits,
    predict: PredictProba,
    probes: list[str],
    details: dict,
    save_classifier: Callable[[Path], None],
    timed_batches: int,
    device: torch.device,
    extra_tables: dict[str, pd.DataFrame] | None = None,
) -> tuple[FitResult, Evaluation]:
    """Train `model` (whose classification layer is `head`) on `encoded["train"]`; evaluate, write, log."""
    train_batches = ShuffledBatches(encoded["train"], batch_size, seed)
    val_batches = ShuffledBatches(encoded["val"], batch_size, seed).in_order()
    # One warm-up batch, then `timed_batches`, from the first epoch's (a copy of the model trains on them).
    step_seconds = time_training_steps(
        model, train_batches(1)[: timed_batches + 1], loss_fn, config.make_optimizer, config.lr, config.grad_clip, device
    )
    initial_head = head.weight.detach().clone()

    result = fit(
        model,
        train_batches=train_batches,
        val_batches=val_batches,
        loss_fn=loss_fn,
        config=config,
        callbacks=CallbackList(ValidationAccuracy(model, val_batches, device, logits), run.epoch_logger()),
        device=device,
        description=f"{run.study.name} {run.name}",
    )

    head_change = (head.weight.detach().cpu() - initial_head.cpu()).norm() / initial_head.norm()
    evaluation = finish_run(
        run,
        run.name,
        result,
        splits,
        predict=predict,
        probes=probes,
        details={
            **details,
            "head_weight_change": float(head_change),
            "train_seconds": round(result.train_seconds, 2),
            **{key: round(value, 5) for key, value in step_seconds.items()},
        },
        save_classifier=save_classifier,
        extra_tables=extra_tables,
    )
    return result, evaluation
