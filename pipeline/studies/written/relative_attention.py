"""Questions 1.3.1 and 1.3.2: what one relative-attention layer can compute.

The layer (`RelAttnLayer`), as in the handout: for a sequence x_1..x_T of d_model-vectors,

    alpha_ij = (x_i W_Q) . (x_j W_K) / sqrt(d_k) + p_{i-j},   y_i = sum_j softmax_j(alpha_i)_j (x_j W_V),

with one learned scalar p_r per relative offset r = i - j.

1.3.1, Conv1D with a kernel w = [w_0, ..., w_{K-1}] (K = 2r+1; the question's [2, 0, 1]).
`F.conv1d` (a cross-correlation, padding r) computes y_i = sum_m w_m x_{i+m-r}: token
j = i + m - r, at offset i - j = r - m, gets weight w_m. Construction:
W_Q = W_K = 0 (the scores are p alone, the same for every input), p_{r-m} = log w_m where
w_m > 0 and p = -inf at every other offset (w_m = 0 included), W_V = (sum_m w_m) I.
The softmax weights are then exactly w_m / sum(w) on the kernel's taps and 0 elsewhere,
and W_V undoes the normalisation, so every interior output (i = r .. T-1-r) equals
`F.conv1d` to float rounding. It needs w_m >= 0: a softmax head mixes with weights >= 0.
At the r first and last positions the softmax renormalises over the taps inside the
sequence while `F.conv1d` pads with zeros; prepending and appending r zero tokens makes
every output match. With a finite penalty p = -C instead of -inf (real-valued p) the
layer is only approximate: for a row with m off-kernel positions,
y_i - conv_i = e^{-C} (sum(w) S - m conv_i) / (sum(w) + m e^{-C}) with S the sum of the
off-kernel inputs, so |y_i - conv_i| <= 2 m max|x| e^{-C} (`conv_check` measures both).

1.3.2, max-pooling over the window i-k .. i+k of a scalar sequence (d_model = d_k = 1):
W_Q = W_K = sqrt(C), W_V = 1, p = 0 at offsets |i-j| <= k and -inf outside. The scores
are C x_i x_j, so for x_i > 0 the softmax over the window concentrates on the largest
x_j as C grows. With M_i the window max and beta = C x_i, each weight is at most
e^{-beta (M_i - x_j)}, hence M_i - y_i = sum_j w_j (M_i - x_j) <= 2k max_t t e^{-beta t}
= 2k / (e C x_i). If x_i = 0 every score is 0 and the layer returns the window MEAN;
if x_i < 0 it concentrates on the window minimum instead (`maxpool_check` reports both).
"""

from __future__ import annotations

import math

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

DTYPE = torch.float64
TOLERANCE = 1e-12  # float64 rounding, relative to max |x|


class RelAttnLayer(nn.Module):
    """One head of relative attention: scores Q_i K_j / sqrt(d_k) + p_{i-j}, softmax over j, times V.

    `p[r + max_len - 1]` is the bias of offset r = i - j (r in -(max_len-1) .. max_len-1).
    Input (..., T, d_model) with T <= max_len; output (..., T, d_model).
    """

    def __init__(self, d_model: int, d_k: int, max_len: int, dtype: torch.dtype = DTYPE):
        super().__init__()
        self.d_k, self.max_len = d_k, max_len
        self.W_Q = nn.Parameter(torch.zeros(d_model, d_k, dtype=dtype))
        self.W_K = nn.Parameter(torch.zeros(d_model, d_k, dtype=dtype))
        self.W_V = nn.Parameter(torch.zeros(d_model, d_model, dtype=dtype))
        self.p = nn.Parameter(torch.zeros(2 * max_len - 1, dtype=dtype))

    def offset_bias(self, length: int) -> torch.Tensor:
        """(T, T): p_{i-j}."""
        position = torch.arange(length)
        return self.p[position[:, None] - position[None, :] + self.max_len - 1]

    def scores(self, x: torch.Tensor) -> torch.Tensor:
        q, k = x @ self.W_Q, x @ self.W_K
        return q @ k.transpose(-1, -2) / math.sqrt(self.d_k) + self.offset_bias(x.shape[-2])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2] > self.max_len:
            raise ValueError(f"sequence of {x.shape[-2]} tokens, the layer has offsets for {self.max_len}")
        return torch.softmax(self.scores(x), dim=-1) @ (x @ self.W_V)

    def set_offset(self, offset: int, value: float) -> None:
        with torch.no_grad():
            self.p[offset + self.max_len - 1] = value


# ------------------------------------------------------------------------- 1.3.1


