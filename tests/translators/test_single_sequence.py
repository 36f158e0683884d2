"""Decoder-only translator: sequence layout, loss mask, causality, greedy decoding, checkpoints."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from pipeline.datasets.piglatin.data import vocabulary
from pipeline.translators.architectures import DECODER_ONLY, load_model, save_model, translate_sentence, word_accuracy
from pipeline.translators.batching import LengthBucketBatcher
from pipeline.translators.models.transformer import DecoderOnlyTransformer, TransformerConfig
from pipeline.translators.pairs import Pair
from pipeline.translators.single_sequence import as_decoder_only, decoder_only_loss, greedy_translate_words

VOCAB = vocabulary()

PAIRS = [Pair("ab", "abway"), Pair("cd", "dcay"), Pair("ef", "efway"), Pair("gh", "hgay")]


def tiny_model(seed: int = 0, hidden: int = 16, layers: int = 2) -> DecoderOnlyTransformer:
    torch.manual_seed(seed)
    return DecoderOnlyTransformer(TransformerConfig(vocab_size=len(VOCAB), hidden_size=hidden, num_layers=layers))


def test_sequence_layout_matches_the_assignment():
    batch = LengthBucketBatcher([Pair("ab", "abway")], VOCAB, 8, seed=0, shuffle=False).batches()[0]
    laid_out = as_decoder_only(batch, VOCAB)
    a, b, w, y = (VOCAB.index[c] for c in "abwy")
    assert laid_out.tokens.tolist() == [[VOCAB.sos, a, b, VOCAB.eop, a, b, w, a, y]]
    assert laid_out.target.tolist() == [[a, b, VOCAB.eop, a, b, w, a, y, VOCAB.eos]]
    assert laid_out.prompt_length == 4
    assert laid_out.num_target_tokens == 6  # "abway" + <EOS>


def test_loss_counts_only_positions_from_eop_on():
    model = tiny_model()
    batch = as_decoder_only(LengthBucketBatcher(PAIRS, VOCAB, 8, seed=0, shuffle=False).batches()[0], VOCAB)
    loss, count = decoder_only_loss(model, batch)

    # Independent: mask = positions at or after the <EOP> token, found by value.
    logits = model(batch.tokens)
    eop_position = (batch.tokens == VOCAB.eop).int().argmax(dim=1, keepdim=True)  # (B, 1)
    positions = torch.arange(batch.tokens.size(1)).unsqueeze(0)
    mask = positions >= eop_position  # (B, T)
    per_token = F.cross_entropy(logits.transpose(1, 2), batch.target, reduction="none")  # (B, T)
    expected = per_token[mask].mean()
    torch.testing.assert_close(loss, expected)
    assert count == int(mask.sum())


def test_later_tokens_do_not_change_earlier_logits():
    model = tiny_model().eval()
    tokens = torch.tensor([[VOCAB.sos, 5, 6, VOCAB.eop, 7, 8]])
    changed = tokens.clone()
    changed[0, 4:] = torch.tensor([20, 21])
    with torch.no_grad():
        torch.testing.assert_close(model(tokens)[:, :4], model(changed)[:, :4])
        assert not torch.allclose(model(tokens)[:, 4:], model(changed)[:, 4:])


def _reference_greedy(model, word: str, max_len: int) -> str:
    """One word at a time, plain Python lists: the definition of greedy decoding."""
    sequence = [VOCAB.sos] + VOCAB.encode(word) + [VOCAB.eop]
    out = []
    with torch.no_grad():
        for _ in range(max_len):
            token = int(model(torch.tensor([sequence]))[0, -1].argmax())
            if token == VOCAB.eos:
                break
            out.append(token)
            sequence.append(token)
    return VOCAB.decode(out)


def test_batched_greedy_translation_matches_one_word_at_a_time():
    model = tiny_model(seed=3)
    words = ["ab", "cd", "quiet", "x", "bond-street", "ef"]
    got = greedy_translate_words(model, words, VOCAB, max_len=7, device=torch.device("cpu"))
    assert got == [_reference_greedy(model, word, 7) for word in words]


def test_greedy_stops_at_eos_or_the_length_limit():
    model = tiny_model()
    with torch.no_grad():
        model.out.weight.zero_()
        model.out.bias.zero_()
        model.out.bias[VOCAB.eos] = 10.0  # always <EOS>
    assert greedy_translate_words(model, ["abc"], VOCAB, 5, torch.device("cpu")) == [""]
    with torch.no_grad():
        model.out.bias[VOCAB.eos] = 0.0
        model.out.bias[VOCAB.index["z"]] = 10.0  # never <EOS>
    assert greedy_translate_words(model, ["abc"], VOCAB, 5, torch.device("cpu")) == ["zzzzz"]


def test_trained_model_learns_and_round_trips_through_a_checkpoint(tmp_path):
    model = tiny_model(seed=1, hidden=32, layers=1)
    batches = [as_decoder_only(b, VOCAB) for b in LengthBucketBatcher(PAIRS, VOCAB, 8, seed=0).batches(1)]
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(150):
        for batch in batches:
            loss, _ = decoder_only_loss(model, batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    accuracy, predictions = word_accuracy(model, PAIRS, VOCAB, 10, torch.device("cpu"))
    assert accuracy == 1.0, predictions

    save_model(tmp_path, model, model.state_dict(), VOCAB, {"run": "tiny"})
    loaded, vocab, config = load_model(tmp_path)
    assert config["architecture"] == DECODER_ONLY.name and isinstance(loaded, DecoderOnlyTransformer)
    assert config["run"] == "tiny" and vocab.tokens == VOCAB.tokens
    assert translate_sentence(loaded, "AB cd", vocab, 10, torch.device("cpu")) == "abway dcay"
