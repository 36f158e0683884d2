"""The hand-written cells against torch's own, with the weights mapped across."""

from __future__ import annotations

import pytest
import torch

from pipeline.translators.models.cells import GRUCell, LSTMCell, recurrent_weight_count

D, H, B = 5, 7, 4


def _inputs(seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(B, D, generator=generator, requires_grad=True)
    h = torch.randn(B, H, generator=generator, requires_grad=True)
    return x, h


def _gradients(output: torch.Tensor, *tensors: torch.Tensor) -> list[torch.Tensor]:
    weights = torch.linspace(-1, 1, output.numel()).reshape(output.shape)  # a loss that mixes every output
    return list(torch.autograd.grad((output * weights).sum(), tensors))


def _torch_gru_with_diagonal_w_hn(seed: int = 1) -> torch.nn.GRUCell:
    """A torch GRU cell whose W_hn is diagonal and b_hn zero: there r * (W_hn h) == W_hn (r * h)."""
    torch.manual_seed(seed)
    reference = torch.nn.GRUCell(D, H)
    with torch.no_grad():
        w_hn = reference.weight_hh[2 * H :]
        w_hn.copy_(torch.diag(torch.randn(H)))
        reference.bias_hh[2 * H :].zero_()
    return reference


def _mapped_gru(reference: torch.nn.GRUCell) -> GRUCell:
    """torch orders gates [r | z | n] and keeps the old state with z; ours [z | r | n], z takes the candidate."""
    cell = GRUCell(D, H)
    w_ir, w_iz, w_in = reference.weight_ih.chunk(3)
    w_hr, w_hz, w_hn = reference.weight_hh.chunk(3)
    b_ir, b_iz, b_in = reference.bias_ih.chunk(3)
    b_hr, b_hz, _ = reference.bias_hh.chunk(3)
    with torch.no_grad():
        # Our z is torch's 1 - z = sigmoid(-(...)): negate the z rows and biases.
        cell.input.weight.copy_(torch.cat([-w_iz, w_ir, w_in]))
        cell.input.bias.copy_(torch.cat([-(b_iz + b_hz), b_ir + b_hr, b_in]))
        cell.hidden_gates.copy_(torch.cat([-w_hz, w_hr]).T)  # ours multiply h @ W
        cell.hidden_candidate.copy_(w_hn.T)
    return cell


def test_gru_matches_torch_where_the_conventions_coincide():
    reference = _torch_gru_with_diagonal_w_hn()
    cell = _mapped_gru(reference)
    x, h = _inputs()
    ours = cell(x, (h,))[0]
    theirs = reference(x, h)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)
    # Gradients of the inputs, and of W_hn against torch's n-block of weight_hh.
    *ours_inputs, ours_w_hn = _gradients(ours, x, h, cell.hidden_candidate)
    *theirs_inputs, theirs_w_hh = _gradients(theirs, x, h, reference.weight_hh)
    for g_ours, g_theirs in zip(ours_inputs, theirs_inputs):
        torch.testing.assert_close(g_ours, g_theirs, rtol=1e-5, atol=1e-6)
    # Only the diagonal of W_hn is shared between the conventions (off it, d/dW of W (r*h) and r*(W h) differ).
    torch.testing.assert_close(torch.diagonal(ours_w_hn), torch.diagonal(theirs_w_hh[2 * H :]), rtol=1e-5, atol=1e-6)


def test_gru_reset_gate_acts_before_the_projection():
    """With a full W_hn the handout's candidate tanh(W_in x + b + W_hn (r * h)) differs from torch's."""
    torch.manual_seed(2)
    reference = torch.nn.GRUCell(D, H)
    with torch.no_grad():
        reference.bias_hh[2 * H :].zero_()
    cell = _mapped_gru(reference)
    x, h = _inputs(3)
    # The handout's equations, written out independently.
    w_ir, w_iz, w_in = reference.weight_ih.chunk(3)
    w_hr, w_hz, w_hn = reference.weight_hh.chunk(3)
    b_ir, b_iz, b_in = reference.bias_ih.chunk(3)
    b_hr, b_hz, _ = reference.bias_hh.chunk(3)
    z_torch = torch.sigmoid(x @ w_iz.T + b_iz + h @ w_hz.T + b_hz)
    r = torch.sigmoid(x @ w_ir.T + b_ir + h @ w_hr.T + b_hr)
    candidate = torch.tanh(x @ w_in.T + b_in + (r * h) @ w_hn.T)
    expected = z_torch * h + (1 - z_torch) * candidate  # our z is 1 - z_torch
    ours = cell(x, (h,))[0]
    torch.testing.assert_close(ours, expected, rtol=1e-5, atol=1e-6)
    assert (ours - reference(x, h)).abs().max() > 1e-3  # the two conventions really differ


def test_lstm_matches_torch():
    torch.manual_seed(4)
    reference = torch.nn.LSTMCell(D, H)
    cell = LSTMCell(D, H)
    with torch.no_grad():  # same gate order [i | f | g | o]; torch's two biases add up
        cell.input.weight.copy_(reference.weight_ih)
        cell.input.bias.copy_(reference.bias_ih + reference.bias_hh)
        cell.hidden.copy_(reference.weight_hh.T)
    x, h = _inputs(5)
    c = torch.randn(B, H, requires_grad=True)
    ours_h, ours_c = cell(x, (h, c))
    theirs_h, theirs_c = reference(x, (h, c))
    torch.testing.assert_close(ours_h, theirs_h, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(ours_c, theirs_c, rtol=1e-5, atol=1e-6)
    for g_ours, g_theirs in zip(_gradients(ours_h + ours_c, x, h, c), _gradients(theirs_h + theirs_c, x, h, c)):
        torch.testing.assert_close(g_ours, g_theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("cell_class", "gates"), [(GRUCell, 3), (LSTMCell, 4)])
def test_weight_counts_follow_the_handout_formulas(cell_class, gates):
    # GRU: 3H(D + H), LSTM: 4H(D + H), biases excluded.
    assert recurrent_weight_count(cell_class(D, H)) == gates * H * (D + H)


def test_project_then_step_equals_forward():
    cell = LSTMCell(D, H)
    x, h = _inputs(6)
    c = torch.zeros(B, H)
    torch.testing.assert_close(cell.step(cell.project_input(x), (h, c))[0], cell(x, (h, c))[0])


def test_lstm_forget_gate_starts_at_forget_bias():
    cell = LSTMCell(D, H, forget_bias=1.5)
    with torch.no_grad():  # leave only the biases: i = o = sigmoid(b), g = tanh(b), f = sigmoid(1.5)
        cell.input.weight.zero_()
        cell.hidden.zero_()
        cell.input.bias[:H].zero_()
        cell.input.bias[2 * H :].zero_()
    x, h = _inputs(7)
    c = torch.randn(B, H)
    _, new_c = cell(x, (h, c))
    # f * c + i * g with g = tanh(0) = 0: the cell carries sigmoid(1.5) of its memory.
    torch.testing.assert_close(new_c, torch.sigmoid(torch.tensor(1.5)) * c)
    assert torch.equal(LSTMCell(D, H).input.bias[H : 2 * H], torch.ones(H))  # the default: 1
