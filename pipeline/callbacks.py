"""What the training loop reports and the hooks it calls (torch-free: analyses import it too)."""

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

    def on_epoch_end(self, record: EpochRecord) -> None:
        for callback in self.callbacks:
            callback.on_epoch_end(record)

    def should_stop(self, record: EpochRecord) -> bool:
        return any(callback.should_stop(record) for callback in self.callbacks)
