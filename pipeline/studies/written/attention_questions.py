"""The recurrent-translator questions of the 2021/2022 handouts, answered on the study's own models.

Units and connections (A21-P1.3, A22-P2.1.4, A21-P2.4). The handouts leave "units" and
"connections" open; the reading chosen here (the report says so):

- a recurrent cell has H units (the state size; an LSTM's H memory cells, each with 4
  gates); unrolled over K steps the network has K H of them, one state vector per step;
- a connection is a multiply-add of a unit's value with a weight: a learned weight or an
  attention weight alpha. Shared weights count once per use, so connections are counted on
  the network unrolled over its K steps (the per-step weights are the parameter count).
  Biases and the embedding are left out, as the questions allow; the output layer is in;
- the decoder cell reads [embedding; context], D + H wide, as the notebooks' (and this
  project's) `RNNAttentionDecoder` does; g = 3 gates for the 2022 GRU, 4 for the 2021 LSTM.

Encoder over K steps: weights g H (D + H); units K H; connections K g H (D + H).

Attention decoder over K target steps and K annotations (`AdditiveAttention`:
score = W_2 ReLU(W_1 [s_{t-1}; h_j] + b_1) + b_2, W_1: 2H -> H, W_2: H -> 1):
weights g H (D + 2H) (cell) + 2H^2 + H (attention) + H V (output); per step the score
MLP reads each of the K concatenated pairs, K (2H^2 + H), the context sums K annotations,
K H, the cell g H (D + 2H) and the output H V: connections
K [g H (D + 2H) + H V] + K^2 (2H^2 + 2H). This project's `AdditiveAttention` computes the
annotation half of W_1 once per word and the query half once per step (the same function,
`W_1 [s; h] = W_s s + W_h h`), so its forward pass makes K [g H (D + 2H) + H V + 2H^2] + 2 K^2 H
multiply-adds: 2 K (K - 1) H^2 fewer.

Both counts are checked on the implemented modules (`RNNEncoder`, `AttentionRNNDecoder`,
resized to an embedding of D where the project ties D = H): weights by counting their
parameters, units by the state values one forward pass produces, connections by
multiply-adds, counted by torch's `FlopCounterMode` (a matrix product's FLOPs are twice its
multiply-adds), on the implementation and on `notebook_decoder`, the notebooks' per-pair
computation with the same weights (whose logits must equal the implementation's).

Time per training step with and without attention, at the same hidden size and on the
same batch: attention adds, at every decoder step, a score MLP over all source positions,
a softmax and a weighted sum, and widens the cell's input to 2H.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from pipeline.translators.models.recurrent import (
    AttentionRNNDecoder,
    AttentionRNNTranslator,
    RecurrentConfig,
    RNNEncoder,
    RNNTranslator,
    make_cell,
)

VOCAB_SIZE = 30  # a character vocabulary's size; any works
GATES = {"gru": 3, "lstm": 4}
LOGIT_TOLERANCE = 1e-5  # float32: the notebooks' computation against the implementation


# ------------------------------------------------------------------------- formulas


def encoder_formulas(gates: int, K: int, D: int, H: int) -> dict[str, int]:
    return {"weights": gates * H * (D + H), "units": H, "unrolled_units": K * H, "connections": K * gates * H * (D + H)}


def decoder_formulas(gates: int, K: int, D: int, H: int, V: int) -> dict[str, int]:
    cell, attention, output = gates * H * (D + 2 * H), 2 * H * H + H, H * V
    return {
        "weights": cell + attention + output,
        "units": H,
        "unrolled_units": K * H,
        "connections": K * (cell + output) + K * K * (2 * H * H + 2 * H),
        "implementation_connections": K * (cell + output + 2 * H * H) + 2 * K * K * H,
    }


# ------------------------------------------------------------------------- the modules, resized


def sized_encoder(cell: str, D: int, H: int, V: int) -> RNNEncoder:
    """The project's encoder with an embedding of D (its translators tie D = H)."""
    config = RecurrentConfig(vocab_size=V, hidden_size=H, cell=cell)
    encoder = RNNEncoder(config)
    encoder.embedding = nn.Embedding(V, D)
    encoder.cell = make_cell(config, D)
    return encoder


def sized_decoder(cell: str, D: int, H: int, V: int) -> AttentionRNNDecoder:
    """The project's attention decoder with an embedding of D: its cell reads [embedding; context], D + H."""
    config = RecurrentConfig(vocab_size=V, hidden_size=H, cell=cell)
    decoder = AttentionRNNDecoder(config)
    decoder.embedding = nn.Embedding(V, D)
    decoder.cell = make_cell(config, D + H)
    return decoder


def notebook_decoder(decoder: AttentionRNNDecoder, decoder_input: torch.Tensor, annotations: torch.Tensor, state) -> torch.Tensor:
    """The notebooks' `RNNAttentionDecoder` computation with `decoder`'s weights: at every step the
    score MLP reads each concatenated [s_{t-1}; h_j], nothing precomputed. (B, K) ids -> (B, K, V)."""
    outputs = []
    for token in decoder_input.unbind(1):  # (B,)
        query = state[0].unsqueeze(1).expand_as(annotations)  # (B, S, H)
        scores = decoder.attention.score(torch.cat([query, annotations], dim=-1))  # (B, S, 1)
        weights = torch.softmax(scores, dim=1)  # over the S annotations
        context = torch.bmm(weights.transpose(1, 2), annotations).squeeze(1)  # (B, H)
        state = decoder.cell(torch.cat([decoder.embedding(token), context], dim=-1), state)
        outputs.append(state[0])
    return decoder.out(torch.stack(outputs, dim=1))


