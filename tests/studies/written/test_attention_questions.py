"""Units and connections of the recurrent encoder and the attention decoder: the formulas against
counts worked out by hand, and the counting on the modules against both."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from pipeline.studies.written import attention_questions as aq


def test_formulas_by_hand():
    # LSTM decoder, K = 2 steps, D = 3, H = 2, V = 5. Per step: cell 4 gates x 2 units x (3 + 2 + 2) inputs = 56,
    # output 2 x 5 = 10, score MLP on each of the 2 pairs: 4 x 2 + 2 x 1 = 10, context 2 annotations x 2 = 4.
    decoder = aq.decoder_formulas(4, K=2, D=3, H=2, V=5)
    assert decoder["connections"] == 2 * (56 + 10 + 2 * 10 + 4) == 180
    assert decoder["weights"] == 56 + (4 * 2 + 2) + 10 == 76
    assert decoder["unrolled_units"] == 4 and decoder["units"] == 2
    # Ours: W_h h_j once per word (2 x 4), W_s s once per step (4), W_2 on each pair (2 x 2), the context (2 x 2).
    assert decoder["implementation_connections"] == 2 * (56 + 10) + 2 * 4 + 2 * (4 + 4 + 4) == 164
    # GRU encoder, K = 3, D = 2, H = 4: 3 gates x 4 units x (2 + 4) inputs, used at each of 3 steps.
    assert aq.encoder_formulas(3, K=3, D=2, H=4) == {"weights": 72, "units": 4, "unrolled_units": 12, "connections": 216}


def test_multiply_adds_of_a_linear_layer():
    layer = nn.Linear(7, 3)
    _, macs = aq.multiply_adds(lambda: layer(torch.zeros(5, 7)))
    assert macs == 5 * 7 * 3


def test_the_notebooks_decoder_computes_ours():
    torch.manual_seed(0)
    decoder = aq.sized_decoder("gru", D=3, H=4, V=6)
    annotations, state = torch.randn(2, 5, 4), (torch.randn(2, 4),)
    target = torch.randint(6, (2, 3))
    with torch.no_grad():
        assert torch.allclose(aq.notebook_decoder(decoder, target, annotations, state), decoder(target, annotations, state), atol=1e-6)


@pytest.fixture(scope="module")
def counted():
    return aq.network_counts([[2, 3, 2, 5], [4, 6, 5, 9]], seed=0)


def test_counts_on_the_modules_equal_the_formulas(counted):
    encoders, decoders = counted
    assert aq.network_failures(encoders, decoders) == []
    lstm = decoders[(decoders["cell"] == "lstm") & (decoders["K"] == 2)].iloc[0]
    assert (lstm["connections"], lstm["implementation_connections"], lstm["weights"]) == (180, 164, 76)
    assert sorted(encoders["cell"].unique()) == ["gru", "lstm"] and len(decoders) == 4


def test_a_wrong_count_is_reported(counted):
    encoders, decoders = (table.copy() for table in counted)
    decoders.loc[0, "connections_formula"] += 1
    encoders.loc[1, "unrolled_units"] = 0
    failures = aq.network_failures(encoders, decoders)
    assert len(failures) == 2
    assert "encoder gru K=4" in failures[0] and "unrolled_units 0 vs formula" in failures[0]
    assert "attention decoder gru K=2" in failures[1] and "connections" in failures[1]
