"""Length-bucketed batches: every batch holds words of one (source, target) length.

Grouping by length means no padding and no masks, exactly as in the reference
assignment. The order of words inside a bucket and of batches within an epoch is
shuffled with a generator seeded by (seed, epoch), so any epoch can be rebuilt
on its own -- which is what makes resuming a killed run exact.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import torch

from pipeline.translators.pairs import Pair
from pipeline.translators.vocab import Vocabulary


@dataclass
class Seq2SeqBatch:
    source: torch.Tensor  # (B, S): word + <EOS>
    decoder_input: torch.Tensor  # (B, T): <SOS> + target
    target: torch.Tensor  # (B, T): target + <EOS>
    index: torch.Tensor  # (B,): positions of these pairs in the dataset

    def to(self, device: torch.device) -> Seq2SeqBatch:
        return Seq2SeqBatch(*(t.to(device) for t in (self.source, self.decoder_input, self.target)), self.index)

    @property
    def num_target_tokens(self) -> int:
        return self.target.numel()


class LengthBucketBatcher:
    """Encodes the pairs once, then deals out shuffled same-length batches per epoch."""

    def __init__(self, pairs: list[Pair], vocab: Vocabulary, batch_size: int, seed: int, shuffle: bool = True):
        self.batch_size = batch_size
        self.seed = seed
        self.shuffle = shuffle
        groups: dict[tuple[int, int], list[int]] = defaultdict(list)
        for i, pair in enumerate(pairs):
            groups[(len(pair.source), len(pair.target))].append(i)
        self.buckets: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]] = []
        for key in sorted(groups):
            members = groups[key]
            source = torch.tensor([vocab.encode(pairs[i].source) + [vocab.eos] for i in members])
            target_ids = torch.tensor([vocab.encode(pairs[i].target) for i in members])
            sos = torch.full((len(members), 1), vocab.sos)
            eos = torch.full((len(members), 1), vocab.eos)
            decoder_input = torch.cat([sos, target_ids], dim=1)
            target = torch.cat([target_ids, eos], dim=1)
            self.buckets.append((source, decoder_input, target, torch.tensor(members)))

    def batches(self, epoch: int = 0) -> list[Seq2SeqBatch]:
        rng = np.random.default_rng([self.seed, epoch])
        out = []
        for source, decoder_input, target, index in self.buckets:
            order = rng.permutation(len(index)) if self.shuffle else np.arange(len(index))
            order = torch.from_numpy(order)
            for start in range(0, len(order), self.batch_size):
                take = order[start : start + self.batch_size]
                out.append(Seq2SeqBatch(source[take], decoder_input[take], target[take], index[take]))
        if self.shuffle:
            out = [out[i] for i in rng.permutation(len(out))]
        return out

    def __len__(self) -> int:
        return sum(-(-len(bucket[3]) // self.batch_size) for bucket in self.buckets)
