"""Parameter counts: torch modules against the formulas, and the numbers worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest
from torch import nn

from pipeline.studies.written import parameter_counts as pc


@pytest.mark.parametrize(("d", "h"), [(3, 2), (32, 64), (100, 256), (1, 1)])
def test_gru_and_lstm_without_bias(d, h):
    table = pc.encoder_counts([[d, h]])
    row = table.iloc[0]
    # 3 (resp. 4) gates, each a D x H input matrix and an H x H recurrent one.
    assert row["gru"] == row["gru_formula"] == 3 * (d * h + h * h)
    assert row["lstm"] == row["lstm_formula"] == 4 * (d * h + h * h)
    assert row["gru"] == sum(p.numel() for p in nn.GRU(d, h, bias=False).parameters())


def test_gru_by_hand():
    assert pc.encoder_counts([[3, 2]]).iloc[0][["gru", "lstm"]].tolist() == [30, 40]


def test_mlp_versus_rnn_by_hand():
    table, embedding = pc.classifier_counts(vocab=10_000, embedding=100, hidden=256, lengths=[10, 40], seed=0)
    assert embedding == 1_000_000
    # MLP, L = 10: 1000*256 + 256 | 256*256 + 256 | 256 + 1.
    assert table["mlp"].tolist() == [256_000 + 256 + 65_536 + 256 + 257, 1_024_000 + 256 + 65_536 + 256 + 257]
    assert table["mlp"].tolist() == [322_305, 1_090_305]
    # RNN: W_ih 256*100, W_hh 256*256, b_ih and b_hh 2*256; head 256 + 1.
    assert table["rnn"].tolist() == [25_600 + 65_536 + 512 + 257] * 2 == [91_905] * 2
    assert (table["mlp"] == table["mlp_formula"]).all() and (table["rnn"] == table["rnn_formula"]).all()
    assert table["output_shape_ok"].all()
    assert pc.counts_failures(pc.encoder_counts([[3, 2]]), table) == []


def test_mlp_grows_with_the_sequence_the_rnn_does_not():
    table, _ = pc.classifier_counts(vocab=50, embedding=4, hidden=8, lengths=[1, 2, 3], seed=0)
    assert table["mlp"].diff().dropna().tolist() == [4 * 8, 4 * 8]  # one more token: E x H more weights
    assert table["rnn"].nunique() == 1


def test_a_wrong_formula_is_reported():
    encoders = pd.DataFrame([{"D": 3, "H": 2, "gru": 30, "gru_cell": 30, "gru_formula": 3 * 2 * 3, "lstm": 40, "lstm_cell": 40, "lstm_formula": 40}])
    classifiers, _ = pc.classifier_counts(vocab=50, embedding=4, hidden=8, lengths=[2], seed=0)
    classifiers.loc[0, "rnn_formula"] = 8 * (4 + 8) + 8 + 8 + 1  # one bias vector only: torch keeps two
    failures = pc.counts_failures(encoders, classifiers)
    assert len(failures) == 2 and "D=3, H=2" in failures[0] and "L=2" in failures[1]
