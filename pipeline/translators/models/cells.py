"""GRU and LSTM cells written from the assignment's equations.

Both split one step into two parts so that sequence loops stay lean: `project_input`
maps the inputs of *every* time step at once (one matmul over (B, T, D)), and `step`
does the per-step work on the hidden state only. `forward(x, state)` is one whole step,
the usual cell interface.

A cell's state is a tuple: `(h,)` for the GRU, `(h, c)` for the LSTM, so the encoder
and decoders handle both alike; `state[0]` is always the output h.

GRU, the 2022 handout's convention:

    z  = sigmoid(W_iz x + W_hz h + b_z)            update gate
    r  = sigmoid(W_ir x + W_hr h + b_r)            reset gate
    h~ = tanh(W_in x + b_n + W_hn (r * h))         the reset gate acts *before* W_hn
    h' = (1 - z) * h + z * h~

`torch.nn.GRUCell` differs in two ways: its z keeps the old state (h' = (1 - z) * h~ + z * h),
and its reset gate acts *after* the projection, r * (W_hn h + b_hn). The tests map weights
across where the two coincide.

LSTM, the same as `torch.nn.LSTMCell` (gate order i, f, g, o):

    i, f, o = sigmoid(W_i. x + W_h. h + b_.),  g = tanh(W_ig x + W_hg h + b_g)
    c' = f * c + i * g,  h' = o * tanh(c')

Initialisation as torch's cells, U(-1/sqrt(H), 1/sqrt(H)), with one exception: the LSTM's
forget-gate bias starts at `forget_bias` (1 by default, Gers et al. 2000; Jozefowicz et al.
2015), so the cell keeps its memory from the first step instead of halving it. Without it both
LSTM runs of this study ended above their published ranges (per-batch validation loss 0.842
and 0.934), still improving at their last epoch; the report shows the runs with it.

The hidden-state weights are stored as (H, gates*H) and applied as `h @ W`: a step then needs
no transposed view, which matters when a step is a handful of small ops.
"""

from __future__ import annotations

import math

import torch
from torch import nn

State = tuple[torch.Tensor, ...]


def _recurrent_weight(hidden_size: int, columns: int) -> nn.Parameter:
    """A (H, columns) hidden-state weight, initialised like torch's RNN cells."""
    bound = 1 / math.sqrt(hidden_size)
    return nn.Parameter(torch.empty(hidden_size, columns).uniform_(-bound, bound))


class GRUCell(nn.Module):
    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.hidden_size = hidden_size
        self.input = nn.Linear(input_size, 3 * hidden_size)  # [z | r | n] rows; holds every bias
        self.hidden_gates = _recurrent_weight(hidden_size, 2 * hidden_size)  # (H, 2H): [z | r] from h
        self.hidden_candidate = _recurrent_weight(hidden_size, hidden_size)  # (H, H): W_hn^T, applied to r * h

    def initial_state(self, batch_size: int, device: torch.device) -> State:
        return (torch.zeros(batch_size, self.hidden_size, device=device),)

    def project_input(self, x: torch.Tensor) -> torch.Tensor:
        return self.input(x)  # (..., 3H)

    def step(self, projected: torch.Tensor, state: State) -> State:
        # Called once per time step in a Python loop, so every op counts: the gate matmul is
        # fused with its add (addmm) and one sigmoid serves both gates.
        (h,) = state  # (B, H)
        x_zr, x_n = projected.split((2 * self.hidden_size, self.hidden_size), dim=-1)  # (B, 2H), (B, H)
        z, r = torch.sigmoid(torch.addmm(x_zr, h, self.hidden_gates)).chunk(2, dim=-1)  # (B, H) each
        candidate = torch.tanh(torch.addmm(x_n, r * h, self.hidden_candidate))  # W_hn (r * h)
        return (torch.lerp(h, candidate, z),)  # (1 - z) * h + z * candidate

    def forward(self, x: torch.Tensor, state: State) -> State:
        return self.step(self.project_input(x), state)


class LSTMCell(nn.Module):
    def __init__(self, input_size: int, hidden_size: int, forget_bias: float = 1.0):
        super().__init__()
        self.hidden_size = hidden_size
        self.input = nn.Linear(input_size, 4 * hidden_size)  # [i | f | g | o] rows; holds every bias
        self.hidden = _recurrent_weight(hidden_size, 4 * hidden_size)  # (H, 4H)
        with torch.no_grad():
            self.input.bias[hidden_size : 2 * hidden_size].fill_(forget_bias)

    def initial_state(self, batch_size: int, device: torch.device) -> State:
        zeros = torch.zeros(batch_size, self.hidden_size, device=device)
        return (zeros, zeros)

    def project_input(self, x: torch.Tensor) -> torch.Tensor:
        return self.input(x)  # (..., 4H)

    def step(self, projected: torch.Tensor, state: State) -> State:
        h, c = state  # (B, H) each
        gates = torch.addmm(projected, h, self.hidden)  # (B, 4H)
        i, f, g, o = gates.chunk(4, dim=-1)
        c = torch.addcmul(torch.sigmoid(f) * c, torch.sigmoid(i), torch.tanh(g))  # f * c + i * g
        h = torch.sigmoid(o) * torch.tanh(c)
        return (h, c)

    def forward(self, x: torch.Tensor, state: State) -> State:
        return self.step(self.project_input(x), state)


CELLS: dict[str, type[nn.Module]] = {"gru": GRUCell, "lstm": LSTMCell}


def recurrent_weight_count(cell: nn.Module) -> int:
    """Weights of a cell without its biases: what the handout's formulas count."""
    return sum(p.numel() for name, p in cell.named_parameters() if not name.endswith("bias"))
