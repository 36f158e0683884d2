"""Character-level transformers, as specified by the assignment.

The encoder-decoder:

    source chars -> Embedding + PE -> [self-attn + res, MLP + res] x L -> annotations
    <SOS> target -> Embedding + PE -> [causal self-attn + res, cross-attn + res, MLP + res] x L
                 -> Linear(h, V) -> next-character logits

The decoder-only (GPT-style) model, for translation as continuation:

    <SOS> source <EOP> target -> Embedding + PE -> [causal self-attn + res, MLP + res] x L
                              -> Linear(h, V) -> next-character logits

It reads the English word, the end-of-prompt marker `<EOP>`, and continues with the
Pig Latin word. Both use the same blocks: single-head attention, a Linear + ReLU MLP,
no LayerNorm and no dropout, matching the reference.

Two options of `TransformerConfig` exist for the ablations study (pipeline/studies/ablations),
and their defaults are the assignment's model: `positional_encoding` (sinusoidal, learned,
one-hot or none) and `causal_decoder` (False lets the decoder's self-attention see later
target positions too).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Literal

import torch
from torch import nn

from pipeline.translators.models.attention import CausalScaledDotAttention, ScaledDotAttention
from pipeline.translators.models.limits import MAX_POSITIONS

ABLATION_OPTIONS = ("positional_encoding", "causal_decoder")  # fields whose defaults are the assignment's model


@dataclass(frozen=True)
class TransformerConfig:
    vocab_size: int
    hidden_size: int
    num_layers: int
    max_positions: int = MAX_POSITIONS
    positional_encoding: Literal["sinusoidal", "learned", "one-hot", "none"] = "sinusoidal"
    causal_decoder: bool = True  # the encoder-decoder's decoder self-attention hides later positions

    def to_dict(self) -> dict:
        # The ablation options are saved only where they differ from the assignment's model: its
        # checkpoints keep their format, and older ones (without the keys) load as they are.
        defaults = {f.name: f.default for f in fields(self) if f.name in ABLATION_OPTIONS}
        return {k: v for k, v in asdict(self).items() if k not in defaults or v != defaults[k]}


class Seq2SeqTransformer(nn.Module):
    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.config = config
        self.encoder = TransformerEncoder(config)
        self.decoder = TransformerDecoder(config)

    def forward(self, source: torch.Tensor, decoder_input: torch.Tensor) -> torch.Tensor:
        """source (B, S), decoder_input (B, T) token ids -> logits (B, T, V)."""
        annotations = self.encoder(source)  # (B, S, H)
        return self.decoder(decoder_input, annotations)  # (B, T, V)


class TransformerEncoder(nn.Module):
    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.embedding = nn.Embedding(config.vocab_size, config.hidden_size)
        self.positions = positional_encoding(config)
        self.layers = nn.ModuleList(EncoderLayer(config.hidden_size) for _ in range(config.num_layers))

    def forward(self, source: torch.Tensor) -> torch.Tensor:
        x = self.positions(self.embedding(source))  # (B, S, H)
        for layer in self.layers:
            x = layer(x)
        return x  # (B, S, H)


class TransformerDecoder(nn.Module):
    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.embedding = nn.Embedding(config.vocab_size, config.hidden_size)
        self.positions = positional_encoding(config)
        self.layers = nn.ModuleList(DecoderLayer(config.hidden_size, config.causal_decoder) for _ in range(config.num_layers))
        self.out = nn.Linear(config.hidden_size, config.vocab_size)

    def forward(self, decoder_input: torch.Tensor, annotations: torch.Tensor) -> torch.Tensor:
        x = self.positions(self.embedding(decoder_input))  # (B, T, H)
        for layer in self.layers:
            x = layer(x, annotations)
        return self.out(x)  # (B, T, V)


class EncoderLayer(nn.Module):
    def __init__(self, hidden_size: int):
        super().__init__()
        self.self_attention = ScaledDotAttention(hidden_size)
        self.mlp = MLP(hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.self_attention(x, x, x)  # (B, S, H)
        return x + self.mlp(x)


class DecoderLayer(nn.Module):
    def __init__(self, hidden_size: int, causal: bool = True):
        super().__init__()
        # causal=False is the ablation of the 2021/2022 handouts: training then lets position t read
        # the character it must predict (at t + 1), which greedy decoding never has.
        self.self_attention = CausalScaledDotAttention(hidden_size) if causal else ScaledDotAttention(hidden_size)
        self.cross_attention = ScaledDotAttention(hidden_size)
        self.mlp = MLP(hidden_size)

    def forward(self, x: torch.Tensor, annotations: torch.Tensor) -> torch.Tensor:
        x = x + self.self_attention(x, x, x)  # (B, T, H)
        x = x + self.cross_attention(x, annotations, annotations)  # queries from the decoder
        return x + self.mlp(x)


class MLP(nn.Module):
    def __init__(self, hidden_size: int):
        super().__init__()
        self.fc = nn.Linear(hidden_size, hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.fc(x))


def positional_encoding(config: TransformerConfig) -> nn.Module:
    """The module that adds position information to the embeddings (B, T, H), by `config.positional_encoding`."""
    kind = config.positional_encoding
    if kind == "none":
        return nn.Identity()
    encodings = {"sinusoidal": SinusoidalPositionalEncoding, "learned": LearnedPositionalEncoding, "one-hot": OneHotPositionalEncoding}
    if kind not in encodings:
        raise ValueError(f"unknown positional encoding {kind!r} (known: none, {', '.join(encodings)})")
    return encodings[kind](config.hidden_size, config.max_positions)


def _check_length(length: int, max_positions: int) -> None:
    if length > max_positions:
        raise ValueError(f"sequence of length {length} exceeds max_positions={max_positions}")


class SinusoidalPositionalEncoding(nn.Module):
    """Adds PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d))."""

    def __init__(self, hidden_size: int, max_positions: int):
        super().__init__()
        position = torch.arange(max_positions).unsqueeze(1)  # (P, 1)
        frequency = torch.exp(-math.log(10000.0) * torch.arange(0, hidden_size, 2) / hidden_size)  # (H/2,)
        table = torch.zeros(max_positions, hidden_size)
        table[:, 0::2] = torch.sin(position * frequency)
        table[:, 1::2] = torch.cos(position * frequency)
        self.register_buffer("table", table, persistent=False)  # (P, H), a constant: not saved

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        length = x.size(1)
        _check_length(length, self.table.size(0))
        return x + self.table[:length]  # (B, T, H)


class LearnedPositionalEncoding(nn.Module):
    """Adds a trained vector per position (GPT-2's choice). A position no training sequence
    reached keeps its random initial vector: nothing was learned there."""

    def __init__(self, hidden_size: int, max_positions: int):
        super().__init__()
        self.table = nn.Embedding(max_positions, hidden_size)  # (P, H)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        length = x.size(1)
        _check_length(length, self.table.num_embeddings)
        return x + self.table(torch.arange(length, device=x.device))  # (B, T, H)


class OneHotPositionalEncoding(nn.Module):
    """Adds e_pos, the unit vector of dimension pos: a one-hot code needs one dimension per
    position, so the model represents at most `hidden_size` positions."""

    def __init__(self, hidden_size: int, max_positions: int):
        super().__init__()
        if max_positions > hidden_size:
            raise ValueError(
                f"a one-hot position code has one dimension per position: max_positions={max_positions} "
                f"needs hidden_size >= {max_positions}, got {hidden_size}"
            )
        self.register_buffer("table", torch.eye(max_positions, hidden_size), persistent=False)  # (P, H): identity rows

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        length = x.size(1)
        _check_length(length, self.table.size(0))
        return x + self.table[:length]  # (B, T, H)


# ---------------------------------------------------------------- decoder-only


class DecoderOnlyTransformer(nn.Module):
    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.hidden_size)
        self.positions = positional_encoding(config)
        self.layers = nn.ModuleList(DecoderOnlyLayer(config.hidden_size) for _ in range(config.num_layers))
        self.out = nn.Linear(config.hidden_size, config.vocab_size)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (B, T) ids -> logits (B, T, V); position t sees tokens <= t only."""
        x = self.positions(self.embedding(tokens))  # (B, T, H)
        for layer in self.layers:
            x = layer(x)
        return self.out(x)  # (B, T, V)


class DecoderOnlyLayer(nn.Module):
    def __init__(self, hidden_size: int):
        super().__init__()
        self.self_attention = CausalScaledDotAttention(hidden_size)
        self.mlp = MLP(hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.self_attention(x, x, x)  # (B, T, H)
        return x + self.mlp(x)
