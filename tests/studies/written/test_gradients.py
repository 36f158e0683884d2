"""1.1.2 and 1.2.1 against hand-derived derivatives and finite differences, never against the checks' own formulas."""

from __future__ import annotations

import math

import pytest
import torch

from pipeline.studies.written import gradients

F64 = torch.float64


def _autograd_derivative(weights: list[float], x: float) -> float:
    w = torch.tensor([weights], dtype=F64)
    point = torch.tensor([x], dtype=F64, requires_grad=True)
    f, _ = gradients.relu_chain(w, point)
    (grad,) = torch.autograd.grad(f.sum(), point)
    return float(grad)


@pytest.mark.parametrize(
    ("weights", "x", "derivative"),
    [
        ([2.0, 3.0, 0.5], 1.0, 3.0),  # z = 2, 6 > 0: the product 2 * 3 * 0.5
        ([2.0, -3.0, 0.5], 1.0, 0.0),  # z_2 = -6: the second ReLU is off
        ([2.0, 3.0, 0.5], -1.0, 0.0),  # z_1 = -2
        ([-2.0, 3.0, -4.0], -1.0, 24.0),  # z_1 = 2, z_2 = 6: (-2)(3)(-4)
        ([-2.0, -3.0, 4.0], -1.0, 0.0),  # z_1 = 2, z_2 = -6
    ],
)
def test_relu_chain_derivative_by_hand(weights, x, derivative):
    assert _autograd_derivative(weights, x) == derivative


def test_relu_chain_forward_by_hand():
    f, pre = gradients.relu_chain(torch.tensor([[-2.0, 3.0, -4.0]], dtype=F64), torch.tensor([-1.0], dtype=F64))
    assert pre.tolist() == [[2.0, 6.0]] and f.tolist() == [-24.0]


def test_relu_chain_check_counts_every_case_and_finds_no_violation():
    result = gradients.relu_chain_check(layers=4, samples=4000, seed=3)
    assert result["all_pre_activations_positive"] + result["some_pre_activation_not_positive"] == 4000
    assert result["attains_bound"] == result["all_pre_activations_positive"] > 0
    assert result["derivative_zero"] == result["some_pre_activation_not_positive"]
    assert result["max_violation"] == 0.0 and result["kink_cases"] == 0
    # P(every z_i > 0) = 2^-(n-1) = 1/8; 4000 draws: well inside 4 standard deviations.
    assert abs(result["observed_fraction_positive"] - 1 / 8) < 4 * math.sqrt(1 / 8 * 7 / 8 / 4000)
    assert gradients.relu_chain_failures(result) == []


def test_unit_weights_give_a_derivative_of_one_exactly_for_positive_inputs():
    """1.1.1: the check's x are drawn from N(0, 1) by its own generator: about half are positive."""
    result = gradients.relu_chain_check(layers=6, samples=4000, seed=3)
    generator = torch.Generator().manual_seed(3)
    torch.randn(4000, 6, generator=generator, dtype=torch.float64)  # the weights come first
    positive = int((torch.randn(4000, generator=generator, dtype=torch.float64) > 0).sum())
    assert result["unit_weights_derivative_one"] == result["unit_weights_positive_inputs"] == positive
    assert result["unit_weights_derivative_zero"] == 4000 - positive
    assert abs(positive / 4000 - 0.5) < 4 * math.sqrt(0.25 / 4000)


def test_relu_chain_check_fails_when_the_nonlinearity_changes(monkeypatch):
    """With a leaky ReLU the derivative is no longer 0 when a pre-activation is negative."""

    def leaky_chain(weights, x):
        activation, pre = x, []
        for i in range(weights.shape[1] - 1):
            z = weights[:, i] * activation
            pre.append(z)
            activation = torch.nn.functional.leaky_relu(z, 0.1)
        return weights[:, -1] * activation, torch.stack(pre, dim=1)

    monkeypatch.setattr(gradients, "relu_chain", leaky_chain)
    result = gradients.relu_chain_check(layers=3, samples=200, seed=0)
    assert result["derivative_zero"] == 0 < result["some_pre_activation_not_positive"]
    assert any("f' = 0" in failure for failure in gradients.relu_chain_failures(result))


