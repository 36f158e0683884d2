"""The length split of the transformer ablations: train on short words, test on longer ones.

The prepared dataset's own train/validation split is kept and filtered: pairs whose
source has at most `train_max_length` characters stay in `train.txt` / `val.txt`; every
longer pair of either split goes to `long.txt`, a test set of lengths no model saw.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

from pipeline.translators.pairs import Pair


def split_by_length(train: list[Pair], val: list[Pair], max_length: int) -> tuple[list[Pair], list[Pair], list[Pair]]:
    """(short training pairs, short validation pairs, long pairs of both splits)."""

    def short(pairs: list[Pair]) -> list[Pair]:
        return [p for p in pairs if len(p.source) <= max_length]

    long = [p for p in train + val if len(p.source) > max_length]
    return short(train), short(val), long


def length_bucket(length: int, edges: list[int], max_length: int) -> str:
    """The label of a source length: `1-<max_length>` (trained lengths), then `a-b` from the bucket
    edges, the last `a-up` (labels that are valid MLflow metric names)."""
    bounds = [1, max_length + 1, *([] if edges[0] == max_length + 1 else edges[:1]), *edges[1:]]
    for low, high in zip(bounds, bounds[1:]):
        if low <= length < high:
            return f"{low}-{high - 1}"
    return f"{bounds[-1]}-up"


def bucket_labels(edges: list[int], max_length: int) -> list[str]:
    """Every bucket label, shortest lengths first (the report's column order)."""
    starts = [1, max_length + 1, *([] if edges[0] == max_length + 1 else edges[:1]), *edges[1:]]
    return [length_bucket(start, edges, max_length) for start in starts]


def statistics(train: list[Pair], val: list[Pair], long: list[Pair]) -> dict:
    """Sizes and source-length counts of the three files."""
    return {
        "train_pairs": len(train),
        "val_pairs": len(val),
        "long_pairs": len(long),
        "long_source_lengths": dict(sorted(Counter(len(p.source) for p in long).items())),
    }


LONGER = "longer"  # the summary bucket: every length above the trained ones


def totals(rows: pd.DataFrame) -> dict:
    """Per-length rows (source_length, words, unrepresentable, correct, loss_sum, characters) summed:
    words, unrepresentable words, word accuracy, and loss per character (None: nothing representable)."""
    words, characters = int(rows["words"].sum()), int(rows["characters"].sum())
    return {
        "words": words,
        "unrepresentable": int(rows["unrepresentable"].sum()),
        "word_accuracy": float(rows["correct"].sum() / words),
        "loss": float(rows["loss_sum"].sum() / characters) if characters else None,
    }


def bucket_table(rows: pd.DataFrame, edges: list[int], max_length: int) -> dict[str, dict]:
    """`totals` per length bucket, shortest first, then `LONGER` (every untrained length together)."""
    labels = [length_bucket(n, edges, max_length) for n in rows["source_length"]]
    table = {label: totals(rows[[lab == label for lab in labels]]) for label in bucket_labels(edges, max_length) if label in labels}
    longer = rows[rows["source_length"] > max_length]
    if len(longer):
        table[LONGER] = totals(longer)
    return table
