"""What the training loop reports, the hooks it calls, and the one MLflow epoch logger.

Torch-free: analyses of finished runs import it too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class EpochRecord:
    epoch: int  # 1-based
    train_loss: float  # token-weighted mean over the epoch's batches
    val_loss: float  # token-weighted mean over the validation set
    lr: float  # learning rate used during this epoch
    iterations: int  # optimizer steps so far (cumulative)
    tokens: int  # training target tokens so far (cumulative)
    seconds: float  # wall time of this epoch (training + validation)
    extra: dict[str, float] = field(default_factory=dict)  # per-batch accumulators, e.g. FLOPs


class Callbacks:
    """Hooks for tracking and accounting; override what you need."""

    def on_resume(self, history: list[EpochRecord]) -> None:
        """Called once with the epochs restored from a resume file."""

    def on_batch_end(self, batch: Any, totals: dict[str, float]) -> None:
        """Accumulate per-batch quantities into `totals` (saved in each EpochRecord.extra)."""

    def on_evaluate(self, record: EpochRecord) -> None:
        """Add per-epoch measurements (e.g. validation accuracy) to `record.extra`.

        Called before the epoch is saved to the resume file, so a resumed run replays
        them with the rest of its history.
        """

    def on_epoch_end(self, record: EpochRecord) -> None:
        """Called after every finished epoch, once its resume file is on disk."""

    def should_stop(self, record: EpochRecord) -> bool:
        """Return True to end training after this epoch (e.g. a compute budget is spent)."""
        return False


class CallbackList(Callbacks):
    """Several callbacks called in order; training stops if any of them asks to."""

    def __init__(self, *callbacks: Callbacks):
        self.callbacks = callbacks

    def on_resume(self, history: list[EpochRecord]) -> None:
        for callback in self.callbacks:
            callback.on_resume(history)

    def on_batch_end(self, batch: Any, totals: dict[str, float]) -> None:
        for callback in self.callbacks:
            callback.on_batch_end(batch, totals)

    def on_evaluate(self, record: EpochRecord) -> None:
        for callback in self.callbacks:
            callback.on_evaluate(record)

    def on_epoch_end(self, record: EpochRecord) -> None:
        for callback in self.callbacks:
            callback.on_epoch_end(record)

    def should_stop(self, record: EpochRecord) -> bool:
        return any(callback.should_stop(record) for callback in self.callbacks)


def epoch_metrics(record: EpochRecord) -> dict[str, float]:
    """What one epoch logs: the loop's own figures and whatever callbacks measured."""
    return {
        "train_loss": record.train_loss,
        "val_loss": record.val_loss,
        "lr": record.lr,
        "iterations": record.iterations,
        "tokens": record.tokens,
        "epoch_seconds": record.seconds,
        **record.extra,
    }


class MlflowEpochLogger(Callbacks):
    """Streams each epoch's metrics to an MLflow run (step = epoch) while training runs.

    `tracker` is a `pipeline.core.tracking.RunTracker`. `loss_by` maps a metric name to a
    cumulative counter in `record.extra`: the validation loss is logged again with that
    counter as its step (e.g. `val_loss_by_flops` at step = cumulative FLOPs), so
    MLflow's default step-axis chart overlays runs of different sizes against it.
    `rename` maps a metric's name to the one logged where the loop's name would mislead
    (e.g. `val_loss` -> `test_loss` when the held-out set is a test split). `keys` holds
    every name the epochs log: a run's summary leaves them out (`TrackedRun.log_summary`).
    """

    def __init__(self, tracker: Any, loss_by: dict[str, str] | None = None, rename: dict[str, str] | None = None):
        self.tracker = tracker
        self.loss_by = loss_by or {}
        self.rename = rename or {}
        self.keys: set[str] = set()

    def metrics(self, record: EpochRecord) -> dict[str, float]:
        """What one epoch logs, under the names logged."""
        return {self.rename.get(key, key): value for key, value in epoch_metrics(record).items()}

    def on_resume(self, history: list[EpochRecord]) -> None:
        # Replay the epochs this MLflow run has not seen: all of them for a fresh run, the
        # tail for a reopened one (its logging may have stopped before the kill).
        logged = self.tracker.last_step(self.rename.get("val_loss", "val_loss")) if self.tracker.resumed else 0
        for record in history:
            self.keys.update(self.metrics(record))
            if record.epoch > logged:
                self.on_epoch_end(record)

    def on_epoch_end(self, record: EpochRecord) -> None:
        metrics = self.metrics(record)
        self.keys.update(metrics)
        self.tracker.log_metrics(metrics, step=record.epoch)
        for name, counter in self.loss_by.items():
            if counter in record.extra:
                self.keys.add(name)
                self.tracker.log_metrics({name: record.val_loss}, step=int(record.extra[counter]))
