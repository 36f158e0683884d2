"""Parameter counts: torch modules against the formulas, and the numbers worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest
from torch import nn

from pipeline.studies.written import parameter_counts as pc
from pipeline.studies.written.readings import published_matches

PUBLISHED = {"mlp": {10: 322_562, 40: 1_090_562}, "rnn": {10: 223_234, 40: 223_234}}  # the homework's write-up


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


@pytest.fixture(scope="module")
def homework() -> tuple[pd.DataFrame, int]:
    return pc.classifier_counts(vocab=10_000, embedding=100, hidden=256, lengths=[10, 40], layers=[1, 2], logits=[1, 2], seed=0)


def _count(table: pd.DataFrame, **where) -> list[int]:
    rows = table
    for key, value in where.items():
        rows = rows[rows[key] == value]
    return rows["parameters"].tolist()


def test_mlp_by_hand(homework):
    table, embedding = homework
    assert embedding == 1_000_000
    # L = 10: 1000*256 + 256 | 256*256 + 256 | o*256 + o.
    assert _count(table, network="mlp", L=10, logits=1) == [256_000 + 256 + 65_536 + 256 + 257] == [322_305]
    assert _count(table, network="mlp", L=10, logits=2) == [256_000 + 256 + 65_536 + 256 + 514] == [322_562]
    assert _count(table, network="mlp", L=40, logits=2) == [1_024_000 + 256 + 65_536 + 256 + 514] == [1_090_562]


def test_rnn_by_hand(homework):
    table, _ = homework
    # Layer 1: W_ih 256*100, W_hh 256*256; layer 2: 2 * 256*256; torch's b_ih and b_hh 2*256 per layer.
    one = 25_600 + 65_536
    two = one + 2 * 65_536
    assert _count(table, network="rnn", L=10, layers=1, biases="torch", logits=2) == [one + 512 + 514] == [92_162]
    assert _count(table, network="rnn", L=10, layers=2, biases="torch", logits=2) == [two + 2 * 512 + 514] == [223_746]
    assert _count(table, network="rnn", L=10, layers=2, biases="one per layer", logits=2) == [two + 2 * 256 + 514] == [223_234]
    assert _count(table, network="rnn", L=10, layers=2, biases="one per layer", logits=1) == [two + 2 * 256 + 257] == [222_977]
    assert (table["parameters"] == table["formula"]).all() and table["output_shape_ok"].all()
    assert (table["with_embedding"] - table["parameters"] == 1_000_000).all()
    assert pc.counts_failures(pc.encoder_counts([[3, 2]]), table) == []


def test_each_published_figure_is_one_reading(homework):
    table, _ = homework
    matches = published_matches(table, PUBLISHED).set_index(["network", "L"])["matches"]
    assert matches[("mlp", 10)] == "MLP, 2 logits, embedding not counted"
    assert matches[("mlp", 40)] == "MLP, 2 logits, embedding not counted"
    assert matches[("rnn", 10)] == matches[("rnn", 40)] == "2-layer nn.RNN, one bias per layer, 2 logits, embedding not counted"
    assert published_matches(table, {"rnn": {10: 92_161}})["matches"].tolist() == ["none"]


def test_mlp_grows_with_the_sequence_the_rnn_does_not():
    table, _ = pc.classifier_counts(vocab=50, embedding=4, hidden=8, lengths=[1, 2, 3], layers=[1, 2], logits=[1], seed=0)
    assert pd.Series(_count(table, network="mlp")).diff().dropna().tolist() == [4 * 8, 4 * 8]  # one more token: E x H more weights
    rnn = table[table["network"] == "rnn"]
    assert (rnn.groupby(["layers", "biases"])["parameters"].nunique() == 1).all()


def test_a_wrong_formula_is_reported():
    encoders = pd.DataFrame(
        [{"D": 3, "H": 2, "gru": 30, "gru_cell": 30, "gru_formula": 3 * 2 * 3, "lstm": 40, "lstm_cell": 40, "lstm_formula": 40}]
    )
    classifiers, _ = pc.classifier_counts(vocab=50, embedding=4, hidden=8, lengths=[2], layers=[1], logits=[1], seed=0)
    torch_biases = (classifiers["network"] == "rnn") & (classifiers["biases"] == "torch")
    classifiers.loc[torch_biases, "formula"] -= 8  # as if torch kept one bias vector: it keeps two
    failures = pc.counts_failures(encoders, classifiers)
    assert len(failures) == 2 and "D=3, H=2" in failures[0] and "L=2: 1-layer nn.RNN, torch's two biases per layer" in failures[1]
