"""The assignment's earlier translators: RNN encoder-decoders and the single-block attention model.

RNN encoder-decoder (2021/2022 handouts), character level, embedding size = hidden size:

    source chars -> Embedding -> cell, step by step -> annotations h_1..h_S, final state
    <SOS> target -> Embedding -> cell (initial state = the encoder's final state) -> Linear(H, V)

With additive attention the decoder's cell also reads a context vector each step:

    score_j = Linear(H, 1)(ReLU(Linear(2H, H)([s_{t-1}; h_j])))    s_{t-1}: previous decoder state
    alpha   = softmax_j(score),  context = sum_j alpha_j h_j
    s_t     = cell([embedding(y_{t-1}); context], s_{t-1})      (cell input 2H)

Training and the validation loss use full teacher forcing (the decoder reads the true
previous character); translation decodes greedily (`architectures.py`).

Single-block attention (2022 notebook): one scaled dot-product attention encoder block and
one decoder block (causal self-attention, cross-attention, MLP, each with a residual), no
positional encoding, built from the transformer's own layers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.translators.models.cells import CELLS, LSTMCell, State
from pipeline.translators.models.limits import MAX_POSITIONS
from pipeline.translators.models.transformer import DecoderLayer, EncoderLayer


@dataclass(frozen=True)
class RecurrentConfig:
    vocab_size: int
    hidden_size: int
    cell: str  # a key of CELLS: gru | lstm
    forget_bias: float = 1.0  # the LSTM's initial forget-gate bias (cells.py says why)

    def to_dict(self) -> dict:
        return asdict(self)


def make_cell(config: RecurrentConfig, input_size: int) -> nn.Module:
    if config.cell == "lstm":
        return LSTMCell(input_size, config.hidden_size, forget_bias=config.forget_bias)
    return CELLS[config.cell](input_size, config.hidden_size)


class RNNEncoder(nn.Module):
    def __init__(self, config: RecurrentConfig):
        super().__init__()
        self.embedding = nn.Embedding(config.vocab_size, config.hidden_size)
        self.cell = make_cell(config, config.hidden_size)

    def forward(self, source: torch.Tensor) -> tuple[torch.Tensor, State]:
        """source (B, S) ids -> annotations (B, S, H) and the final state."""
        projected = self.cell.project_input(self.embedding(source))  # (B, S, gates*H): every step in one matmul
        state = self.cell.initial_state(source.size(0), source.device)
        annotations = []
        for step_input in projected.unbind(1):  # views, made in one call
            state = self.cell.step(step_input, state)
            annotations.append(state[0])
        return torch.stack(annotations, dim=1), state


class RNNDecoder(nn.Module):
    def __init__(self, config: RecurrentConfig):
        super().__init__()
        self.embedding = nn.Embedding(config.vocab_size, config.hidden_size)
        self.cell = make_cell(config, config.hidden_size)
        self.out = nn.Linear(config.hidden_size, config.vocab_size)

    def forward(self, decoder_input: torch.Tensor, annotations: torch.Tensor, state: State) -> torch.Tensor:
        """decoder_input (B, T) ids, the encoder's final state -> logits (B, T, V). Annotations unused."""
        projected = self.cell.project_input(self.embedding(decoder_input))  # (B, T, gates*H)
        outputs = []
        for step_input in projected.unbind(1):
            state = self.cell.step(step_input, state)
            outputs.append(state[0])
        return self.out(torch.stack(outputs, dim=1))  # (B, T, V): one projection for all steps

    def memory(self, annotations: torch.Tensor) -> None:
        """What `step` reads of the source, computed once per batch: nothing, here."""
        return None

    def step(self, token: torch.Tensor, memory: None, state: State) -> tuple[torch.Tensor, State, None]:
        """One greedy-decoding step: token (B,) -> logits (B, V), new state, no attention weights."""
        state = self.cell(self.embedding(token), state)
        return self.out(state[0]), state, None


