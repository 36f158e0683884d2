"""The `recurrent` section: bad values fail with one line naming the key."""

from __future__ import annotations

import pytest

from pipeline.studies.recurrent import params
from tests.params_helpers import params_error, write_params


def test_the_shipped_params_load():
    runs = params.load().config.runs
    assert {run.model for run in runs.values()} == {"rnn", "rnn-additive-attention", "single-block-attention"}


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda raw: raw["recurrent"]["runs"]["gru-small"].update(cell="rnn"),
            "recurrent.runs.gru-small.cell: Input should be 'gru' or 'lstm'",
        ),
        (
            lambda raw: raw["recurrent"]["runs"]["gru-small"].update(hidden_size=0),
            "recurrent.runs.gru-small.hidden_size: Input should be greater than 0",
        ),
        (
            lambda raw: raw["recurrent"]["runs"]["additive-attention"].update(model="rnn-dot-attention"),
            "recurrent.runs.additive-attention.model: Input should be 'rnn', 'rnn-additive-attention' or 'single-block-attention'",
        ),
        (lambda raw: raw["recurrent"]["runs"]["gru-small"].update(num_layers=2), "recurrent.runs.gru-small.num_layers: Input should be 1"),
        (lambda raw: raw["recurrent"]["runs"]["gru-small"].update(dataset="huge"), "recurrent.runs.gru-small.dataset"),
        (
            lambda raw: raw["recurrent"]["published"]["best_val_loss"].update(gru_tiny=[1, 2]),
            "recurrent.published.best_val_loss.gru_tiny: no such run",
        ),
        (
            lambda raw: raw["recurrent"]["runs"]["gru-small"].update(forget_bias=1.0),
            "recurrent.runs.gru-small.forget_bias: only an lstm cell has a forget gate",
        ),
    ],
    ids=["unknown-cell", "hidden-zero", "unknown-attention", "two-layers", "unknown-dataset", "published-typo", "forget-bias-on-gru"],
)
def test_bad_values_name_the_key(tmp_path, edit, expected):
    assert expected in params_error(params.load, write_params(tmp_path, edit))


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda raw: raw["recurrent"]["runs"]["single-block-attention"].update(cell="lstm"),
            "recurrent.runs.single-block-attention.cell: single-block-attention has no recurrent cell (remove the key), got 'lstm'",
        ),
        (
            lambda raw: raw["recurrent"]["published"]["best_val_loss"].update({"gru-small": [1.39, 1.23]}),
            "recurrent.published.best_val_loss.gru-small: must be [min, max] with min <= max, got [1.39, 1.23]",
        ),
        (
            lambda raw: raw["recurrent"]["runs"]["gru-small"].update(lr=float("inf")),
            "recurrent.runs.gru-small.lr: Input should be a finite number, got inf",
        ),
    ],
    ids=["cell-on-single-block", "published-range-max-first", "infinite-lr"],
)
def test_bad_values_are_the_whole_line(tmp_path, edit, expected):
    path = write_params(tmp_path, edit)
    assert params_error(params.load, path) == f"{path}: {expected}"


def test_forget_bias_reaches_the_lstm_cells():
    from pipeline.translators.recurrent import BY_MODEL

    run = params.load().config.runs["lstm-small"].model_copy(update={"forget_bias": 2.0})
    model = BY_MODEL[run.model].build(30, run)
    for cell in (model.encoder.cell, model.decoder.cell):
        assert cell.input.bias[run.hidden_size : 2 * run.hidden_size].eq(2.0).all()
