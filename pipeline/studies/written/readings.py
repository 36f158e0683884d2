"""The readings of the homework's MLP-versus-RNN question in words, and which of them give the
published figures. Light (pandas only): the report section uses it too."""

from __future__ import annotations

import pandas as pd


def reading(row: dict) -> str:
    """A row of the classifier-count table in words: `2-layer nn.RNN, one bias per layer, 2 logits`."""
    logits = f"{int(row['logits'])} logit{'s' if int(row['logits']) > 1 else ''}"
    if row["network"] == "mlp":
        return f"MLP, {logits}"
    biases = "torch's two biases per layer" if row["biases"] == "torch" else "one bias per layer"
    return f"{int(row['layers'])}-layer nn.RNN, {biases}, {logits}"


def published_matches(table: pd.DataFrame, published: dict[str, dict[int, int]]) -> pd.DataFrame:
    """Each published figure (network -> L -> parameters) beside the readings whose count equals it,
    embedding excluded or included."""
    rows = []
    for network, by_length in published.items():
        for length, figure in by_length.items():
            candidates = table[(table["network"] == network) & (table["L"] == length)]
            found = [
                f"{reading(row)}, embedding {'counted' if counted else 'not counted'}"
                for row in candidates.to_dict("records")
                for counted, value in ((False, row["parameters"]), (True, row["with_embedding"]))
                if value == figure
            ]
            rows.append({"network": network, "L": length, "published": figure, "matches": "; ".join(found) or "none"})
    return pd.DataFrame(rows)
