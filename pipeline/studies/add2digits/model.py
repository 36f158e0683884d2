"""The Add2Digits classifier: a recurrent stack read at its last step, then Linear(H, 19).

    one-hot (B, T, 11) -> torch.nn.RNN or torch.nn.LSTM (batch-first) -> last step (B, H) -> Linear -> (B, 19)

The loss also counts right answers, separately for training and evaluation passes, so the
shared loop's own forward passes give the per-epoch accuracies (no extra pass per epoch).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from pipeline.core.errors import PipelineError
from pipeline.studies.add2digits.data import NUM_CLASSES, NUM_TOKENS, Sequences, tokens

CELL_CLASSES = {"rnn": nn.RNN, "lstm": nn.LSTM}
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "model.json"


class Add2DigitsModel(nn.Module):
    def __init__(self, cell: str, hidden_size: int = 128, num_layers: int = 2):
        super().__init__()
        if cell not in CELL_CLASSES:
            raise ValueError(f"unknown cell {cell!r} (known: {', '.join(CELL_CLASSES)})")
        self.cell = cell
        self.recurrent = CELL_CLASSES[cell](NUM_TOKENS, hidden_size, num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, NUM_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs, _ = self.recurrent(x)  # (B, T, H): the top layer's state at every step
        return self.head(outputs[:, -1])  # (B, 19) logits from the last step


@dataclass
class Batch:
    x: torch.Tensor  # (B, T, 11) one-hot
    y: torch.Tensor  # (B,) class 0..18

    def to(self, device: torch.device) -> Batch:
        return Batch(self.x.to(device), self.y.to(device))

    def __len__(self) -> int:
        return len(self.y)


def encode(data: Sequences) -> Batch:
    ids = torch.from_numpy(np.ascontiguousarray(tokens(data.digits)))
    return Batch(F.one_hot(ids, NUM_TOKENS).float(), torch.from_numpy(np.ascontiguousarray(data.labels)))


class CountingLoss:
    """Mean cross-entropy over a batch (the loop's loss_fn), counting right answers on the side.

    Counts are kept per mode (`model.training`): the loop's training passes and its
    evaluation pass over the held-out batches; `take` returns both accuracies and resets.
    """

    def __init__(self) -> None:
        self.correct = {True: 0, False: 0}
        self.seen = {True: 0, False: 0}

    def __call__(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, int]:
        logits = model(batch.x)  # (B, 19)
        self.correct[model.training] += int((logits.detach().argmax(-1) == batch.y).sum())
        self.seen[model.training] += len(batch)
        return F.cross_entropy(logits, batch.y), len(batch)

    def take(self) -> tuple[float, float]:
        """(training accuracy, evaluation accuracy) since the last call."""
        accuracies = tuple(self.correct[mode] / max(self.seen[mode], 1) for mode in (True, False))
        self.correct = {True: 0, False: 0}
        self.seen = {True: 0, False: 0}
        return accuracies


@torch.no_grad()
def accuracy(model: nn.Module, batch: Batch, device: torch.device | str = "cpu") -> float:
    model.eval()
    batch = batch.to(torch.device(device))
    return (model(batch.x).argmax(-1) == batch.y).float().mean().item()


def save_model(folder: Path, model: Add2DigitsModel, info: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(folder / WEIGHTS_FILE))
    hidden, layers = model.recurrent.hidden_size, model.recurrent.num_layers
    (folder / CONFIG_FILE).write_text(
        json.dumps({"cell": model.cell, "hidden_size": hidden, "num_layers": layers, **info}, indent=2) + "\n"
    )


def load_model(folder: Path) -> Add2DigitsModel:
    folder = Path(folder)
    if not (folder / WEIGHTS_FILE).exists():
        raise PipelineError(f"{folder}: no trained model here (expected {WEIGHTS_FILE}; run `dvc repro`)")
    config = json.loads((folder / CONFIG_FILE).read_text())
    model = Add2DigitsModel(config["cell"], config["hidden_size"], config["num_layers"])
    model.load_state_dict(load_file(str(folder / WEIGHTS_FILE)))
    return model.eval()
