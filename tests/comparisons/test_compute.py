"""Training FLOPs of finished runs: the encoder-decoder formula against torch's FlopCounterMode, and an
epoch's count against the real batches the training loop deals."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from pipeline.comparisons.compute import best_within, encoder_decoder_forward_flops, epoch_flops
from pipeline.datasets.piglatin.data import to_pig_latin, vocabulary
from pipeline.translators.batching import LengthBucketBatcher
from pipeline.translators.flops import FlopCounter
from pipeline.translators.models.transformer import Seq2SeqTransformer, TransformerConfig
from pipeline.translators.pairs import Pair
from pipeline.translators.single_sequence import as_decoder_only

VOCAB = vocabulary()
V = len(VOCAB)
WORDS = ["air", "quick", "street", "is", "working", "try", "onomatopoeia", "yet", "fox", "dog", "the"]
PAIRS = [Pair(word, to_pig_latin(word)) for word in WORDS]


def _softmax(source: int, target: int, layers: int) -> int:
    """The formula's softmax terms, which FlopCounterMode (matrix products only) does not count."""
    return layers * 3 * (source * source + target * target + target * source)


@pytest.mark.parametrize(("batch", "source", "target", "hidden", "layers"), [(3, 5, 7, 8, 1), (2, 9, 4, 16, 3)])
def test_encoder_decoder_formula_matches_flop_counter_mode_forward_and_backward(batch, source, target, hidden, layers):
    torch.manual_seed(0)
    model = Seq2SeqTransformer(TransformerConfig(vocab_size=V, hidden_size=hidden, num_layers=layers))
    src, tgt = torch.randint(0, V, (batch, source)), torch.randint(0, V, (batch, target))
    softmax = _softmax(source, target, layers)
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as forward:
        model(src, tgt)
    assert forward.get_total_flops() == batch * (encoder_decoder_forward_flops(source, target, hidden, layers, V) - softmax)
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as step:
        model(src, tgt).sum().backward()
    assert step.get_total_flops() == 3 * batch * (encoder_decoder_forward_flops(source, target, hidden, layers, V) - softmax)


def test_encoder_decoder_epoch_equals_the_training_batches_measured():
    """Every batch the training loop deals in an epoch, run forward and backward under FlopCounterMode."""
    hidden, layers = 8, 2
    torch.manual_seed(0)
    model = Seq2SeqTransformer(TransformerConfig(vocab_size=V, hidden_size=hidden, num_layers=layers))
    measured, softmax = 0, 0
    for batch in LengthBucketBatcher(PAIRS, VOCAB, batch_size=2, seed=0).batches(epoch=3):
        with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as step:
            model(batch.source, batch.decoder_input).sum().backward()
        measured += step.get_total_flops()
        softmax += 3 * batch.source.size(0) * _softmax(batch.source.size(1), batch.decoder_input.size(1), layers)
    assert epoch_flops(PAIRS, "encoder-decoder", hidden, layers, V) - softmax == measured


def test_decoder_only_epoch_equals_the_training_loops_own_counter():
    """The count the decoder-only runs log (`FlopCounter` over the batches `fit` sees) is what `epoch_flops` gives."""
    counter, totals = FlopCounter(hidden_size=16, num_layers=2, vocab_size=V), {}
    for batch in LengthBucketBatcher(PAIRS, VOCAB, batch_size=3, seed=0).batches(epoch=1):
        counter.on_batch_end(as_decoder_only(batch, VOCAB), totals)
    assert epoch_flops(PAIRS, "decoder-only", 16, 2, V) == totals["cumulative_flops"]


def test_unknown_architecture_is_refused():
    with pytest.raises(ValueError, match="no FLOP formula for architecture 'rnn'"):
        epoch_flops(PAIRS, "rnn", 8, 1, V)


def test_best_within_keeps_the_lowest_loss_of_the_epochs_inside_the_budget():
    curve = pd.DataFrame({"cumulative_flops": [10.0, 20.0, 30.0, 40.0], "val_loss": [3.0, 1.0, 2.0, 0.5]})
    assert best_within(curve, 35.0, "val_loss") == 1.0  # epoch 3 is worse than epoch 2: early stopping keeps 2
    assert best_within(curve, 40.0, "val_loss") == 0.5  # a budget met exactly counts
    assert best_within(curve, 9.0, "val_loss") is None  # the first evaluation comes after the budget