# ------------------------------------------------------------------------- 1.2.1


def _finite_difference_jacobian(W: torch.Tensor, x: torch.Tensor, steps: int, h: float = 1e-6) -> torch.Tensor:
    """Central differences of x_{1+steps} with respect to x_1, one sample."""

    def final(x1):
        for _ in range(steps):
            x1 = torch.sigmoid(W @ x1)
        return x1

    columns = []
    for j in range(x.shape[0]):
        e = torch.zeros_like(x)
        e[j] = h
        columns.append((final(x + e) - final(x - e)) / (2 * h))
    return torch.stack(columns, dim=1)


def test_jacobians_match_finite_differences():
    generator = torch.Generator().manual_seed(5)
    W = gradients.random_weights(3, 4, 0.25, generator)
    x = torch.randn(3, 4, generator=generator, dtype=F64)
    J = gradients.jacobians(W, x, last_n=5)  # n = 2..5
    assert J.shape == (3, 4, 4, 4)
    for s in range(3):
        for n in range(2, 6):
            expected = _finite_difference_jacobian(W[s], x[s], n - 1)
            assert torch.allclose(J[s, n - 2], expected, rtol=1e-6, atol=1e-9)  # differences: ~eps / h


def test_one_step_jacobian_is_diag_sigmoid_prime_times_W():
    generator = torch.Generator().manual_seed(6)
    W = gradients.random_weights(2, 3, 0.25, generator)
    x = torch.randn(2, 3, generator=generator, dtype=F64)
    J = gradients.jacobians(W, x, last_n=2)[:, 0]
    s = torch.sigmoid(torch.einsum("sij,sj->si", W, x))
    assert torch.allclose(J, (s * (1 - s))[:, :, None] * W, rtol=1e-12, atol=0)


def test_weight_families_have_the_stated_singular_values():
    generator = torch.Generator().manual_seed(7)
    singular = torch.linalg.svdvals(gradients.random_weights(5, 6, 0.25, generator))
    assert torch.allclose(singular[:, 0], torch.full((5,), 0.25, dtype=F64), atol=1e-14)
    for scale in (0.25, 0.5):
        singular = torch.linalg.svdvals(gradients.orthogonal_weights(5, 6, scale, generator))
        assert torch.allclose(singular, torch.full_like(singular, scale), atol=1e-14)


def test_bound_holds_for_sigma_quarter_and_not_for_sigma_half():
    summary, table = gradients.sigmoid_jacobian_check(steps=[2, 3, 4, 5, 6], dim=5, samples=300, seed=2)
    assert table["n"].tolist() == [2, 3, 4, 5, 6]
    assert table["bound"].tolist() == [16.0 ** -(n - 1) for n in range(2, 7)]
    assert (table["random_max"] <= table["bound"]).all() and summary["random_max_ratio"] <= 1
    assert 0.9 < summary["orthogonal_quarter_max_ratio"] <= 1  # nearly tight
    # sigma_max(W) = 1/2: every sample is above (1/16)^(n-1), below (1/8)^(n-1).
    assert (table["orthogonal_half_min"] > table["bound"]).all() and summary["orthogonal_half_min_ratio"] > 1
    assert (table["orthogonal_half_max_ratio_to_own_bound"] <= 1).all()
    assert summary["max_error_vs_closed_form_over_bound"] < 1e-9
    assert gradients.sigmoid_jacobian_failures(summary) == []


def test_sigma_half_weights_violate_the_quarter_bound(monkeypatch):
    """Rescaling the 'random' family to sigma_max 1/2 breaks the assumption: the check reports the violation."""
    original = gradients.random_weights
    monkeypatch.setattr(gradients, "random_weights", lambda s, d, sigma, g: original(s, d, 0.5, g))
    summary, table = gradients.sigmoid_jacobian_check(steps=[2, 3, 4], dim=5, samples=200, seed=2)
    assert summary["random_max_ratio"] > 1.5
    assert any("random_max_ratio" in failure for failure in gradients.sigmoid_jacobian_failures(summary))
