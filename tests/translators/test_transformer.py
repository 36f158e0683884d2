"""The encoder-decoder: positional encoding formula, decoder causality, parameter count."""

from __future__ import annotations

import math

import pytest
import torch

from pipeline.translators.models.transformer import Seq2SeqTransformer, SinusoidalPositionalEncoding, TransformerConfig


def _pe_by_formula(positions: int, d: int) -> list[list[float]]:
    table = []
    for pos in range(positions):
        row = []
        for j in range(d):
            i = j // 2
            angle = pos / 10000 ** (2 * i / d)
            row.append(math.sin(angle) if j % 2 == 0 else math.cos(angle))
        table.append(row)
    return table


@pytest.mark.parametrize("d", [2, 8])
def test_positional_table_matches_formula(d):
    pe = SinusoidalPositionalEncoding(d, max_positions=50)
    expected = torch.tensor(_pe_by_formula(50, d), dtype=torch.float64)
    assert pe.table.shape == (50, d)
    torch.testing.assert_close(pe.table.double(), expected, atol=1e-5, rtol=1e-5)
    # Spot checks that pin the layout: column 0 is sin(pos), column 1 cos(pos).
    assert pe.table[0, 0] == 0 and pe.table[0, 1] == 1
    assert pe.table[7, 0].item() == pytest.approx(math.sin(7), abs=1e-6)
    assert pe.table[7, 1].item() == pytest.approx(math.cos(7), abs=1e-6)


def test_positional_encoding_is_added_to_the_input():
    torch.manual_seed(0)
    d = 8
    pe = SinusoidalPositionalEncoding(d, max_positions=50)
    x = torch.randn(3, 11, d)
    expected = x + torch.tensor(_pe_by_formula(11, d), dtype=torch.float32)
    torch.testing.assert_close(pe(x), expected, atol=1e-5, rtol=1e-5)


def test_positional_encoding_rejects_too_long_input():
    pe = SinusoidalPositionalEncoding(8, max_positions=5)
    with pytest.raises(ValueError, match="max_positions=5"):
        pe(torch.zeros(1, 6, 8))


def test_positional_table_is_not_a_parameter_or_saved():
    model = Seq2SeqTransformer(TransformerConfig(vocab_size=30, hidden_size=8, num_layers=1))
    assert not any("table" in name for name, _ in model.named_parameters())
    assert not any("table" in key for key in model.state_dict())


@pytest.mark.parametrize("t", [0, 2, 5])
def test_decoder_logits_do_not_see_future_tokens(t):
    torch.manual_seed(1)
    model = Seq2SeqTransformer(TransformerConfig(vocab_size=30, hidden_size=16, num_layers=2)).double().eval()
    source = torch.randint(3, 30, (4, 6))
    decoder_input = torch.randint(0, 30, (4, 8))
    changed = decoder_input.clone()
    # Replace every token after t with a different one.
    changed[:, t + 1 :] = (decoder_input[:, t + 1 :] + torch.randint(1, 30, changed[:, t + 1 :].shape)) % 30
    assert (changed[:, t + 1 :] != decoder_input[:, t + 1 :]).all()

    with torch.no_grad():
        before = model(source, decoder_input)
        after = model(source, changed)
    assert before.shape == (4, 8, 30)
    torch.testing.assert_close(after[:, : t + 1], before[:, : t + 1])
    assert not torch.allclose(after[:, t + 1 :], before[:, t + 1 :])


def test_decoder_logits_depend_on_the_source():
    torch.manual_seed(2)
    model = Seq2SeqTransformer(TransformerConfig(vocab_size=30, hidden_size=16, num_layers=2)).double().eval()
    decoder_input = torch.randint(0, 30, (2, 5))
    source = torch.randint(3, 30, (2, 6))
    other = source.clone()
    other[:, -1] = (other[:, -1] + 1) % 30
    with torch.no_grad():
        # Every decoder position (including 0) attends to the whole source.
        delta = (model(source, decoder_input) - model(other, decoder_input)).abs().amax(dim=-1)
    assert (delta > 0).all()


def _expected_parameters(h: int, layers: int, vocab: int) -> int:
    attention = 3 * (h * h + h)
    mlp = h * h + h
    encoder_layer = attention + mlp
    decoder_layer = 2 * attention + mlp
    embeddings = 2 * vocab * h
    output = h * vocab + vocab
    return layers * (encoder_layer + decoder_layer) + embeddings + output


@pytest.mark.parametrize(("h", "layers"), [(32, 4), (64, 3)])
def test_parameter_count_matches_formula(h, layers):
    model = Seq2SeqTransformer(TransformerConfig(vocab_size=30, hidden_size=h, num_layers=layers))
    expected = _expected_parameters(h, layers, 30)
    assert sum(p.numel() for p in model.parameters()) == expected
    # Independent of the formula's grouping: the literal numbers for the assignment's configs.
    assert expected == {(32, 4): 49_374, (64, 3): 143_070}[(h, layers)]


# ------------------------------------------------ ablation options (pipeline/studies/ablations)


def test_default_config_is_the_assignment_model():
    """The options' defaults build what the assignment specifies: sinusoidal positions, a causal decoder."""
    from pipeline.translators.models.attention import CausalScaledDotAttention

    model = Seq2SeqTransformer(TransformerConfig(vocab_size=30, hidden_size=8, num_layers=2))
    assert type(model.encoder.positions) is SinusoidalPositionalEncoding
    assert type(model.decoder.positions) is SinusoidalPositionalEncoding
    assert all(type(layer.self_attention) is CausalScaledDotAttention for layer in model.decoder.layers)


