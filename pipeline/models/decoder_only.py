"""Decoder-only (GPT-style) character transformer for translation as continuation.

    <SOS> source <EOP> target -> Embedding + PE -> [causal self-attn + res, MLP + res] x L
                              -> Linear(h, V) -> next-character logits

The word and its translation are one sequence: the model reads the English word,
the end-of-prompt marker `<EOP>`, and continues with the Pig Latin word. Same
building blocks as the encoder-decoder (single-head attention, Linear + ReLU MLP,
no LayerNorm, no dropout), minus the encoder and the cross-attention.
"""

from __future__ import annotations

import torch
from torch import nn

from pipeline.models.attention import CausalScaledDotAttention
from pipeline.models.transformer import MLP, SinusoidalPositionalEncoding, TransformerConfig


class DecoderOnlyTransformer(nn.Module):
    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.hidden_size)
        self.positions = SinusoidalPositionalEncoding(config.hidden_size, config.max_positions)
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
