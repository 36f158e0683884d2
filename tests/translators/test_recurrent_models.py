"""The recurrent translators against independent computations."""

from __future__ import annotations

import pytest
import torch

from pipeline.translators.architectures import load_model, save_model, translate_sentence
from pipeline.translators.models.recurrent import (
    AdditiveAttention,
    AttentionRNNTranslator,
    RecurrentConfig,
    RNNTranslator,
    SingleBlockAttentionTranslator,
    SingleBlockConfig,
)
from pipeline.translators.recurrent import BY_MODEL, attention_map, greedy_decode, greedy_translate_words
from pipeline.translators.vocab import Vocabulary

VOCAB = Vocabulary("abcdehilmnorstuwy-")
H = 6


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _ids(words: list[str]) -> torch.Tensor:
    return torch.tensor([VOCAB.encode(w) + [VOCAB.eos] for w in words])


def test_additive_attention_equals_the_mlp_over_concatenated_pairs():
    attention = AdditiveAttention(H)
    query, annotations = torch.randn(3, H), torch.randn(3, 5, H)
    context, weights = attention(query, attention.keys(annotations), annotations)
    pairs = torch.cat([query.unsqueeze(1).expand(-1, 5, -1), annotations], dim=-1)  # [s; h_j]: (B, S, 2H)
    expected_weights = torch.softmax(attention.score(pairs).squeeze(-1), dim=-1)
    torch.testing.assert_close(weights, expected_weights)
    torch.testing.assert_close(context, (expected_weights.unsqueeze(-1) * annotations).sum(1))


@pytest.mark.parametrize("model_class", [RNNTranslator, AttentionRNNTranslator])
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_teacher_forced_forward_equals_stepping_the_decoder(model_class, cell):
    """forward() precomputes and fuses; step() is the plain textbook step: they must agree."""
    model = model_class(RecurrentConfig(vocab_size=len(VOCAB), hidden_size=H, cell=cell))
    source = _ids(["hello", "world"])
    decoder_input = torch.tensor([[VOCAB.sos] + VOCAB.encode("ellohay")[:4]] * 2)
    logits = model(source, decoder_input)  # (B, T, V)
    annotations, state = model.encoder(source)
    stepped = []
    for t in range(decoder_input.size(1)):
        step_logits, state, _ = model.decoder.step(decoder_input[:, t], model.decoder.memory(annotations), state)
        stepped.append(step_logits)
    torch.testing.assert_close(logits, torch.stack(stepped, dim=1), rtol=1e-5, atol=1e-6)


def test_encoder_final_state_initialises_the_decoder():
    model = RNNTranslator(RecurrentConfig(vocab_size=len(VOCAB), hidden_size=H, cell="gru"))
    decoder_input = torch.tensor([[VOCAB.sos]])
    a = model(_ids(["hello"]), decoder_input)
    b = model(_ids(["world"]), decoder_input)
    assert not torch.allclose(a, b)  # the source reaches the decoder only through that state


def test_greedy_decoding_is_consistent_with_the_forward_pass():
    model = AttentionRNNTranslator(RecurrentConfig(vocab_size=len(VOCAB), hidden_size=H, cell="gru")).eval()
    source = _ids(["hello"])
    generated, weights = greedy_decode(model, source, VOCAB, max_len=6)
    decoder_input = torch.cat([torch.tensor([[VOCAB.sos]]), generated[:, :-1]], dim=1)
    with torch.no_grad():
        assert torch.equal(model(source, decoder_input).argmax(-1), generated)
    assert weights.shape == (1, generated.size(1), source.size(1))
    torch.testing.assert_close(weights.sum(-1), torch.ones(1, generated.size(1)))


def test_attention_map_rows_are_distributions_over_the_source():
    model = AttentionRNNTranslator(RecurrentConfig(vocab_size=len(VOCAB), hidden_size=H, cell="gru"))
    table = attention_map(model, ["hello", "by"], VOCAB, 5, torch.device("cpu"))
    assert set(table["word"]) == {"hello", "by"}
    assert list(table.loc[table["word"] == "by", "source"].unique()) == ["b", "y", "<EOS>"]
    sums = table.groupby(["word", "step"])["weight"].sum()
    assert sums.to_numpy() == pytest.approx(1.0, abs=1e-5)


def test_single_block_model_has_no_positional_information_in_the_encoder():
    model = SingleBlockAttentionTranslator(SingleBlockConfig(vocab_size=len(VOCAB), hidden_size=H))
    source = _ids(["hello"])
    permutation = torch.tensor([4, 2, 0, 1, 3, 5])
    # Without positional encoding self-attention is permutation-equivariant.
    torch.testing.assert_close(model.encoder(source[:, permutation]), model.encoder(source)[:, permutation])


@pytest.mark.parametrize("model", sorted(BY_MODEL))
def test_checkpoints_round_trip_through_load_model(tmp_path, model):
    architecture = BY_MODEL[model]
    run = type("Run", (), {"hidden_size": H, "cell": "lstm", "forget_bias": 1.0})()
    built = architecture.build(len(VOCAB), run).eval()
    save_model(tmp_path, built, built.state_dict(), VOCAB, {"run": model})
    loaded, vocab, config = load_model(tmp_path)
    assert type(loaded) is architecture.model_class and config["architecture"] == architecture.name
    sentence = "hello world"
    assert translate_sentence(loaded, sentence, vocab, 8, torch.device("cpu")) == translate_sentence(
        built, sentence, VOCAB, 8, torch.device("cpu")
    )


def test_words_are_translated_in_their_own_order():
    model = RNNTranslator(RecurrentConfig(vocab_size=len(VOCAB), hidden_size=H, cell="gru"))
    words = ["hello", "by", "world", "a"]
    together = greedy_translate_words(model, words, VOCAB, 6, torch.device("cpu"))
    alone = [greedy_translate_words(model, [w], VOCAB, 6, torch.device("cpu"))[0] for w in words]
    assert together == alone