def test_one_hot_positions_add_identity_rows():
    from pipeline.translators.models.transformer import OneHotPositionalEncoding

    pe = OneHotPositionalEncoding(hidden_size=6, max_positions=6)
    x = torch.randn(2, 4, 6)
    added = pe(x) - x  # (2, 4, 6): row t is the unit vector e_t
    expected = torch.tensor([[1.0 if j == t else 0.0 for j in range(6)] for t in range(4)])
    torch.testing.assert_close(added, expected.expand(2, 4, 6))
    assert not list(pe.parameters())  # a fixed code, nothing to learn


def test_one_hot_positions_cannot_exceed_the_hidden_size():
    from pipeline.translators.models.transformer import OneHotPositionalEncoding

    with pytest.raises(ValueError, match="one dimension per position"):
        OneHotPositionalEncoding(hidden_size=8, max_positions=9)
    with pytest.raises(ValueError, match="max_positions=8"):
        OneHotPositionalEncoding(hidden_size=8, max_positions=8)(torch.zeros(1, 9, 8))


def test_learned_positions_are_an_embedding_lookup_that_trains():
    from pipeline.translators.models.transformer import LearnedPositionalEncoding

    torch.manual_seed(0)
    pe = LearnedPositionalEncoding(hidden_size=4, max_positions=10)
    x = torch.randn(3, 5, 4)
    lookup = torch.nn.functional.embedding(torch.tensor([0, 1, 2, 3, 4]), pe.table.weight)  # (5, 4)
    torch.testing.assert_close(pe(x), x + lookup)
    pe(x).sum().backward()
    # Only the rows of the positions used get a gradient: 3 sequences per position.
    torch.testing.assert_close(pe.table.weight.grad[:5], torch.full((5, 4), 3.0))
    assert (pe.table.weight.grad[5:] == 0).all()


def test_no_positional_encoding_makes_the_encoder_order_blind():
    """Without positions, self-attention is permutation-equivariant: permuting the source permutes the annotations."""
    torch.manual_seed(0)
    model = Seq2SeqTransformer(TransformerConfig(vocab_size=30, hidden_size=8, num_layers=2, positional_encoding="none"))
    model = model.double().eval()
    source = torch.randint(3, 30, (2, 6))
    order = torch.tensor([3, 0, 5, 1, 4, 2])
    with torch.no_grad():
        torch.testing.assert_close(model.encoder(source[:, order]), model.encoder(source)[:, order])
        sinusoidal = Seq2SeqTransformer(TransformerConfig(vocab_size=30, hidden_size=8, num_layers=2)).double().eval()
        assert not torch.allclose(sinusoidal.encoder(source[:, order]), sinusoidal.encoder(source)[:, order])


@pytest.mark.parametrize("kind", ["sinusoidal", "learned", "one-hot", "none"])
def test_every_encoding_builds_and_keeps_the_logits_shape(kind):
    config = TransformerConfig(vocab_size=30, hidden_size=16, num_layers=1, max_positions=16, positional_encoding=kind)
    logits = Seq2SeqTransformer(config)(torch.randint(3, 30, (2, 5)), torch.randint(0, 30, (2, 7)))
    assert logits.shape == (2, 7, 30)


def _decoder_input_gradient(causal: bool, t: int) -> torch.Tensor:
    """|d logits[:, t] / d (decoder input at each position)|, summed over batch and features: (T,)."""
    torch.manual_seed(3)
    model = Seq2SeqTransformer(TransformerConfig(vocab_size=30, hidden_size=16, num_layers=2, causal_decoder=causal))
    model = model.double()
    annotations = model.encoder(torch.randint(3, 30, (2, 6)))
    decoder = model.decoder
    x = decoder.positions(decoder.embedding(torch.randint(0, 30, (2, 8)))).detach().requires_grad_(True)  # (B, T, H)
    hidden = x
    for layer in decoder.layers:
        hidden = layer(hidden, annotations)
    decoder.out(hidden)[:, t].sum().backward()
    return x.grad.abs().sum(dim=(0, 2))  # (T,)


@pytest.mark.parametrize("t", [0, 3, 6])
def test_non_causal_decoder_lets_position_t_see_t_plus_1(t):
    unmasked = _decoder_input_gradient(causal=False, t=t)
    assert unmasked[t + 1] > 0  # the very token position t is trained to predict
    assert (unmasked > 0).all()  # and every other position
    causal = _decoder_input_gradient(causal=True, t=t)
    assert (causal[: t + 1] > 0).all()
    assert (causal[t + 1 :] == 0).all()


def test_the_config_saves_the_options_only_when_set():
    """The assignment's models keep their checkpoint format; an ablation's config records its options."""
    default = TransformerConfig(vocab_size=30, hidden_size=8, num_layers=1)
    assert default.to_dict() == {"vocab_size": 30, "hidden_size": 8, "num_layers": 1, "max_positions": 256}
    unmasked = TransformerConfig(vocab_size=30, hidden_size=8, num_layers=1, causal_decoder=False)
    assert unmasked.to_dict()["causal_decoder"] is False and "positional_encoding" not in unmasked.to_dict()
    assert TransformerConfig(**unmasked.to_dict()) == unmasked
