"""The reference notebooks' validation loss (mean of per-batch means) beside ours (token-weighted)."""

from __future__ import annotations

import torch

from pipeline.core.training import FitConfig, fit
from pipeline.translators.batching import LengthBucketBatcher
from pipeline.translators.encoder_decoder import seq2seq_loss
from pipeline.translators.models.transformer import Seq2SeqTransformer, TransformerConfig
from pipeline.translators.pairs import Pair
from pipeline.translators.train import VAL_LOSS_BATCH_MEAN, BatchMeanValLoss
from pipeline.translators.vocab import Vocabulary

VOCAB = Vocabulary("abcdeghilnorstwy")
PAIRS = [
    Pair("hello", "ellohay"),
    Pair("a", "away"),
    Pair("dog", "ogday"),
    Pair("cat", "atcay"),
    Pair("stone", "onestay"),
    Pair("bird", "irdbay"),
    Pair("tree", "eetray"),
    Pair("wool", "oolway"),
    Pair("is", "isway"),
]


def test_batch_mean_is_logged_per_epoch_and_matches_an_independent_computation(one_torch_thread):
    torch.manual_seed(0)
    model = Seq2SeqTransformer(TransformerConfig(vocab_size=len(VOCAB), hidden_size=8, num_layers=1))
    train = LengthBucketBatcher(PAIRS, VOCAB, batch_size=2, seed=0)
    val_batches = LengthBucketBatcher(PAIRS, VOCAB, batch_size=2, seed=0, shuffle=False).batches()
    reference = BatchMeanValLoss(seq2seq_loss)
    result = fit(
        model, train.batches, val_batches, reference.loss, FitConfig(epochs=2, patience=5, lr=1e-2, restore_best=False), callbacks=reference
    )
    assert [VAL_LOSS_BATCH_MEAN in record.extra for record in result.history] == [True, True]

    model.eval()  # the last epoch's weights are kept: recompute both definitions on them
    with torch.no_grad():
        losses = [seq2seq_loss(model, batch) for batch in val_batches]
    batch_mean = sum(loss.item() for loss, _ in losses) / len(losses)
    token_weighted = sum(loss.item() * n for loss, n in losses) / sum(n for _, n in losses)
    last = result.history[-1]
    assert abs(last.extra[VAL_LOSS_BATCH_MEAN] - batch_mean) < 1e-6
    assert abs(last.val_loss - token_weighted) < 1e-6
    assert abs(batch_mean - token_weighted) > 1e-4  # batches of different sizes: the definitions differ