def multiply_adds(compute: Callable[[], torch.Tensor]) -> tuple[torch.Tensor, int]:
    """`compute()` and the multiply-adds of its matrix products (torch counts 2 FLOPs each)."""
    with FlopCounterMode(display=False) as counter:
        result = compute()
    return result, counter.get_total_flops() // 2


def weight_count(module: nn.Module) -> int:
    """Parameters without biases and without the embedding: what the questions count."""
    return sum(p.numel() for name, p in module.named_parameters() if not name.endswith("bias") and not name.startswith("embedding"))


def state_values(module: nn.Module, run: Callable[[], object], layer: nn.Module | None = None) -> int:
    """How many state values (unrolled units) one forward pass produces: the size of what the
    output layer reads, or of the returned annotations when `layer` is None."""
    seen = []
    handle = layer.register_forward_pre_hook(lambda _, inputs: seen.append(inputs[0].numel())) if layer else None
    result = run()
    if handle:
        handle.remove()
    return seen[0] if seen else result[0].numel()


# ------------------------------------------------------------------------- the checks


def network_counts(sizes: list[list[int]], seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per cell and (K, D, H, V): measured units, weights and connections beside the formulas,
    for the encoder and for the attention decoder (batch of one word of K tokens, K annotations)."""
    encoders, decoders = [], []
    for cell, gates in GATES.items():
        for K, D, H, V in sizes:
            torch.manual_seed(seed + K)
            source, target = torch.randint(V, (1, K)), torch.randint(V, (1, K))
            encoder, decoder = sized_encoder(cell, D, H, V), sized_decoder(cell, D, H, V)
            with torch.no_grad():
                (annotations, state), encoder_macs = multiply_adds(lambda: encoder(source))
                logits, decoder_macs = multiply_adds(lambda: decoder(target, annotations, state))
                notebook_logits, notebook_macs = multiply_adds(lambda: notebook_decoder(decoder, target, annotations, state))
                encoder_units = state_values(encoder, lambda: encoder(source))
                decoder_units = state_values(decoder, lambda: decoder(target, annotations, state), layer=decoder.out)
            size = {"cell": cell, "K": K, "D": D, "H": H, "V": V}
            encoders.append(
                {
                    **size,
                    "weights": weight_count(encoder),
                    "units": encoder.cell.hidden_size,
                    "unrolled_units": encoder_units,
                    "connections": encoder_macs,
                    **{f"{key}_formula": value for key, value in encoder_formulas(gates, K, D, H).items()},
                }
            )
            decoders.append(
                {
                    **size,
                    "weights": weight_count(decoder),
                    "units": decoder.cell.hidden_size,
                    "unrolled_units": decoder_units,
                    "connections": notebook_macs,
                    "implementation_connections": decoder_macs,
                    **{f"{key}_formula": value for key, value in decoder_formulas(gates, K, D, H, V).items()},
                    "max_logit_difference": float((notebook_logits - logits).abs().max()),
                }
            )
    return pd.DataFrame(encoders), pd.DataFrame(decoders)


def network_failures(encoders: pd.DataFrame, decoders: pd.DataFrame) -> list[str]:
    failures = []
    for name, table in (("encoder", encoders), ("attention decoder", decoders)):
        measured = [column for column in table.columns if f"{column}_formula" in table.columns]
        for row in table.to_dict("records"):
            wrong = [f"{key} {row[key]} vs formula {row[f'{key}_formula']}" for key in measured if row[key] != row[f"{key}_formula"]]
            if wrong:
                failures.append(
                    f"units/connections: {name} {row['cell']} K={row['K']} D={row['D']} H={row['H']} V={row['V']}: {', '.join(wrong)}"
                )
    for row in decoders.itertuples():
        if not row.max_logit_difference <= LOGIT_TOLERANCE:  # NaN fails too
            failures.append(
                f"units/connections: the notebooks' decoder differs from ours by {row.max_logit_difference:.3g} (K={row.K}, H={row.H})"
            )
    return failures


def step_seconds(hidden: int, length: int, batch: int, repeats: int, seed: int) -> pd.DataFrame:
    """Median seconds of one training step (forward, backward) of each decoder on one batch."""
    torch.manual_seed(seed)
    source = torch.randint(VOCAB_SIZE, (batch, length))
    decoder_input = torch.randint(VOCAB_SIZE, (batch, length))
    target = torch.randint(VOCAB_SIZE, (batch, length))
    rows = []
    for name, model_class in (("rnn", RNNTranslator), ("attention", AttentionRNNTranslator)):
        model = model_class(RecurrentConfig(vocab_size=VOCAB_SIZE, hidden_size=hidden, cell="gru"))
        times = []
        for _ in range(repeats + 1):  # the first step warms up allocators
            started = time.perf_counter()
            loss = F.cross_entropy(model(source, decoder_input).flatten(0, 1), target.flatten())
            loss.backward()
            times.append(time.perf_counter() - started)
        measured = pd.Series(times[1:])
        rows.append(
            {
                "decoder": name,
                "hidden": hidden,
                "K": length,
                "batch": batch,
                "seconds_per_step": float(measured.median()),
                # The spread over the repeats: two decoders whose quartile ranges overlap cannot be told apart.
                "seconds_q1": float(measured.quantile(0.25)),
                "seconds_q3": float(measured.quantile(0.75)),
                "parameters": sum(p.numel() for p in model.parameters()),
            }
        )
    table = pd.DataFrame(rows)
    table["ratio_to_rnn"] = table["seconds_per_step"] / table.loc[table["decoder"] == "rnn", "seconds_per_step"].iloc[0]
    return table
