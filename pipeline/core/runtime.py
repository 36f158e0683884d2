"""What every training stage does before its work: pick the device and seed every generator."""

from __future__ import annotations

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
