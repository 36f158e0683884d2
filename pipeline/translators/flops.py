"""Parameter and FLOP accounting for the decoder-only models (the assignment's IsoFLOP part).

The assignment's formulas, for hidden size h, L layers, vocabulary V and a sequence of
s tokens (embeddings excluded, one multiply-add = 2 FLOPs):

    parameters          N = L (4h^2 + 4h) + hV + V
    forward, per layer  6sh^2 (Q, K, V) + 2s^2h (scores) + 3s^2 (softmax)
                        + 2s^2h (weights x values) + 2sh^2 (MLP)
    forward, output     2sVh
    training            3 x forward (the backward pass costs about twice the forward)

Counted per training batch (every sequence in a batch has the same length, so a batch
costs batch size x flops(s)) and summed over training; tokens likewise.
"""

from __future__ import annotations

from typing import Any

from pipeline.core.callbacks import Callbacks, EpochRecord


def parameter_count(hidden_size: int, num_layers: int, vocab_size: int) -> int:
    h, V = hidden_size, vocab_size
    return num_layers * (4 * h * h + 4 * h) + h * V + V


def layer_forward_flops(seq_len: int, hidden_size: int) -> int:
    s, h = seq_len, hidden_size
    qkv = 6 * s * h * h
    scores = 2 * s * s * h
    softmax = 3 * s * s
    weighted_values = 2 * s * s * h
    mlp = 2 * s * h * h
    return qkv + scores + softmax + weighted_values + mlp


def forward_flops(seq_len: int, hidden_size: int, num_layers: int, vocab_size: int) -> int:
    """Forward FLOPs of one sequence of `seq_len` tokens."""
    output_layer = 2 * seq_len * vocab_size * hidden_size
    return num_layers * layer_forward_flops(seq_len, hidden_size) + output_layer


def training_flops(batch_size: int, seq_len: int, hidden_size: int, num_layers: int, vocab_size: int) -> int:
    """FLOPs of one training step (forward + backward) on a batch of equal-length sequences."""
    return 3 * batch_size * forward_flops(seq_len, hidden_size, num_layers, vocab_size)


def training_flops_per_token(seq_len: float, hidden_size: float, num_layers: int, vocab_size: int) -> float:
    """Training FLOPs per token at a (mean) sequence length; h may be fractional (fits)."""
    s, h, V = seq_len, hidden_size, vocab_size
    per_layer = 6 * h * h + 2 * s * h + 3 * s + 2 * s * h + 2 * h * h
    return 3 * (num_layers * per_layer + 2 * V * h)


def hidden_size_for(parameters: float, num_layers: int, vocab_size: int) -> float:
    """Inverse of `parameter_count` in h (the positive root; fractional in general)."""
    a, b, c = 4 * num_layers, 4 * num_layers + vocab_size, vocab_size - parameters
    return (-b + (b * b - 4 * a * c) ** 0.5) / (2 * a)


class FlopCounter(Callbacks):
    """Accumulates `cumulative_flops` and `cumulative_tokens` over training batches.

    The totals live in each epoch's record (`EpochRecord.extra`), so they are saved in
    resume files and logged with every validation loss: each point of a training curve
    has its compute as x-coordinate. With `stop_at_flops`, training ends after the first
    epoch whose cumulative FLOPs reach it.
    """

    def __init__(self, hidden_size: int, num_layers: int, vocab_size: int, stop_at_flops: float | None = None):
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.vocab_size = vocab_size
        self.stop_at_flops = stop_at_flops

    @property
    def parameters(self) -> int:
        """Non-embedding parameters N by the assignment's formula."""
        return parameter_count(self.hidden_size, self.num_layers, self.vocab_size)

    def on_batch_end(self, batch: Any, totals: dict[str, float]) -> None:
        batch_size, seq_len = batch.tokens.shape
        flops = training_flops(batch_size, seq_len, self.hidden_size, self.num_layers, self.vocab_size)
        totals["cumulative_flops"] = totals.get("cumulative_flops", 0.0) + flops
        totals["cumulative_tokens"] = totals.get("cumulative_tokens", 0.0) + batch_size * seq_len

    def should_stop(self, record: EpochRecord) -> bool:
        return self.stop_at_flops is not None and record.extra.get("cumulative_flops", 0.0) >= self.stop_at_flops
