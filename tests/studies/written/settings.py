"""The `written` section the tests use: the params.yaml block and a smaller one for stage runs."""

from __future__ import annotations

import copy

BLOCK = {
    "seed": 0,
    "samples": 1000,
    "chain_layers": 5,
    "jacobian_steps": [2, 10],
    "jacobian_dim": 6,
    "conv_kernel": [2, 0, 1],
    "sequence_length": 32,
    "conv_channels": 4,
    "maxpool_k": 2,
    "scales": [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    "encoder_sizes": [[32, 64], [100, 256], [300, 512]],
    "vocab_size": 10000,
    "embedding_dim": 100,
    "hidden_size": 256,
    "sequence_lengths": [10, 40],
    "classifier_layers": [1, 2],
    "classifier_logits": [1, 2],
    "published": {"classifier_parameters": {"mlp": {10: 322562, 40: 1090562}, "rnn": {10: 223234, 40: 223234}}},
    "network_sizes": [[3, 5, 4, 7], [8, 16, 32, 30], [10, 64, 64, 30]],
    "timing_length": 8,
    "timing_hidden": 64,
    "timing_batch": 64,
    "timing_repeats": 20,
}


def small() -> dict:
    """A quick variant of BLOCK (the smoke size): fewer samples, steps, scales and sizes."""
    block = copy.deepcopy(BLOCK)
    block.update(
        samples=64,
        jacobian_steps=[2, 5],
        jacobian_dim=4,
        sequence_length=12,
        conv_channels=2,
        scales=[1, 10, 100],
        encoder_sizes=[[3, 2], [10, 7]],
        sequence_lengths=[10, 40],
        network_sizes=[[2, 3, 4, 5], [3, 2, 3, 4]],
        timing_length=3,
        timing_hidden=8,
        timing_batch=4,
        timing_repeats=2,
    )
    return block