class AdditiveAttention(nn.Module):
    """score(s, h_j) = w . ReLU(W [s; h_j] + b) + c, softmax over source positions j.

    `W [s; h_j]` splits into `W_s s + W_h h_j`: the annotation half is computed once per
    word (`keys`), so each decoding step only projects its query.
    """

    def __init__(self, hidden_size: int):
        super().__init__()
        self.hidden_size = hidden_size
        self.score = nn.Sequential(nn.Linear(2 * hidden_size, hidden_size), nn.ReLU(), nn.Linear(hidden_size, 1))

    def keys(self, annotations: torch.Tensor) -> torch.Tensor:
        """annotations (B, S, H) -> their half of the first layer, W_h h_j + b: (B, S, H)."""
        first = self.score[0]
        return F.linear(annotations, first.weight[:, self.hidden_size :], first.bias)

    def forward(self, query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """query (B, H), keys from `keys()` (B, S, H), values (B, S, H) -> context (B, H), weights (B, S)."""
        first, _, last = self.score
        hidden = torch.relu(keys + F.linear(query, first.weight[:, : self.hidden_size]).unsqueeze(1))  # (B, S, H)
        weights = torch.softmax(last(hidden).squeeze(-1), dim=-1)  # (B, S)
        context = torch.bmm(weights.unsqueeze(1), values).squeeze(1)  # (B, H)
        return context, weights


class AttentionRNNDecoder(nn.Module):
    def __init__(self, config: RecurrentConfig):
        super().__init__()
        self.embedding = nn.Embedding(config.vocab_size, config.hidden_size)
        self.attention = AdditiveAttention(config.hidden_size)
        self.cell = make_cell(config, 2 * config.hidden_size)  # reads [embedding; context]
        self.out = nn.Linear(config.hidden_size, config.vocab_size)

    def forward(self, decoder_input: torch.Tensor, annotations: torch.Tensor, state: State) -> torch.Tensor:
        """decoder_input (B, T), annotations (B, S, H), the encoder's final state -> logits (B, T, V)."""
        hidden = self.embedding.embedding_dim
        # The cell's input projection W [e; c] = W_e e + W_c c: the embedding half for all steps at once.
        projected = F.linear(self.embedding(decoder_input), self.cell.input.weight[:, :hidden], self.cell.input.bias)
        context_weight = self.cell.input.weight[:, hidden:]  # (gates*H, H)
        keys = self.attention.keys(annotations)  # (B, S, H), once per word
        outputs = []
        for step_input in projected.unbind(1):
            context, _ = self.attention(state[0], keys, annotations)  # (B, H)
            state = self.cell.step(torch.addmm(step_input, context, context_weight.t()), state)
            outputs.append(state[0])
        return self.out(torch.stack(outputs, dim=1))  # (B, T, V)

    def memory(self, annotations: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """What `step` reads of the source, computed once per batch: the attention keys and values."""
        return self.attention.keys(annotations), annotations  # (B, S, H) each

    def step(
        self, token: torch.Tensor, memory: tuple[torch.Tensor, torch.Tensor], state: State
    ) -> tuple[torch.Tensor, State, torch.Tensor]:
        """One greedy-decoding step: token (B,) -> logits (B, V), new state, attention weights (B, S)."""
        context, weights = self.attention(state[0], *memory)
        state = self.cell(torch.cat([self.embedding(token), context], dim=-1), state)
        return self.out(state[0]), state, weights


class RNNTranslator(nn.Module):
    """Encoder-decoder whose decoder sees the source only through the final encoder state."""

    decoder_class: type[nn.Module] = RNNDecoder

    def __init__(self, config: RecurrentConfig):
        super().__init__()
        if config.cell not in CELLS:
            raise ValueError(f"unknown cell {config.cell!r} (known: {', '.join(CELLS)})")
        self.config = config
        self.encoder = RNNEncoder(config)
        self.decoder = self.decoder_class(config)

    def forward(self, source: torch.Tensor, decoder_input: torch.Tensor) -> torch.Tensor:
        """source (B, S), decoder_input (B, T) token ids -> logits (B, T, V)."""
        annotations, state = self.encoder(source)  # (B, S, H), the final state
        return self.decoder(decoder_input, annotations, state)


class AttentionRNNTranslator(RNNTranslator):
    """Encoder-decoder whose decoder attends over every encoder annotation at each step."""

    decoder_class = AttentionRNNDecoder


# ------------------------------------------------------------------ single-block attention


@dataclass(frozen=True)
class SingleBlockConfig:
    vocab_size: int
    hidden_size: int
    max_positions: int = MAX_POSITIONS  # no position table; bounds decoding like the transformers

    def to_dict(self) -> dict:
        return asdict(self)


class SingleBlockAttentionTranslator(nn.Module):
    def __init__(self, config: SingleBlockConfig):
        super().__init__()
        self.config = config
        self.encoder = SingleBlockEncoder(config)
        self.decoder = SingleBlockDecoder(config)

    def forward(self, source: torch.Tensor, decoder_input: torch.Tensor) -> torch.Tensor:
        """source (B, S), decoder_input (B, T) token ids -> logits (B, T, V)."""
        return self.decoder(decoder_input, self.encoder(source))


class SingleBlockEncoder(nn.Module):
    def __init__(self, config: SingleBlockConfig):
        super().__init__()
        self.embedding = nn.Embedding(config.vocab_size, config.hidden_size)
        self.block = EncoderLayer(config.hidden_size)

    def forward(self, source: torch.Tensor) -> torch.Tensor:
        return self.block(self.embedding(source))  # (B, S, H)


class SingleBlockDecoder(nn.Module):
    def __init__(self, config: SingleBlockConfig):
        super().__init__()
        self.embedding = nn.Embedding(config.vocab_size, config.hidden_size)
        self.block = DecoderLayer(config.hidden_size)
        self.out = nn.Linear(config.hidden_size, config.vocab_size)

    def forward(self, decoder_input: torch.Tensor, annotations: torch.Tensor) -> torch.Tensor:
        return self.out(self.block(self.embedding(decoder_input), annotations))  # (B, T, V)
