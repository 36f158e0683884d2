"""1.3.1 and 1.3.2: the relative-attention layer against a loop over the handout's formula,
F.conv1d, F.max_pool1d and hand-computed windows; changed constructions must show errors."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from pipeline.studies.written import relative_attention as ra

F64 = torch.float64


def _by_the_formula(layer: ra.RelAttnLayer, x: torch.Tensor) -> torch.Tensor:
    """alpha_ij = Q_i . K_j / sqrt(d_k) + p_{i-j}, y_i = sum_j softmax_j(alpha_i) V_j, with explicit loops."""
    T = x.shape[0]
    Q, K, V = x @ layer.W_Q, x @ layer.W_K, x @ layer.W_V
    out = torch.zeros_like(V)
    for i in range(T):
        alpha = torch.stack([Q[i] @ K[j] / math.sqrt(layer.d_k) + layer.p[i - j + layer.max_len - 1] for j in range(T)])
        weights = torch.exp(alpha - alpha.max())
        weights = weights / weights.sum()
        out[i] = sum(weights[j] * V[j] for j in range(T))
    return out


def test_layer_computes_the_handout_formula():
    torch.manual_seed(0)
    layer = ra.RelAttnLayer(d_model=3, d_k=2, max_len=7)
    with torch.no_grad():
        for parameter in layer.parameters():
            parameter.normal_()
    x = torch.randn(5, 3, dtype=F64)
    with torch.no_grad():
        assert torch.allclose(layer(x), _by_the_formula(layer, x), rtol=1e-12, atol=1e-12)
        assert torch.allclose(layer(x[None].repeat(2, 1, 1))[1], layer(x))  # batched


def test_offset_bias_is_indexed_by_i_minus_j():
    layer = ra.RelAttnLayer(1, 1, max_len=4)
    with torch.no_grad():
        layer.p.copy_(torch.arange(-3, 4, dtype=F64))  # p_r = r
    bias = layer.offset_bias(3)
    assert bias.tolist() == [[0, -1, -2], [1, 0, -1], [2, 1, 0]]


# ------------------------------------------------------------------------- 1.3.1


def _sequences(samples=8, length=10, channels=3, seed=1):
    return torch.randn(samples, length, channels, generator=torch.Generator().manual_seed(seed), dtype=F64)


def test_kernel_2_0_1_is_2_x_prev_plus_x_next():
    x = _sequences()
    with torch.no_grad():
        y = ra.conv_layer([2, 0, 1], 3, 10)(x)
    by_hand = 2 * x[:, :-2] + x[:, 2:]  # interior i = 1..T-2: 2 x_{i-1} + 0 x_i + 1 x_{i+1}
    assert torch.allclose(y[:, 1:-1], by_hand, rtol=0, atol=1e-13)
    channels = x.shape[-1]
    weight = torch.tensor([2.0, 0.0, 1.0], dtype=F64).view(1, 1, 3).repeat(channels, 1, 1)
    reference = F.conv1d(x.transpose(1, 2), weight, padding=1, groups=channels).transpose(1, 2)
    assert torch.allclose(y[:, 1:-1], reference[:, 1:-1], rtol=0, atol=1e-13)


@pytest.mark.parametrize("kernel", [[1, 2, 3], [0.5], [1, 0, 0, 0, 4], [0, 1, 0]])
def test_other_non_negative_kernels_match_conv1d(kernel):
    x = _sequences(length=12)
    r = (len(kernel) - 1) // 2
    weight = torch.tensor(kernel, dtype=F64).view(1, 1, -1).repeat(3, 1, 1)
    reference = F.conv1d(x.transpose(1, 2), weight, padding=r, groups=3).transpose(1, 2)
    with torch.no_grad():
        layer = ra.conv_layer(kernel, 3, 12 + 2 * r)
        y = layer(x)
        padded = layer(F.pad(x, (0, 0, r, r)))[:, r : r + 12]
    assert torch.allclose(y[:, r : 12 - r], reference[:, r : 12 - r], rtol=0, atol=1e-12)
    assert torch.allclose(padded, reference, rtol=0, atol=1e-12)  # zero tokens at both ends: every position


def test_a_wrong_kernel_or_wrong_p_breaks_the_equality():
    x = _sequences()
    flipped = torch.tensor([1.0, 0.0, 2.0], dtype=F64).view(1, 1, 3).repeat(3, 1, 1)
    with torch.no_grad():
        layer = ra.conv_layer([2, 0, 1], 3, 10)
        y = layer(x)[:, 1:-1]
        # The same layer is not the convolution with the flipped kernel [1, 0, 2] ...
        other = F.conv1d(x.transpose(1, 2), flipped, padding=1, groups=3).transpose(1, 2)[:, 1:-1]
        assert (y - other).abs().max() > 0.5
        # ... and swapping p_{+1} and p_{-1} (the offsets' signs) computes that one instead.
        layer.set_offset(1, 0.0)
        layer.set_offset(-1, math.log(2))
        assert torch.allclose(layer(x)[:, 1:-1], other, atol=1e-13)
        # Forgetting W_V's rescaling by sum(w) = 3 gives the average, a third of the convolution.
        layer = ra.conv_layer([2, 0, 1], 3, 10)
        layer.W_V.copy_(torch.eye(3, dtype=F64))
        assert torch.allclose(3 * layer(x)[:, 1:-1], 2 * x[:, :-2] + x[:, 2:], atol=1e-13)


def test_finite_penalty_error_follows_its_bound():
    x = _sequences(length=16)
    reference = 2 * x[:, :-2] + x[:, 2:]  # interior, by hand
    m = 16 - 2  # off-kernel positions of an interior row (the kernel has two positive taps)
    errors = []
    for C in (1.0, 4.0, 8.0, 16.0):
        with torch.no_grad():
            y = ra.conv_layer([2, 0, 1], 3, 16, penalty=C)(x)[:, 1:-1]
        error = (y - reference).abs().amax(dim=(1, 2))
        assert (error <= 2 * m * x.abs().amax(dim=(1, 2)) * math.exp(-C) + 1e-12).all()
        errors.append(float(error.max()))
    assert errors[0] > 0.1 and errors == sorted(errors, reverse=True) and errors[-1] < 1e-4


def test_conv_check_summary():
    summary, table = ra.conv_check([2, 0, 1], length=12, channels=2, samples=16, scales=[1, 10, 100], seed=0)
    assert summary["exact_max_error_interior"] < 1e-13 and summary["exact_max_error_zero_padded"] < 1e-13
    assert summary["exact_max_error_boundary"] > 0.1  # renormalised softmax vs zero padding
    assert summary["off_kernel_positions"] == 10 and summary["interior_positions"] == 10
    assert table["scale"].tolist() == [1, 10, 100] and summary["penalty_violations"] == 0
    assert table["max_error"].iloc[0] > table["max_error"].iloc[1] > table["max_error"].iloc[2]
    assert ra.conv_failures(summary) == []


def test_conv_check_fails_with_a_wrong_p(monkeypatch):
    original = ra.conv_layer

    def shifted(kernel, channels, max_len, penalty=None):  # every tap one offset too far right
        return original([0, *kernel[:-1]], channels, max_len, penalty)

    monkeypatch.setattr(ra, "conv_layer", shifted)
    summary, _ = ra.conv_check([2, 0, 1], length=12, channels=2, samples=16, scales=[1, 10, 100], seed=0)
    assert summary["exact_max_error_interior"] > 0.5
    assert any("F.conv1d" in failure for failure in ra.conv_failures(summary))


# ------------------------------------------------------------------------- 1.3.2


def test_maxpool_layer_by_hand():
    x = torch.tensor([[1.0, 2.0, 3.0, 0.5]], dtype=F64)
    y = ra.pooled(ra.maxpool_layer(k=1, scale=100.0, max_len=4), x)[0]
    assert torch.allclose(y, torch.tensor([2.0, 3.0, 3.0, 3.0], dtype=F64), atol=1e-12)
    # Small C: a softmax-weighted mean, by hand at position 0 (window x_0, x_1; scores C x_0 x_j).
    y = ra.pooled(ra.maxpool_layer(k=1, scale=0.5, max_len=4), x)[0]
    w = torch.tensor([math.exp(0.5 * 1 * 1), math.exp(0.5 * 1 * 2)], dtype=F64)
    assert float(y[0]) == pytest.approx(float((w * torch.tensor([1.0, 2.0], dtype=F64)).sum() / w.sum()), abs=1e-14)


def test_error_is_within_the_bound_and_shrinks_with_c():
    generator = torch.Generator().manual_seed(3)
    x = 1 - torch.rand(32, 20, generator=generator, dtype=F64)
    k = 2
    exact = F.max_pool1d(x[:, None], 2 * k + 1, stride=1, padding=k)[:, 0]
    previous = math.inf
    for C in (1.0, 10.0, 100.0, 1000.0):
        error = exact - ra.pooled(ra.maxpool_layer(k, C, 20), x)
        assert (error >= -1e-14).all()
        assert (error <= 2 * k / (math.e * C * x) * (1 + 1e-12)).all()
        assert float(error.mean()) < previous
        previous = float(error.mean())
    assert previous < 5e-3


def test_a_wrong_window_misses_the_max():
    """p = 0 on offsets |i - j| <= k + 1 pools over a wider window: measurable against F.max_pool1d."""
    x = torch.tensor([[0.5, 0.6, 0.9, 0.7, 0.6, 0.5, 0.55, 0.8]], dtype=F64)
    exact = F.max_pool1d(x[:, None], 3, stride=1, padding=1)[:, 0]
    right = ra.pooled(ra.maxpool_layer(1, 1000.0, 8), x)
    wrong = ra.pooled(ra.maxpool_layer(2, 1000.0, 8), x)
    assert (right - exact).abs().max() < 1e-3
    assert (wrong - exact).abs().max() > 0.1


def test_zero_centre_gives_the_window_mean_and_negative_the_min():
    x = torch.tensor([[0.3, 0.9, 0.0, 0.6, 0.2]], dtype=F64)
    y = ra.pooled(ra.maxpool_layer(k=2, scale=1000.0, max_len=5), x)[0]
    assert float(y[2]) == pytest.approx((0.3 + 0.9 + 0.0 + 0.6 + 0.2) / 5, abs=1e-15)
    x[0, 2] = -0.4
    y = ra.pooled(ra.maxpool_layer(k=2, scale=1000.0, max_len=5), x)[0]
    assert float(y[2]) == pytest.approx(-0.4, abs=1e-9)


def test_maxpool_check_summary():
    summary, table = ra.maxpool_check(k=2, length=12, samples=32, scales=[1, 10, 100], seed=0)
    assert summary["violations"] == 0 and 0 < summary["max_ratio"] <= 1
    assert table["scaled_bound"].tolist() == pytest.approx([4 / (math.e * c) for c in (1, 10, 100)])
    assert (table["max_scaled_error"] <= table["scaled_bound"]).all()
    assert summary["zero_centre_output"] == pytest.approx(summary["zero_centre_window_mean"], abs=1e-12)
    assert summary["zero_centre_output"] < summary["zero_centre_window_max"]
    assert summary["negative_centre_output"] == pytest.approx(-0.5, abs=1e-9)
    assert ra.maxpool_failures(summary) == []


def test_maxpool_check_fails_when_the_scale_is_dropped(monkeypatch):
    """W_Q W_K = 1 whatever C: the error no longer shrinks like 1/C and breaks the bound."""
    original = ra.maxpool_layer
    monkeypatch.setattr(ra, "maxpool_layer", lambda k, scale, max_len: original(k, 1.0, max_len))
    summary, _ = ra.maxpool_check(k=2, length=12, samples=32, scales=[1, 10, 100], seed=0)
    assert summary["violations"] > 0
    assert any("2k / (e C x_i)" in failure for failure in ra.maxpool_failures(summary))


def test_nan_outputs_fail_the_check(monkeypatch):
    """Every offset masked: softmax over nothing gives NaN, which must count as a failure, not a pass."""
    original = ra.conv_layer

    def masked(kernel, channels, max_len, penalty=None):
        layer = original(kernel, channels, max_len, penalty)
        with torch.no_grad():
            layer.p.fill_(-math.inf)
        return layer

    monkeypatch.setattr(ra, "conv_layer", masked)
    summary, _ = ra.conv_check([2, 0, 1], length=8, channels=1, samples=4, scales=[1, 10], seed=0)
    assert math.isnan(summary["exact_max_error_interior"]) and summary["penalty_violations"] == 8
    assert len(ra.conv_failures(summary)) == 3
