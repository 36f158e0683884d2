"""The encoder-decoder: positional encoding formula, decoder causality, parameter count."""

from __future__ import annotations

import math

import pytest
import torch

from pipeline.translation.models.transformer import (
    Seq2SeqTransformer,
    SinusoidalPositionalEncoding,
    TransformerConfig,
)


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
