"""Questions 1.1.1, 1.1.2 and 1.2.1: how large a gradient can get through ReLUs and sigmoids.

1.1.1 is 1.1.2 with every w_i = 1: f(x) = relu(x), so f'(x) is 1 or 0 (checked too).

1.1.2. A scalar ReLU chain f(x) = w_n relu(w_{n-1} relu(... relu(w_1 x))) has, by the
chain rule, f'(x) = w_n prod_{i<n} [z_i > 0] w_i with z_i the pre-activations. So
|f'(x)| = prod |w_i| when every z_i > 0 and 0 otherwise: 0 <= |f'(x)| <= prod |w_i|.
`relu_chain_check` takes f' from autograd on random weights and inputs and compares it
with that closed form.

1.2.1. x_{t+1} = sigmoid(W x_t) has the one-step Jacobian diag(s_t (1 - s_t)) W with
s_t = sigmoid(W x_t). sigmoid' <= 1/4, so sigma_max of one step is at most
sigma_max(W) / 4 = 1/16 when sigma_max(W) = 1/4, and by submultiplicativity
sigma_max(dx_n/dx_1) <= (1/16)^(n-1). `sigmoid_jacobian_check` takes dx_n/dx_1 from
`torch.autograd.functional.jacobian` (and from the product above, multiplied out) for
random W rescaled to sigma_max 1/4 and random x_1, plus two controls: W = Q/4 with Q
orthogonal (the bound is nearly attained: the pre-activations stay near 0, where
sigmoid' ~ 1/4, and no direction of Q shrinks) and W = Q/2 (sigma_max 1/2: the bound of
1/16 per step no longer applies and is exceeded; (1/8)^(n-1) holds instead).
"""

from __future__ import annotations

import pandas as pd
import torch

DTYPE = torch.float64
TOLERANCE = 1e-12  # relative, float64 rounding of products of a few dozen factors