def conv_layer(kernel: list[float], channels: int, max_len: int, penalty: float | None = None) -> RelAttnLayer:
    """The layer computing F.conv1d with `kernel` on each channel (see the module docstring).

    `penalty` None: p = -inf off the kernel (exact); a number C: p = -C there (approximate).
    """
    radius = (len(kernel) - 1) // 2
    layer = RelAttnLayer(channels, 1, max_len)
    with torch.no_grad():
        layer.p.fill_(-math.inf if penalty is None else -penalty)
        layer.W_V.copy_(sum(kernel) * torch.eye(channels, dtype=layer.W_V.dtype))
    for m, weight in enumerate(kernel):
        if weight > 0:
            layer.set_offset(radius - m, math.log(weight))  # token j = i + m - radius
    return layer


def conv_reference(x: torch.Tensor, kernel: list[float]) -> torch.Tensor:
    """F.conv1d of every channel of x (S, T, d) with `kernel`, zero padding: (S, T, d)."""
    channels = x.shape[-1]
    weight = torch.tensor(kernel, dtype=x.dtype).view(1, 1, -1).repeat(channels, 1, 1)
    return F.conv1d(x.transpose(1, 2), weight, padding=(len(kernel) - 1) // 2, groups=channels).transpose(1, 2)


def conv_check(kernel: list[float], length: int, channels: int, samples: int, scales: list[float], seed: int) -> tuple[dict, pd.DataFrame]:
    """The exact construction against F.conv1d, and the finite-penalty one's error against its bound, per C."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(samples, length, channels, generator=generator, dtype=DTYPE)
    radius = (len(kernel) - 1) // 2
    interior = slice(radius, length - radius)
    reference = conv_reference(x, kernel)
    largest = x.abs().amax(dim=(1, 2))  # max |x| per sample

    exact = conv_layer(kernel, channels, length + 2 * radius)
    with torch.no_grad():
        y = exact(x)
        padded = exact(F.pad(x, (0, 0, radius, radius)))[:, radius : radius + length]
    error = (y - reference).abs()
    boundary = torch.cat([error[:, :radius], error[:, length - radius :]], dim=1) if radius else error[:, :0]
    boundary = boundary[boundary.isfinite()]  # NaN: a row with no tap inside the sequence (softmax over nothing)

    off_kernel = length - sum(1 for w in kernel if w > 0)  # m: positions of an interior row outside the taps
    rows = []
    for scale in scales:
        with torch.no_grad():
            approximate = conv_layer(kernel, channels, length, penalty=scale)(x)
        gap = (approximate - reference)[:, interior].abs().amax(dim=(1, 2))
        bound = 2 * off_kernel * largest * math.exp(-scale)
        allowed = bound + TOLERANCE * largest  # plus float rounding: the exact layer's own error
        rows.append(
            {
                "scale": scale,
                "max_error": float(gap.max()),
                "bound": float(bound.max()),  # the largest per-sample bound
                "max_ratio": float((gap / allowed).max()),  # error / (bound + rounding allowance) <= 1
                "violations": int((~(gap <= allowed)).sum()),  # NaN counts as a violation
            }
        )
    table = pd.DataFrame(rows)
    summary = {
        "kernel": list(kernel),
        "length": length,
        "channels": channels,
        "samples": samples,
        "interior_positions": length - 2 * radius,
        "exact_max_error_interior": float(error[:, interior].max()),
        "exact_max_relative_error_interior": float((error[:, interior].amax(dim=(1, 2)) / largest).max()),
        "exact_max_error_boundary": float(boundary.max()) if boundary.numel() else 0.0,  # renormalised vs zero padded
        "exact_max_error_zero_padded": float((padded - reference).abs().max()),
        "off_kernel_positions": off_kernel,
        "penalty_violations": int(table["violations"].sum()),
        "penalty_max_error_at_largest_scale": float(table["max_error"].iloc[-1]),
    }
    return summary, table


def conv_failures(summary: dict) -> list[str]:
    failures = []
    if not summary["exact_max_relative_error_interior"] <= TOLERANCE:  # NaN fails too
        failures.append(f"1.3.1: interior outputs differ from F.conv1d by {summary['exact_max_relative_error_interior']:.3g} (relative)")
    if not summary["exact_max_error_zero_padded"] <= TOLERANCE * 10:
        failures.append(f"1.3.1: with zero tokens padded the outputs differ from F.conv1d by {summary['exact_max_error_zero_padded']:.3g}")
    if summary["penalty_violations"]:
        failures.append(f"1.3.1: the finite-penalty error exceeds 2 m max|x| e^-C in {summary['penalty_violations']} cases")
    return failures


# ------------------------------------------------------------------------- 1.3.2


def maxpool_layer(k: int, scale: float, max_len: int) -> RelAttnLayer:
    """The layer approximating max-pooling over 2k+1 tokens: W_Q W_K / sqrt(d_k) = C = `scale`."""
    layer = RelAttnLayer(1, 1, max_len)
    with torch.no_grad():
        layer.W_Q.fill_(math.sqrt(scale))
        layer.W_K.fill_(math.sqrt(scale))
        layer.W_V.fill_(1.0)
        offsets = torch.arange(-(max_len - 1), max_len)
        layer.p.copy_(torch.where(offsets.abs() <= k, 0.0, -math.inf).to(layer.p.dtype))
    return layer


def pooled(layer: RelAttnLayer, x: torch.Tensor) -> torch.Tensor:
    """The layer on scalar sequences x (S, T): (S, T)."""
    with torch.no_grad():
        return layer(x[..., None])[..., 0]


def maxpool_reference(x: torch.Tensor, k: int) -> torch.Tensor:
    """Max over the window i-k .. i+k (truncated at the ends): F.max_pool1d pads with -inf."""
    return F.max_pool1d(x[:, None, :], kernel_size=2 * k + 1, stride=1, padding=k)[:, 0, :]


def window(x: torch.Tensor, i: int, k: int) -> torch.Tensor:
    return x[max(0, i - k) : i + k + 1]


def maxpool_check(k: int, length: int, samples: int, scales: list[float], seed: int) -> tuple[dict, pd.DataFrame]:
    """Error of the layer against F.max_pool1d for positive inputs, per C, against 2k / (e C x_i)."""
    generator = torch.Generator().manual_seed(seed)
    x = 1 - torch.rand(samples, length, generator=generator, dtype=DTYPE)  # uniform in (0, 1]: positive
    reference = maxpool_reference(x, k)
    rows = []
    for scale in scales:
        error = reference - pooled(maxpool_layer(k, scale, length), x)  # >= 0: a convex combination of the window
        bound = 2 * k / (math.e * scale * x)
        rows.append(
            {
                "scale": scale,
                "max_error": float(error.max()),
                "mean_error": float(error.mean()),
                "max_scaled_error": float((error * x).max()),  # (max - y_i) x_i <= 2k / (e C)
                "scaled_bound": 2 * k / (math.e * scale),
                "max_ratio": float((error / bound).max()),
                "min_error": float(error.min()),  # y_i never exceeds the window max
                "violations": int((~(error <= bound * (1 + 1e-9))).sum()),  # NaN counts
            }
        )
    table = pd.DataFrame(rows)

    # The special inputs of the answer, at the largest C: x_i = 0 and x_i < 0 at the centre.
    largest = scales[-1]
    layer = maxpool_layer(k, largest, length)
    centre = length // 2
    zero = x[0].clone()
    zero[centre] = 0.0
    negative = x[0].clone()
    negative[centre] = -0.5
    zero_out = float(pooled(layer, zero[None])[0, centre])
    negative_out = float(pooled(layer, negative[None])[0, centre])
    summary = {
        "k": k,
        "window": 2 * k + 1,
        "length": length,
        "samples": samples,
        "largest_scale": largest,
        "violations": int(table["violations"].sum()),
        "max_ratio": float(table["max_ratio"].max()),
        "max_error_at_largest_scale": float(table["max_error"].iloc[-1]),
        "min_error": float(table["min_error"].min()),
        "zero_centre_output": zero_out,
        "zero_centre_window_mean": float(window(zero, centre, k).mean()),
        "zero_centre_window_max": float(window(zero, centre, k).max()),
        "negative_centre_value": -0.5,
        "negative_centre_output": negative_out,
        "negative_centre_window_min": float(window(negative, centre, k).min()),
        "negative_centre_window_max": float(window(negative, centre, k).max()),
    }
    return summary, table


def maxpool_failures(summary: dict) -> list[str]:
    failures = []
    if summary["violations"]:
        failures.append(f"1.3.2: max - y_i exceeds 2k / (e C x_i) in {summary['violations']} cases (max ratio {summary['max_ratio']:.4g})")
    if not summary["min_error"] >= -TOLERANCE:
        failures.append(f"1.3.2: an output exceeds its window max by {-summary['min_error']:.3g}")
    if not abs(summary["zero_centre_output"] - summary["zero_centre_window_mean"]) <= TOLERANCE:
        failures.append(
            f"1.3.2: with x_i = 0 the output {summary['zero_centre_output']:.6g} is not the window mean {summary['zero_centre_window_mean']:.6g}"
        )
    return failures
