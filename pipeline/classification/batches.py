"""Pre-tokenized sentence batches: the same layout for every classifier study."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class EncodedBatch:
    input_ids: torch.Tensor  # (B, T)
    attention_mask: torch.Tensor  # (B, T)
    labels: torch.Tensor  # (B,)

    def to(self, device: torch.device) -> EncodedBatch:
        return EncodedBatch(self.input_ids.to(device), self.attention_mask.to(device), self.labels.to(device))

    def __len__(self) -> int:
        return len(self.labels)


class ShuffledBatches:
    """Mini-batches of pre-tokenized sentences; the order depends only on (seed, epoch)."""

    def __init__(self, data: EncodedBatch, batch_size: int, seed: int):
        self.data = data
        self.batch_size = batch_size
        self.seed = seed

    def __call__(self, epoch: int) -> list[EncodedBatch]:
        order = torch.randperm(len(self.data), generator=torch.Generator().manual_seed(self.seed * 1000 + epoch))
        return self._batches(order)

    def in_order(self) -> list[EncodedBatch]:
        return self._batches(torch.arange(len(self.data)))

    def _batches(self, order: torch.Tensor) -> list[EncodedBatch]:
        return [
            EncodedBatch(self.data.input_ids[rows], self.data.attention_mask[rows], self.data.labels[rows])
            for rows in order.split(self.batch_size)
        ]
