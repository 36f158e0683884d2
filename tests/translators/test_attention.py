"""Single-head attention checked against independent hand computations."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from pipeline.translators.models.attention import CausalScaledDotAttention, ScaledDotAttention


def _project(module, queries, keys, values):
    return module.Q(queries), module.K(keys), module.V(values)


def _by_hand(q, k, v, scale, causal=False):
    scores = torch.matmul(q, k.transpose(-2, -1)) * scale  # (B, Tq, Tk)
    if causal:
        tq, tk = scores.shape[-2:]
        allowed = torch.ones(tq, tk, dtype=torch.bool).tril()
        scores = scores.masked_fill(~allowed, float("-inf"))
    return torch.matmul(torch.softmax(scores, dim=-1), v)


@pytest.mark.parametrize("hidden", [4, 16])
def test_scaled_dot_attention_matches_hand_computation_3d(hidden):
    torch.manual_seed(0)
    module = ScaledDotAttention(hidden).double()
    queries = torch.randn(3, 5, hidden, dtype=torch.float64)
    keys = torch.randn(3, 7, hidden, dtype=torch.float64)
    values = torch.randn(3, 7, hidden, dtype=torch.float64)

    out = module(queries, keys, values)
    assert out.shape == (3, 5, hidden)

    with torch.no_grad():
        q, k, v = _project(module, queries, keys, values)
        expected = _by_hand(q, k, v, 1 / math.sqrt(hidden))
        fused = F.scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(out, fused)


def test_scaled_dot_attention_2d_queries_equal_3d_with_one_query():
    torch.manual_seed(1)
    hidden = 8
    module = ScaledDotAttention(hidden).double()
    queries = torch.randn(4, hidden, dtype=torch.float64)
    keys = torch.randn(4, 6, hidden, dtype=torch.float64)
    values = torch.randn(4, 6, hidden, dtype=torch.float64)

    out_2d = module(queries, keys, values)
    out_3d = module(queries.unsqueeze(1), keys, values)
    assert out_2d.shape == (4, hidden)
    assert out_3d.shape == (4, 1, hidden)
    torch.testing.assert_close(out_2d, out_3d.squeeze(1))
    with torch.no_grad():
        q, k, v = _project(module, queries.unsqueeze(1), keys, values)
        expected = _by_hand(q, k, v, 1 / math.sqrt(hidden)).squeeze(1)
    torch.testing.assert_close(out_2d, expected)


def test_values_come_from_values_argument_not_keys():
    # Keys and values passed separately must be used separately.
    torch.manual_seed(2)
    module = ScaledDotAttention(8).double()
    x = torch.randn(2, 3, 8, dtype=torch.float64)
    keys = torch.randn(2, 4, 8, dtype=torch.float64)
    values = torch.randn(2, 4, 8, dtype=torch.float64)
    with torch.no_grad():
        q, k, v = _project(module, x, keys, values)
        expected = _by_hand(q, k, v, 1 / math.sqrt(8))
        wrong = _by_hand(q, k, module.V(keys), 1 / math.sqrt(8))
    out = module(x, keys, values)
    torch.testing.assert_close(out, expected)
    assert not torch.allclose(out, wrong)


def test_causal_attention_matches_masked_softmax():
    torch.manual_seed(3)
    hidden = 8
    module = CausalScaledDotAttention(hidden).double()
    x = torch.randn(2, 6, hidden, dtype=torch.float64)
    out = module(x, x, x)
    with torch.no_grad():
        q, k, v = _project(module, x, x, x)
        expected = _by_hand(q, k, v, 1 / math.sqrt(hidden), causal=True)
        unmasked = _by_hand(q, k, v, 1 / math.sqrt(hidden), causal=False)
    torch.testing.assert_close(out, expected)
    # Position 0 sees only itself: its output is exactly its own value vector.
    torch.testing.assert_close(out[:, 0], v[:, 0])
    # The last position sees everything, so it agrees with unmasked attention; earlier ones differ.
    torch.testing.assert_close(out[:, -1], unmasked[:, -1])
    assert not torch.allclose(out[:, :-1], unmasked[:, :-1])


@pytest.mark.parametrize("t", [0, 2, 4, 6])
def test_causal_attention_future_does_not_leak(t):
    torch.manual_seed(4)
    hidden, length = 8, 8
    module = CausalScaledDotAttention(hidden).double()
    x = torch.randn(3, length, hidden, dtype=torch.float64)
    changed_future = x.clone()
    changed_future[:, t + 1 :] = torch.randn(3, length - t - 1, hidden, dtype=torch.float64)

    with torch.no_grad():
        before = module(x, x, x)
        after = module(changed_future, changed_future, changed_future)
    torch.testing.assert_close(after[:, : t + 1], before[:, : t + 1])
    if t + 1 < length:
        # The change is real: positions after t do move.
        assert not torch.allclose(after[:, t + 1 :], before[:, t + 1 :])


@pytest.mark.parametrize("t", [0, 3, 7])
def test_causal_attention_position_sees_its_own_input(t):
    # Guards against a mask that hides everything (or the diagonal): changing input t must move output t.
    torch.manual_seed(5)
    hidden, length = 8, 8
    module = CausalScaledDotAttention(hidden).double()
    x = torch.randn(2, length, hidden, dtype=torch.float64)
    changed = x.clone()
    changed[:, t] = torch.randn(2, hidden, dtype=torch.float64)
    with torch.no_grad():
        before = module(x, x, x)
        after = module(changed, changed, changed)
    torch.testing.assert_close(after[:, :t], before[:, :t])
    assert (after[:, t] - before[:, t]).abs().max() > 1e-3


def test_non_causal_attention_does_see_the_future():
    # Contrast for the causal test: the plain module is not masked.
    torch.manual_seed(6)
    module = ScaledDotAttention(8).double()
    x = torch.randn(2, 5, 8, dtype=torch.float64)
    changed = x.clone()
    changed[:, -1] = torch.randn(2, 8, dtype=torch.float64)
    with torch.no_grad():
        assert not torch.allclose(module(x, x, x)[:, 0], module(changed, changed, changed)[:, 0])


@pytest.mark.parametrize("hidden", [8, 16, 32])
def test_scale_is_one_over_sqrt_hidden_not_one_over_hidden(hidden):
    torch.manual_seed(7)
    module = ScaledDotAttention(hidden).double()
    # Large inputs make the softmax sensitive to the scale.
    queries = 3 * torch.randn(2, 4, hidden, dtype=torch.float64)
    keys = 3 * torch.randn(2, 5, hidden, dtype=torch.float64)
    out = module(queries, keys, keys)
    with torch.no_grad():
        q, k, v = _project(module, queries, keys, keys)
        sqrt_scaled = _by_hand(q, k, v, 1 / math.sqrt(hidden))
        linear_scaled = _by_hand(q, k, v, 1 / hidden)
        unscaled = _by_hand(q, k, v, 1.0)
    torch.testing.assert_close(out, sqrt_scaled)
    assert not torch.allclose(out, linear_scaled, atol=1e-4, rtol=1e-4)
    assert not torch.allclose(out, unscaled, atol=1e-4, rtol=1e-4)


def test_causal_attention_with_fewer_queries_treats_them_as_the_last_positions():
    """Incremental decoding: the newest query(ies) against the whole prefix of keys."""
    torch.manual_seed(5)
    hidden = 8
    module = CausalScaledDotAttention(hidden).double()
    x = torch.randn(3, 7, hidden, dtype=torch.float64)
    full = module(x, x, x)  # (B, 7, H): every position at once
    # The last two positions alone, attending to all seven keys, give the same outputs...
    torch.testing.assert_close(module(x[:, -2:], x, x), full[:, -2:])
    # ...and a single 2D query is the last position, which sees every key.
    torch.testing.assert_close(module(x[:, -1], x, x), full[:, -1])
    with torch.no_grad():
        q, k, v = _project(module, x[:, -1:], x, x)
        expected = _by_hand(q, k, v, 1 / math.sqrt(hidden))[:, 0]
    torch.testing.assert_close(module(x[:, -1], x, x), expected)


# ------------------------------------------ one query per step (the recurrent ablation's attention)


@pytest.mark.parametrize("hidden", [4, 16])
def test_step_dot_attention_matches_torch_sdpa(hidden):
    from pipeline.translators.models.attention import StepDotAttention

    torch.manual_seed(0)
    module = StepDotAttention(hidden).double()
    query = torch.randn(3, hidden, dtype=torch.float64)  # (B, H): one decoder state
    annotations = torch.randn(3, 7, hidden, dtype=torch.float64)  # (B, S, H)

    context, weights = module(query, module.keys(annotations), annotations)

    # torch's own implementation on the same projections; the values are the annotations.
    q, k = module.Q(query).unsqueeze(1), module.K(annotations)
    expected = F.scaled_dot_product_attention(q, k, annotations).squeeze(1)  # default scale 1/sqrt(H)
    assert context.shape == (3, hidden) and weights.shape == (3, 7)
    torch.testing.assert_close(context, expected)
    # The weights: softmax of q.k / sqrt(H) written out per position, summing to 1.
    by_hand = torch.softmax(torch.einsum("bh,bsh->bs", module.Q(query), k) / math.sqrt(hidden), dim=-1)
    torch.testing.assert_close(weights, by_hand)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, dtype=torch.float64))
