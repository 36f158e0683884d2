"""What every training stage does before its work: pick the device and seed every generator;
and how long the stage's process has been running (its start-up, in a run's time breakdown)."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from pipeline.core.errors import PipelineError


def select_device(name: str) -> torch.device:
    """`auto` picks CUDA when present, else CPU; `cuda` without a GPU is a user error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise PipelineError("params.yaml: device: 'cuda' requested but no CUDA device is available (use 'auto')")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def process_seconds() -> float | None:
    """Seconds since this process started, from Linux's /proc (None elsewhere).

    Read when a stage's work begins, it is the stage's start-up: the interpreter, the imports
    (torch alone about 2 s here) and reading params, which no timer started in Python sees whole.
    """
    try:
        with open("/proc/self/stat") as stat, open("/proc/uptime") as uptime:
            # field 22 (after the parenthesised command name, which may hold spaces): start time in clock ticks after boot
            started_ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
            return float(uptime.read().split()[0]) - started_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