def relu_chain(weights: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """f(x) = w_n relu(w_{n-1} relu(... relu(w_1 x))) for a batch: weights (S, n), x (S,).

    Returns f (S,) and the pre-activations z_1..z_{n-1} (S, n-1).
    """
    activation, pre = x, []
    for i in range(weights.shape[1] - 1):
        z = weights[:, i] * activation
        pre.append(z)
        activation = torch.relu(z)
    return weights[:, -1] * activation, torch.stack(pre, dim=1)


def relu_chain_check(layers: int, samples: int, seed: int) -> dict:
    """Autograd f'(x) against the closed form on `samples` random (weights, x), N(0, 1)."""
    generator = torch.Generator().manual_seed(seed)
    weights = torch.randn(samples, layers, generator=generator, dtype=DTYPE)
    x = torch.randn(samples, generator=generator, dtype=DTYPE).requires_grad_()
    f, pre = relu_chain(weights, x)
    (derivative,) = torch.autograd.grad(f.sum(), x)  # samples are independent: d(sum)/dx_s = f'(x_s)

    # The closed form, multiplied in the order backpropagation multiplies (w_n first).
    product = torch.ones(samples, dtype=DTYPE)
    for i in reversed(range(layers)):
        product = product * weights[:, i]
    bound = product.abs()
    positive = (pre > 0).all(dim=1)
    closed_form = torch.where(positive, product, torch.zeros_like(product))

    # 1.1.1, every weight 1: f(x) = relu(x) for every n, so f'(x) is 1 for x > 0 and 0 for x < 0.
    unit_x = x.detach().clone().requires_grad_()
    (unit_derivative,) = torch.autograd.grad(relu_chain(torch.ones_like(weights), unit_x)[0].sum(), unit_x)

    gap = (derivative - closed_form).abs()
    attains = positive & ((derivative.abs() - bound).abs() <= TOLERANCE * bound)
    zero = ~positive & (derivative == 0)
    violation = (derivative.abs() - bound).clamp(min=0)
    return {
        "layers": layers,
        "samples": samples,
        "all_pre_activations_positive": int(positive.sum()),
        "expected_fraction_positive": 0.5 ** (layers - 1),  # z_1 > 0 and every later w_i > 0
        "observed_fraction_positive": float(positive.double().mean()),
        "attains_bound": int(attains.sum()),  # |f'| = prod |w|, of the all-positive cases
        "some_pre_activation_not_positive": int((~positive).sum()),
        "derivative_zero": int(zero.sum()),  # f' = 0, of the other cases
        # The kink: the first non-positive pre-activation is exactly 0 (torch takes relu'(0) = 0).
        "kink_cases": int((~positive & (pre.gather(1, (pre <= 0).int().argmax(dim=1, keepdim=True))[:, 0] == 0)).sum()),
        "max_violation": float(violation.max()),  # max(|f'| - prod |w|, 0): must be 0
        "max_relative_violation": float((violation / bound).max()),
        "max_error_vs_closed_form": float(gap.max()),
        "max_relative_error_vs_closed_form": float((gap / bound).max()),
        "unit_weights_derivative_one": int((unit_derivative == 1).sum()),  # x > 0
        "unit_weights_derivative_zero": int((unit_derivative == 0).sum()),  # x <= 0
        "unit_weights_positive_inputs": int((x > 0).sum()),
    }


def relu_chain_failures(result: dict) -> list[str]:
    failures = []
    if not result["max_relative_violation"] <= TOLERANCE:  # NaN fails too
        failures.append(f"1.1.2: |f'| exceeds prod |w| by {result['max_relative_violation']:.3g} (relative)")
    if result["attains_bound"] != result["all_pre_activations_positive"]:
        failures.append(
            f"1.1.2: |f'| = prod |w| in {result['attains_bound']} of {result['all_pre_activations_positive']} all-positive cases"
        )
    if result["derivative_zero"] != result["some_pre_activation_not_positive"]:
        failures.append(
            f"1.1.2: f' = 0 in {result['derivative_zero']} of {result['some_pre_activation_not_positive']} cases with a z_i <= 0"
        )
    if result["unit_weights_derivative_one"] + result["unit_weights_derivative_zero"] != result["samples"]:
        failures.append("1.1.1: with every weight 1, |f'| took a value other than 0 and 1")
    if result["unit_weights_derivative_one"] != result["unit_weights_positive_inputs"]:
        failures.append(
            f"1.1.1: with every weight 1, f' = 1 in {result['unit_weights_derivative_one']} cases, "
            f"x > 0 in {result['unit_weights_positive_inputs']}"
        )
    if not result["max_relative_error_vs_closed_form"] <= TOLERANCE:
        failures.append(f"1.1.2: autograd differs from the closed form by {result['max_relative_error_vs_closed_form']:.3g}")
    return failures


# ------------------------------------------------------------------------- 1.2.1


def trajectory(W: torch.Tensor, x: torch.Tensor, steps: int) -> torch.Tensor:
    """x_2 .. x_{1+steps} from x_1 under x_{t+1} = sigmoid(W x_t), batched: W (S, d, d), x (S, d) -> (S, steps, d)."""
    states = []
    for _ in range(steps):
        x = torch.sigmoid((W @ x[..., None])[..., 0])
        states.append(x)
    return torch.stack(states, dim=1)


def jacobians(W: torch.Tensor, x: torch.Tensor, last_n: int) -> torch.Tensor:
    """dx_n/dx_1 for n = 2..last_n and a batch of (W, x_1): (S, last_n - 1, d, d), by autograd.

    `torch.autograd.functional.jacobian` of the trajectory summed over the batch: the
    samples are independent, so d(sum_s x_n[s])/dx_1[s] is sample s's own Jacobian, and
    one call gives all of them with (last_n - 1) * d backward passes. (torch.func.jacrev
    under vmap computes the same, but its first call imports torch._dynamo: seconds.)
    """
    summed = torch.autograd.functional.jacobian(lambda x1: trajectory(W, x1, last_n - 1).sum(dim=0), x)
    return summed.permute(2, 0, 1, 3)  # (steps, d, S, d) -> (S, steps, d, d)


def jacobians_closed_form(W: torch.Tensor, x: torch.Tensor, last_n: int) -> torch.Tensor:
    """The same from dx_n/dx_1 = prod_t diag(s_t (1 - s_t)) W, multiplied out explicitly."""
    product = torch.eye(W.shape[-1], dtype=W.dtype).expand_as(W)
    products = []
    for _ in range(last_n - 1):
        s = torch.sigmoid(W @ x[..., None])[..., 0]
        product = (s * (1 - s))[..., None] * W @ product
        products.append(product)
        x = s
    return torch.stack(products, dim=1)


def spectral_norm(matrices: torch.Tensor) -> torch.Tensor:
    return torch.linalg.matrix_norm(matrices, ord=2)


def random_weights(samples: int, dim: int, sigma_max: float, generator: torch.Generator) -> torch.Tensor:
    """Gaussian W rescaled so that sigma_max(W) = `sigma_max`."""
    W = torch.randn(samples, dim, dim, generator=generator, dtype=DTYPE)
    return W * (sigma_max / spectral_norm(W))[:, None, None]


def orthogonal_weights(samples: int, dim: int, scale: float, generator: torch.Generator) -> torch.Tensor:
    """`scale` times a random orthogonal matrix (every singular value = `scale`)."""
    Q, R = torch.linalg.qr(torch.randn(samples, dim, dim, generator=generator, dtype=DTYPE))
    return scale * Q * torch.sign(torch.diagonal(R, dim1=-2, dim2=-1))[:, None, :]


def sigmoid_jacobian_check(steps: list[int], dim: int, samples: int, seed: int) -> tuple[dict, pd.DataFrame]:
    """sigma_max(dx_n/dx_1) for n in `steps`, against (1/16)^(n-1); one row per n."""
    generator = torch.Generator().manual_seed(seed)
    families = {
        "random": random_weights(samples, dim, 0.25, generator),
        "orthogonal_quarter": orthogonal_weights(samples, dim, 0.25, generator),
        "orthogonal_half": orthogonal_weights(samples, dim, 0.5, generator),
    }
    x = torch.randn(samples, dim, generator=generator, dtype=DTYPE)
    bounds = torch.tensor([(1 / 16) ** (n - 1) for n in range(2, steps[-1] + 1)], dtype=DTYPE)
    norms, closed_form_gap = {}, 0.0
    for name, W in families.items():
        J = jacobians(W, x, steps[-1])
        gap = (J - jacobians_closed_form(W, x, steps[-1])).abs().amax(dim=(2, 3)) / bounds
        closed_form_gap = max(closed_form_gap, float(gap.max()))
        norms[name] = spectral_norm(J)  # (S, last_n - 1)
    rows = []
    for n in steps:
        bound = (1 / 16) ** (n - 1)
        at = {name: values[:, n - 2] for name, values in norms.items()}
        rows.append(
            {
                "n": n,
                "bound": bound,
                "random_max": float(at["random"].max()),
                "random_median": float(at["random"].median()),
                "random_max_ratio": float(at["random"].max()) / bound,
                "orthogonal_quarter_max": float(at["orthogonal_quarter"].max()),
                "orthogonal_quarter_max_ratio": float(at["orthogonal_quarter"].max()) / bound,
                "orthogonal_half_min": float(at["orthogonal_half"].min()),
                "orthogonal_half_min_ratio": float(at["orthogonal_half"].min()) / bound,
                "bound_sigma_half": (1 / 8) ** (n - 1),
                "orthogonal_half_max_ratio_to_own_bound": float(at["orthogonal_half"].max()) / (1 / 8) ** (n - 1),
            }
        )
    table = pd.DataFrame(rows)
    W = families["random"]
    summary = {
        "dim": dim,
        "samples": samples,
        "first_n": steps[0],
        "last_n": steps[-1],
        "sigma_max_of_W_max_deviation": float((spectral_norm(W) - 0.25).abs().max()),
        "random_max_ratio": float(table["random_max_ratio"].max()),  # <= 1: the bound holds
        "orthogonal_quarter_max_ratio": float(table["orthogonal_quarter_max_ratio"].max()),  # <= 1, close to it
        "orthogonal_half_min_ratio": float(table["orthogonal_half_min_ratio"].min()),  # > 1: bound needs sigma_max <= 1/4
        "orthogonal_half_max_ratio_to_own_bound": float(table["orthogonal_half_max_ratio_to_own_bound"].max()),
        "max_error_vs_closed_form_over_bound": closed_form_gap,
    }
    return summary, table


def sigmoid_jacobian_failures(summary: dict) -> list[str]:
    failures = []
    for key in ("random_max_ratio", "orthogonal_quarter_max_ratio", "orthogonal_half_max_ratio_to_own_bound"):
        if not summary[key] <= 1 + 1e-9:  # NaN fails too
            failures.append(f"1.2.1: {key} = {summary[key]:.6g} > 1: the bound is violated")
    if not summary["max_error_vs_closed_form_over_bound"] <= 1e-9:
        failures.append(
            f"1.2.1: autograd differs from prod diag(sigmoid') W by {summary['max_error_vs_closed_form_over_bound']:.3g} x bound"
        )
    return failures
