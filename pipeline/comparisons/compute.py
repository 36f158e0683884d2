"""Training compute of finished translator runs, and the loss a run reached within a budget.

The decoder-only runs count their training FLOPs while they train (`cumulative_flops`,
the assignment's formula in `pipeline/translators/flops.py`); the encoder-decoder runs do
not. Every epoch covers every training pair once, in batches of one (source, target)
length without padding, so an epoch's FLOPs are the sum over the training pairs of one
pair's FLOPs, the same every epoch: epoch e has spent e x that. The encoder-decoder is
counted with the same conventions as the assignment's decoder-only formula (one
multiply-add = 2 FLOPs, embeddings excluded, training = 3 x forward):

    encoder, per layer    the decoder-only layer over S source tokens (word + <EOS>)
    decoder, per layer    the same over T tokens (<SOS> + translation), plus cross-attention:
                          2Th^2 (Q) + 4Sh^2 (K, V) + 2TSh (scores) + 3TS (softmax) + 2TSh (x values)
    output                2TVh
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.translators.flops import layer_forward_flops, training_flops
from pipeline.translators.pairs import Pair


def encoder_decoder_forward_flops(source_len: int, target_len: int, hidden_size: int, num_layers: int, vocab_size: int) -> int:
    """Forward FLOPs of one pair: `source_len` encoder tokens, `target_len` decoder tokens."""
    S, T, h = source_len, target_len, hidden_size
    cross_attention = 2 * T * h * h + 4 * S * h * h + 2 * T * S * h + 3 * T * S + 2 * T * S * h
    layers = num_layers * (layer_forward_flops(S, h) + layer_forward_flops(T, h) + cross_attention)
    return layers + 2 * T * vocab_size * h


def epoch_flops(pairs: list[Pair], architecture: str, hidden_size: int, num_layers: int, vocab_size: int) -> int:
    """Training FLOPs of one epoch over `pairs` (every pair once, as `LengthBucketBatcher` deals them)."""
    if architecture == "decoder-only":  # <SOS> word <EOP> translation: one sequence
        return sum(training_flops(1, len(p.source) + len(p.target) + 2, hidden_size, num_layers, vocab_size) for p in pairs)
    if architecture == "encoder-decoder":  # word <EOS> into the encoder, <SOS> translation into the decoder
        return sum(
            3 * encoder_decoder_forward_flops(len(p.source) + 1, len(p.target) + 1, hidden_size, num_layers, vocab_size) for p in pairs
        )
    raise ValueError(f"no FLOP formula for architecture {architecture!r}")


def best_within(curve: pd.DataFrame, budget: float, column: str) -> float | None:
    """The lowest `column` among the evaluations made within `budget` cumulative FLOPs: what a run
    stopped at that budget keeps (best-epoch weights). None if its first evaluation comes later."""
    within = curve.loc[curve["cumulative_flops"] <= budget * (1 + 1e-9), column]
    return float(np.min(within)) if len(within) else None
