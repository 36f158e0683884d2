"""Length-bucketed batches on the real small dataset."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import torch

from pipeline.datasets.piglatin.data import read_pairs, vocabulary
from pipeline.translators.batching import LengthBucketBatcher
from pipeline.translators.pairs import Pair

ROOT = Path(__file__).resolve().parents[2]
VOCAB = vocabulary()
BATCH_SIZE = 64


@pytest.fixture(scope="module")
def pairs() -> list[Pair]:
    return read_pairs(ROOT / "data/raw/pig_latin_small.txt")


@pytest.fixture(scope="module")
def batcher(pairs) -> LengthBucketBatcher:
    return LengthBucketBatcher(pairs, VOCAB, BATCH_SIZE, seed=1234)


def _order(batches) -> list[int]:
    return [i for batch in batches for i in batch.index.tolist()]


def test_every_pair_appears_once_per_epoch(pairs, batcher):
    for epoch in (1, 2):
        indices = _order(batcher.batches(epoch))
        assert Counter(indices) == Counter(range(len(pairs)))
    assert len(batcher.batches(1)) == len(batcher)


def test_batch_sizes_and_count(pairs, batcher):
    batches = batcher.batches(1)
    assert all(1 <= len(b.index) <= BATCH_SIZE for b in batches)
    # Expected number of batches, from the bucket sizes counted independently.
    buckets = Counter((len(p.source), len(p.target)) for p in pairs)
    assert len(batches) == sum(-(-n // BATCH_SIZE) for n in buckets.values())


def test_batches_hold_one_length_and_correct_tokens(pairs, batcher):
    for batch in batcher.batches(3):
        rows = len(batch.index)
        words = [pairs[i] for i in batch.index.tolist()]
        assert len({len(p.source) for p in words}) == 1
        assert len({len(p.target) for p in words}) == 1
        assert batch.source.shape == (rows, len(words[0].source) + 1)
        assert batch.decoder_input.shape == batch.target.shape == (rows, len(words[0].target) + 1)
        assert batch.num_target_tokens == rows * (len(words[0].target) + 1)
        for r, pair in enumerate(words):
            source = batch.source[r].tolist()
            assert VOCAB.decode(source) == pair.source
            assert source == [VOCAB.tokens.index(ch) for ch in pair.source] + [VOCAB.eos]
            target_ids = [VOCAB.tokens.index(ch) for ch in pair.target]
            assert batch.decoder_input[r].tolist() == [VOCAB.sos] + target_ids
            assert batch.target[r].tolist() == target_ids + [VOCAB.eos]


def test_same_seed_and_epoch_give_same_order(pairs, batcher):
    again = LengthBucketBatcher(pairs, VOCAB, BATCH_SIZE, seed=1234)
    first, second = batcher.batches(5), again.batches(5)
    assert _order(first) == _order(second)
    for a, b in zip(first, second):
        assert torch.equal(a.source, b.source) and torch.equal(a.target, b.target)


def test_other_epoch_or_seed_gives_other_order(pairs, batcher):
    assert _order(batcher.batches(1)) != _order(batcher.batches(2))
    other_seed = LengthBucketBatcher(pairs, VOCAB, BATCH_SIZE, seed=1235)
    assert _order(batcher.batches(1)) != _order(other_seed.batches(1))


def test_unshuffled_order_is_fixed_and_sorted(pairs):
    fixed = LengthBucketBatcher(pairs, VOCAB, BATCH_SIZE, seed=1234, shuffle=False)
    order = _order(fixed.batches(1))
    assert order == _order(fixed.batches(2)) == _order(fixed.batches())
    # Buckets in (source length, target length) order, file order inside each bucket.
    expected = sorted(range(len(pairs)), key=lambda i: (len(pairs[i].source), len(pairs[i].target), i))
    assert order == expected


def test_to_device_keeps_everything():
    pairs = [Pair("ab", "abway"), Pair("cd", "dcay")]
    batch = LengthBucketBatcher(pairs, VOCAB, 8, seed=0).batches(1)[0]
    moved = batch.to(torch.device("cpu"))
    for name in ("source", "decoder_input", "target", "index"):
        assert torch.equal(getattr(moved, name), getattr(batch, name))
