"""Parameter counts asked by earlier versions of the assignment, counted on torch modules.

Recurrent encoders without biases and without the embedding (A22-P1.3), input size D,
state size H: a GRU has 3 gates (reset, update, candidate), each a D x H input and an
H x H recurrent matrix: 3H(D + H); an LSTM has 4 (input, forget, cell, output):
4H(D + H). V and K do not enter. Checked on `nn.GRU`/`nn.LSTM(bias=False)` and on the
recurrent-translator study's own cells (`pipeline/translators/models/cells.py`, biases
left out of the count).

The sister course's MLP-versus-RNN question (HW3-3.1): a V-token vocabulary embedded in E
dimensions, sentences of L tokens, a binary decision. It leaves open whether the
embedding table counts, how many layers the RNN has ("like the one used above": Q1.2's
has 2) and whether the output has 1 or 2 units, so `classifier_counts` counts every
reading on torch modules:

- MLP on the flattened L x E sentence, two hidden layers of H, o output units:
  LE H + H, H^2 + H, o(H + 1), i.e. H(LE + H + 2) + o(H + 1): it grows with L;
- `nn.RNN(E, H, num_layers=n)` and `Linear(H, o)` on the last state:
  H(E + H) + (n - 1) 2H^2 + b n H + o(H + 1), the same for every L. Torch stores two bias
  vectors per layer (b_ih, b_hh: b = 2); they only ever act as their sum, so a textbook
  cell has one (b = 1, counted as torch's parameters less `bias_hh_l*`);
- each with or without the V x E embedding table.
"""

from __future__ import annotations

import pandas as pd
import torch
from torch import nn

from pipeline.studies.written.readings import reading
from pipeline.translators.models.cells import GRUCell, LSTMCell, recurrent_weight_count

BIASES = {"torch": 2, "one per layer": 1}  # bias vectors counted per RNN layer (see the module docstring)


def count(module: nn.Module, leave_out: str | None = None) -> int:
    """Parameters of `module`, less those whose name contains `leave_out`."""
    return sum(p.numel() for name, p in module.named_parameters() if leave_out is None or leave_out not in name)


def encoder_counts(sizes: list[list[int]]) -> pd.DataFrame:
    """One row per (D, H): the modules' counts beside 3H(D + H) and 4H(D + H)."""
    rows = []
    for d, h in sizes:
        rows.append(
            {
                "D": d,
                "H": h,
                "gru": count(nn.GRU(d, h, bias=False)),
                "gru_formula": 3 * h * (d + h),
                "gru_cell": recurrent_weight_count(GRUCell(d, h)),
                "lstm": count(nn.LSTM(d, h, bias=False)),
                "lstm_formula": 4 * h * (d + h),
                "lstm_cell": recurrent_weight_count(LSTMCell(d, h)),
            }
        )
    return pd.DataFrame(rows)


def mlp_classifier(length: int, embedding: int, hidden: int, logits: int) -> nn.Module:
    """Two hidden layers of `hidden` on the flattened (length x embedding) input."""
    return nn.Sequential(
        nn.Flatten(), nn.Linear(length * embedding, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, logits)
    )


class RnnClassifier(nn.Module):
    """nn.RNN over the embedded tokens, a linear head on the top layer's last state."""

    def __init__(self, embedding: int, hidden: int, layers: int, logits: int):
        super().__init__()
        self.rnn = nn.RNN(embedding, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, logits)

    def forward(self, embedded: torch.Tensor) -> torch.Tensor:
        _, last = self.rnn(embedded)  # (layers, B, H)
        return self.head(last[-1])  # (B, logits)


def mlp_formula(length: int, embedding: int, hidden: int, logits: int) -> int:
    return hidden * (length * embedding + hidden + 2) + logits * (hidden + 1)


def rnn_formula(embedding: int, hidden: int, layers: int, biases: int, logits: int) -> int:
    return hidden * (embedding + hidden) + (layers - 1) * 2 * hidden**2 + biases * layers * hidden + logits * (hidden + 1)


def classifier_counts(
    vocab: int, embedding: int, hidden: int, lengths: list[int], layers: list[int], logits: list[int], seed: int
) -> tuple[pd.DataFrame, int]:
    """One row per reading (network, L, RNN layers, biases, logits): the module's count beside its
    formula; each module ran once on two embedded sentences. Returns the table and the
    embedding table's size (V x E), added in `with_embedding`."""
    generator = torch.Generator().manual_seed(seed)
    embed = nn.Embedding(vocab, embedding)
    rows = []
    for length in lengths:
        tokens = torch.randint(vocab, (2, length), generator=generator)
        with torch.no_grad():
            embedded = embed(tokens)  # (2, L, E)
        for outputs in logits:
            mlp = mlp_classifier(length, embedding, hidden, outputs)
            rows.append(
                {
                    "network": "mlp",
                    "L": length,
                    "layers": 2,
                    "biases": "torch",
                    "logits": outputs,
                    "parameters": count(mlp),
                    "formula": mlp_formula(length, embedding, hidden, outputs),
                    "output_shape_ok": tuple(mlp(embedded).shape) == (2, outputs),
                }
            )
            for depth in layers:
                rnn = RnnClassifier(embedding, hidden, depth, outputs)  # one module reads every length
                shape_ok = tuple(rnn(embedded).shape) == (2, outputs)
                for biases, per_layer in BIASES.items():
                    rows.append(
                        {
                            "network": "rnn",
                            "L": length,
                            "layers": depth,
                            "biases": biases,
                            "logits": outputs,
                            "parameters": count(rnn, leave_out="bias_hh" if per_layer == 1 else None),
                            "formula": rnn_formula(embedding, hidden, depth, per_layer, outputs),
                            "output_shape_ok": shape_ok,
                        }
                    )
    table = pd.DataFrame(rows)
    table["with_embedding"] = table["parameters"] + count(embed)
    return table, count(embed)


def counts_failures(encoders: pd.DataFrame, classifiers: pd.DataFrame) -> list[str]:
    failures = []
    for row in encoders.itertuples():
        if (row.gru, row.gru_cell, row.lstm, row.lstm_cell) != (row.gru_formula, row.gru_formula, row.lstm_formula, row.lstm_formula):
            failures.append(
                f"counts: D={row.D}, H={row.H}: GRU {row.gru} / GRUCell {row.gru_cell} vs 3H(D+H) {row.gru_formula}, "
                f"LSTM {row.lstm} / LSTMCell {row.lstm_cell} vs 4H(D+H) {row.lstm_formula}"
            )
    for row in classifiers.to_dict("records"):
        if row["parameters"] != row["formula"] or not row["output_shape_ok"]:
            failures.append(f"counts: L={row['L']}: {reading(row)}: module {row['parameters']} vs formula {row['formula']}")
    return failures
