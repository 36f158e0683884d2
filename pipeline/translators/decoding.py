"""Greedy decoding of many words: same-length words are decoded together."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from pipeline.core.errors import PipelineError
from pipeline.translators.vocab import Vocabulary


def decode_words_by_length(
    words: list[str], vocab: Vocabulary, longest: int, batch_size: int, decode: Callable[[list[str]], list[list[int]]]
) -> list[str]:
    """`decode(chunk)` turns up to `batch_size` words of one length into generated ids.

    Words of one length need no padding, so each chunk is one tensor; the results come
    back in the order of `words`. A word longer than `longest` is a user error.
    """
    by_length: dict[int, list[int]] = defaultdict(list)
    for i, word in enumerate(words):
        if len(word) > longest:
            raise PipelineError(f"translate: word of {len(word)} characters is longer than the model's limit of {longest}")
        by_length[len(word)].append(i)
    out = [""] * len(words)
    for indices in by_length.values():
        for start in range(0, len(indices), batch_size):
            chunk = indices[start : start + batch_size]
            for i, ids in zip(chunk, decode([words[i] for i in chunk])):
                out[i] = vocab.decode(ids)
    return out
