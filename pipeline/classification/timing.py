"""Where a training step's time goes: the forward pass, the backward pass, the optimizer step.

Question 3 of the BERT part asks why freezing the encoder makes training faster. The
answer is in these three numbers: a frozen encoder still runs its whole forward pass, but
autograd records nothing inside it, so the backward pass stops at the classifier head and
the optimizer updates only the head's weights.

The steps are timed on a copy of the model with its own optimizer, and with the random
number generators forked, so the real training that follows starts from the same weights
and draws the same dropout masks as it would without the measurement.
"""

from __future__ import annotations

import copy
import statistics
import time
from collections.abc import Sequence
from typing import Any

import torch

from pipeline.core.training import LossFn, OptimizerFactory

PHASES = ("forward", "backward", "optimizer")


def time_training_steps(
    model: torch.nn.Module,
    batches: Sequence[Any],
    loss_fn: LossFn,
    make_optimizer: OptimizerFactory,
    lr: float,
    grad_clip: float | None,
    device: torch.device | str,
    warmup: int = 1,
) -> dict[str, float]:
    """Median seconds per batch of each phase over `batches` after the first `warmup` (allocations,
    lazy initialisation): {"<phase>_seconds_per_batch": ...} for forward (loss included), backward,
    and optimizer (clipping included, as `fit` does)."""
    if len(batches) <= warmup:
        raise ValueError(f"time_training_steps: {len(batches)} batches leave none to time after {warmup} warm-up")
    device = torch.device(device)
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        trial = copy.deepcopy(model).to(device).train()
        optimizer = make_optimizer(trial, lr)
        seconds: dict[str, list[float]] = {phase: [] for phase in PHASES}
        for i, batch in enumerate(batches):
            batch = batch.to(device)
            marks = [_now(device)]
            loss, _ = loss_fn(trial, batch)
            marks.append(_now(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            marks.append(_now(device))
            if grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(trial.parameters(), grad_clip)
            optimizer.step()
            marks.append(_now(device))
            if i >= warmup:
                for phase, start, end in zip(PHASES, marks, marks[1:]):
                    seconds[phase].append(end - start)
        del trial, optimizer
    return {f"{phase}_seconds_per_batch": statistics.median(values) for phase, values in seconds.items()}


def _now(device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)  # CUDA kernels run asynchronously: wait for them before reading the clock
    return time.perf_counter()
