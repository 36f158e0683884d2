"""FLOP and parameter accounting against hand-derived numbers and torch's FlopCounterMode."""

from __future__ import annotations

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from pipeline.core.callbacks import EpochRecord
from pipeline.translators.flops import (
    FlopCounter,
    forward_flops,
    hidden_size_for,
    layer_forward_flops,
    parameter_count,
    training_flops,
    training_flops_per_token,
)
from pipeline.translators.models.transformer import DecoderOnlyTransformer, TransformerConfig

V = 30  # the Pig Latin vocabulary


@pytest.mark.parametrize(("hidden", "published"), [(16, 4_862), (32, 17_886), (48, 39_102), (64, 68_510), (96, 151_902), (128, 268_062)])
def test_parameter_formula_matches_the_published_counts_and_the_model(hidden, published):
    assert parameter_count(hidden, 4, V) == published
    model = DecoderOnlyTransformer(TransformerConfig(vocab_size=V, hidden_size=hidden, num_layers=4))
    embedding = model.embedding.weight.numel()
    assert sum(p.numel() for p in model.parameters()) - embedding == published
    assert hidden_size_for(published, 4, V) == pytest.approx(hidden)


def test_layer_formula_on_a_hand_computed_case():
    # s = 2, h = 3: QKV 6*2*9 = 108, scores 2*4*3 = 24, softmax 3*4 = 12,
    # weights x values 2*4*3 = 24, MLP 2*2*9 = 36 -> 204.
    assert layer_forward_flops(2, 3) == 204
    # Two such layers plus the output layer 2*s*V*h = 2*2*5*3 = 60.
    assert forward_flops(2, 3, num_layers=2, vocab_size=5) == 2 * 204 + 60
    assert training_flops(4, 2, 3, 2, 5) == 3 * 4 * (2 * 204 + 60)


def test_per_token_formula_agrees_with_the_per_sequence_formula():
    s, h, layers = 17, 64, 4
    assert training_flops_per_token(s, h, layers, V) * s == pytest.approx(training_flops(1, s, h, layers, V))


@pytest.mark.parametrize(("batch", "seq_len", "hidden", "layers"), [(3, 7, 16, 2), (2, 12, 32, 4)])
def test_matmul_terms_match_flop_counter_mode_on_a_real_pass(batch, seq_len, hidden, layers):
    """FlopCounterMode counts matrix multiplications only (2 FLOPs per multiply-add), so it
    must equal the formula minus its softmax term 3 s^2 per layer: exactly, no tolerance.
    SDPA runs on its math backend here because the fused CPU kernel is invisible to the counter."""
    torch.manual_seed(0)
    model = DecoderOnlyTransformer(TransformerConfig(vocab_size=V, hidden_size=hidden, num_layers=layers))
    tokens = torch.randint(0, V, (batch, seq_len))
    softmax = layers * 3 * seq_len**2
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as forward:
        model(tokens)
    assert forward.get_total_flops() == batch * (forward_flops(seq_len, hidden, layers, V) - softmax)

    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as step:
        model(tokens).sum().backward()
    # "training = 3 x forward" holds exactly for the matmuls: backward = 2 x forward.
    assert step.get_total_flops() == training_flops(batch, seq_len, hidden, layers, V) - 3 * batch * softmax


class _Batch:
    def __init__(self, batch_size: int, seq_len: int):
        self.tokens = torch.zeros(batch_size, seq_len, dtype=torch.long)


def test_counter_accumulates_per_batch_and_stops_at_the_budget():
    counter = FlopCounter(hidden_size=32, num_layers=4, vocab_size=V, stop_at_flops=1e9)
    totals: dict[str, float] = {}
    shapes = [(64, 10), (64, 17), (5, 23)]
    for shape in shapes:
        counter.on_batch_end(_Batch(*shape), totals)
    assert totals["cumulative_flops"] == sum(training_flops(b, s, 32, 4, V) for b, s in shapes)
    assert totals["cumulative_tokens"] == 64 * 10 + 64 * 17 + 5 * 23
    record = EpochRecord(1, 1.0, 1.0, 1e-3, 3, 100, 1.0, extra=dict(totals))
    assert counter.should_stop(record) == (totals["cumulative_flops"] >= 1e9)
    record.extra["cumulative_flops"] = 1e9
    assert counter.should_stop(record)
    assert not FlopCounter(32, 4, V, stop_at_flops=None).should_stop(record)
    assert counter.parameters == 17_886
