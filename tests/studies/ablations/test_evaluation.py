"""The length test's per-length scores against pair-by-pair computations."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from pipeline.datasets.piglatin.data import vocabulary
from pipeline.studies.ablations.evaluation import score_by_length
from pipeline.translators.encoder_decoder import greedy_translate_words
from pipeline.translators.models.transformer import Seq2SeqTransformer, TransformerConfig
from pipeline.translators.pairs import Pair

VOCAB = vocabulary()
DEVICE = torch.device("cpu")
MAX_LEN = 10


def _model(**options) -> Seq2SeqTransformer:
    torch.manual_seed(0)
    return Seq2SeqTransformer(TransformerConfig(vocab_size=len(VOCAB), hidden_size=12, num_layers=1, **options)).eval()


def _pairs(model, words: list[str]) -> tuple[list[Pair], dict[int, int]]:
    """Half the words paired with the model's own greedy output (right by construction), half with a
    different target; and the number right per source length."""
    pairs, right = [], {}
    for i, word in enumerate(words):
        prediction = greedy_translate_words(model, [word], VOCAB, MAX_LEN, DEVICE)[0]  # one word at a time
        if i % 2 == 0:
            pairs.append(Pair(word, prediction))
            right[len(word)] = right.get(len(word), 0) + 1
        else:
            pairs.append(Pair(word, prediction + "q" if len(prediction) < MAX_LEN else "q"))
    return pairs, right


def _loss_sum(model, pair: Pair) -> tuple[float, int]:
    """Summed cross-entropy of one pair under teacher forcing, and its target characters (with <EOS>)."""
    source = torch.tensor([VOCAB.encode(pair.source) + [VOCAB.eos]])
    target = VOCAB.encode(pair.target) + [VOCAB.eos]
    decoder_input = torch.tensor([[VOCAB.sos] + VOCAB.encode(pair.target)])
    with torch.no_grad():
        logits = model(source, decoder_input)[0]  # (T, V)
    return F.cross_entropy(logits, torch.tensor(target), reduction="sum").item(), len(target)


def test_scores_match_pair_by_pair_computation():
    model = _model()
    words = ["ab", "cd", "ef", "abc", "bcd", "cde", "def", "abcde", "bcdea"]
    pairs, right = _pairs(model, words)
    rows = score_by_length(model, pairs, VOCAB, MAX_LEN, DEVICE).set_index("source_length")
    assert list(rows.index) == [2, 3, 5]
    for length in (2, 3, 5):
        mine = [p for p in pairs if len(p.source) == length]
        losses = [_loss_sum(model, p) for p in mine]
        assert rows.loc[length, "words"] == len(mine)
        assert rows.loc[length, "correct"] == right.get(length, 0)
        assert rows.loc[length, "unrepresentable"] == 0
        assert rows.loc[length, "characters"] == sum(n for _, n in losses)
        assert abs(rows.loc[length, "loss_sum"] - sum(loss for loss, _ in losses)) < 1e-4


def test_words_a_one_hot_model_has_no_positions_for_are_wrong_and_out_of_the_loss():
    model = _model(positional_encoding="one-hot", max_positions=12)
    fits = Pair("abc", "bcaay")
    too_long = Pair("abcdefghijk", "abcdefghijkway")  # the source fits 12 positions (with <EOS>), the target does not
    rows = score_by_length(model, [fits, too_long], VOCAB, MAX_LEN, DEVICE).set_index("source_length")
    assert rows.loc[11, ["words", "unrepresentable", "correct", "characters", "loss_sum"]].tolist() == [1, 1, 0, 0, 0]
    loss, characters = _loss_sum(model, fits)
    assert rows.loc[3, "characters"] == characters and abs(rows.loc[3, "loss_sum"] - loss) < 1e-4
