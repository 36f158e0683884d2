"""Parameter counts asked by earlier versions of the assignment, counted on torch modules.

Recurrent encoders without biases and without the embedding, input size D, state size H:
a GRU has 3 gates (reset, update, candidate), each a D x H input and an H x H recurrent
matrix: 3H(D + H); an LSTM has 4 (input, forget, cell, output): 4H(D + H). Checked on
`nn.GRU`/`nn.LSTM(bias=False)` and on the recurrent-translator study's own cells
(`pipeline/studies/recurrent/cells.py`, biases left out of the count).

The sister course's question: a V-token vocabulary embedded in E dimensions, sequences
of L tokens, binary classification (one logit), the embedding not counted.
- MLP on the flattened embedded sequence, two hidden layers of H (biases included):
  LE*H + H, H*H + H, H + 1, i.e. H(LE + H + 3) + 1: it grows with L.
- RNN (`nn.RNN(E, H)`, torch's two bias vectors b_ih and b_hh) + a linear head on the
  last state: H(E + H) + 2H, H + 1, i.e. H(E + H + 3) + 1: the same for every L (one
  module reads sequences of any length; `classifier_counts` runs it on each).
"""

from __future__ import annotations

import pandas as pd
import torch
from torch import nn

from pipeline.studies.recurrent.cells import GRUCell, LSTMCell, recurrent_weight_count


def count(module: nn.Module) -> int:
    return sum(parameter.numel() for parameter in module.parameters())


def encoder_counts(sizes: list[list[int]]) -> pd.DataFrame:
    """One row per (D, H): the modules' counts beside 3H(D + H) and 4H(D + H)."""
    rows = []
    for d, h in sizes:
        rows.append({
            "D": d,
            "H": h,
            "gru": count(nn.GRU(d, h, bias=False)),
            "gru_formula": 3 * h * (d + h),
            "gru_cell": recurrent_weight_count(GRUCell(d, h)),
            "lstm": count(nn.LSTM(d, h, bias=False)),
            "lstm_formula": 4 * h * (d + h),
            "lstm_cell": recurrent_weight_count(LSTMCell(d, h)),
        })
    return pd.DataFrame(rows)


def mlp_classifier(length: int, embedding: int, hidden: int) -> nn.Module:
    """Two hidden layers of `hidden` on the flattened (length x embedding) input, one logit."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(length * embedding, hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Linear(hidden, 1),
    )


class RnnClassifier(nn.Module):
    """nn.RNN over the embedded tokens, a linear head on the last hidden state: one logit."""

    def __init__(self, embedding: int, hidden: int):
        super().__init__()
        self.rnn = nn.RNN(embedding, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, embedded: torch.Tensor) -> torch.Tensor:
        _, last = self.rnn(embedded)
        return self.head(last[-1])


def classifier_counts(vocab: int, embedding: int, hidden: int, lengths: list[int], seed: int) -> tuple[pd.DataFrame, int]:
    """One row per sequence length: MLP and RNN counts beside their formulas, each run once
    on a batch of two embedded sequences. Returns the table and the (uncounted) embedding size."""
    generator = torch.Generator().manual_seed(seed)
    embed = nn.Embedding(vocab, embedding)
    rnn = RnnClassifier(embedding, hidden)  # one module for every length
    rows = []
    for length in lengths:
        mlp = mlp_classifier(length, embedding, hidden)
        with torch.no_grad():
            tokens = torch.randint(vocab, (2, length), generator=generator)
            logits = {"mlp": mlp(embed(tokens)), "rnn": rnn(embed(tokens))}
        rows.append({
            "L": length,
            "mlp": count(mlp),
            "mlp_formula": hidden * (length * embedding + hidden + 3) + 1,
            "rnn": count(rnn),
            "rnn_formula": hidden * (embedding + hidden + 3) + 1,
            "mlp_over_rnn": count(mlp) / count(rnn),
            "output_shape_ok": all(tuple(v.shape) == (2, 1) for v in logits.values()),
        })
    return pd.DataFrame(rows), count(embed)


def counts_failures(encoders: pd.DataFrame, classifiers: pd.DataFrame) -> list[str]:
    failures = []
    for row in encoders.itertuples():
        if (row.gru, row.gru_cell, row.lstm, row.lstm_cell) != (row.gru_formula, row.gru_formula, row.lstm_formula, row.lstm_formula):
            failures.append(
                f"counts: D={row.D}, H={row.H}: GRU {row.gru} / GRUCell {row.gru_cell} vs 3H(D+H) {row.gru_formula}, "
                f"LSTM {row.lstm} / LSTMCell {row.lstm_cell} vs 4H(D+H) {row.lstm_formula}"
            )
    for row in classifiers.itertuples():
        if (row.mlp, row.rnn) != (row.mlp_formula, row.rnn_formula) or not row.output_shape_ok:
            failures.append(f"counts: L={row.L}: MLP {row.mlp} vs {row.mlp_formula}, RNN {row.rnn} vs {row.rnn_formula}")
    return failures
