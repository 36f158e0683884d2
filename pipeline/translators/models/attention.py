"""Single-head scaled dot-product attention, as in the assignment.

    Attention(Q, K, V) = softmax(Q K^T / sqrt(h)) V,   Q = x W_q, K = y W_k, V = y W_v

There is no output projection and no multi-head split: each of Q, K and V is one
`Linear(h, h)`. The arithmetic runs through `torch.nn.functional.scaled_dot_product_attention`,
which fuses the scaling, softmax over keys and weighted sum (and applies the causal mask).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class ScaledDotAttention(nn.Module):
    """Queries attend to keys/values; `causal=True` hides keys after each query position."""

    def __init__(self, hidden_size: int, causal: bool = False):
        super().__init__()
        self.hidden_size = hidden_size
        self.causal = causal
        self.Q = nn.Linear(hidden_size, hidden_size)
        self.K = nn.Linear(hidden_size, hidden_size)
        self.V = nn.Linear(hidden_size, hidden_size)

    def forward(self, queries: torch.Tensor, keys: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """queries (B, H) or (B, Tq, H); keys, values (B, Tk, H) -> context shaped like queries."""
        single_query = queries.dim() == 2
        if single_query:
            queries = queries.unsqueeze(1)  # (B, 1, H)
        q, k, v = self.Q(queries), self.K(keys), self.V(values)  # (B, Tq, H), (B, Tk, H), (B, Tk, H)
        # The default scale of SDPA is 1/sqrt(H), as in the reference.
        context = F.scaled_dot_product_attention(
            q, k, v, attn_mask=self._mask(q.size(1), k.size(1), q.device), is_causal=self.causal and q.size(1) == k.size(1)
        )  # (B, Tq, H)
        return context.squeeze(1) if single_query else context

    def _mask(self, num_queries: int, num_keys: int, device: torch.device) -> torch.Tensor | None:
        """Causal mask for Tq != Tk: the queries are the *last* Tq positions of the sequence.

        So a single query (incremental decoding) sees every key, and query i sees keys
        up to position Tk - Tq + i. With Tq == Tk SDPA's own `is_causal` does the same.
        """
        if not self.causal or num_queries == num_keys:
            return None
        visible = torch.ones(num_queries, num_keys, dtype=torch.bool, device=device)
        return visible.tril(diagonal=num_keys - num_queries)  # (Tq, Tk), True = may attend


class CausalScaledDotAttention(ScaledDotAttention):
    """Self-attention in which position t sees positions <= t only."""

    def __init__(self, hidden_size: int):
        super().__init__(hidden_size, causal=True)


class StepDotAttention(nn.Module):
    """Scaled dot-product attention for one query per step, weights returned: the drop-in for
    additive attention in a recurrent decoder (pipeline/studies/ablations), same interface:

        score(s, h_j) = (W_q s + b_q) . (W_k h_j + b_k) / sqrt(H),  alpha = softmax_j(score),
        context = sum_j alpha_j h_j

    Like the additive score, the values are the annotations themselves (no value projection),
    so only the scoring function differs. Its weights are the softmax written out: the
    decoder's attention maps need them, and SDPA does not return them.
    """

    def __init__(self, hidden_size: int):
        super().__init__()
        self.hidden_size = hidden_size
        self.Q = nn.Linear(hidden_size, hidden_size)
        self.K = nn.Linear(hidden_size, hidden_size)

    def keys(self, annotations: torch.Tensor) -> torch.Tensor:
        """annotations (B, S, H) -> projected keys (B, S, H), once per word, not once per step."""
        return self.K(annotations)

    def forward(self, query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """query (B, H), keys from `keys()` (B, S, H), values (B, S, H) -> context (B, H), weights (B, S)."""
        q = self.Q(query).unsqueeze(1)  # (B, 1, H)
        scores = (q @ keys.transpose(1, 2)).squeeze(1) / math.sqrt(self.hidden_size)  # (B, S)
        weights = torch.softmax(scores, dim=-1)  # (B, S)
        context = torch.bmm(weights.unsqueeze(1), values).squeeze(1)  # (B, H)
        return context, weights
