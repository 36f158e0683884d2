"""The `decoder_only` section of params.yaml: one run, named after its hidden size and dataset."""

from __future__ import annotations

import pytest

from pipeline.studies.decoder_only import params
from tests.params_helpers import PARAMS, params_error, write_params


def _run(raw: dict) -> dict:
    return raw["decoder_only"]["run"]


def test_real_params_load():
    setup = params.load(PARAMS)
    config = setup.config
    assert config.run_name == "h128-small"
    assert (config.run.hidden_size, config.run.num_layers, config.run.epochs, config.run.batch_size) == (128, 4, 100, 64)
    assert config.published.best_val_loss == pytest.approx((0.36, 0.43))
    assert setup.data.files["small"] == "data/raw/pig_latin_small.txt"


def test_run_name_follows_hidden_size_and_dataset(tmp_path):
    path = write_params(tmp_path, lambda raw: _run(raw).update(hidden_size=64, dataset="large"))
    assert params.load(path).config.run_name == "h64-large"


def test_dataset_must_be_one_piglatin_prepares(tmp_path):
    message = params_error(params.load, write_params(tmp_path, lambda raw: _run(raw).update(dataset="medium")))
    assert message.endswith(": decoder_only.run.dataset: must be one of ['large', 'small'] (piglatin.files), got 'medium'")


def test_dataset_added_to_piglatin_is_accepted(tmp_path):
    def edit(raw):
        raw["piglatin"]["files"]["medium"] = "data/raw/pig_latin_small.txt"
        _run(raw)["dataset"] = "medium"

    assert params.load(write_params(tmp_path, edit)).config.run_name == "h128-medium"


@pytest.mark.parametrize(
    ("edit", "fragments"),
    [
        (lambda raw: _run(raw).update(hidden_size=127), ["decoder_only.run.hidden_size", "even", "127"]),
        (lambda raw: _run(raw).update(num_layers=0), ["decoder_only.run.num_layers", "0"]),
        (lambda raw: _run(raw).update(hidden=128), ["decoder_only.run.hidden:", "unknown key"]),
        (lambda raw: _run(raw).pop("lr"), ["decoder_only.run.lr", "missing"]),
        (lambda raw: raw["decoder_only"]["published"].update(best_val_loss=[0.4]), ["decoder_only.published.best_val_loss.1", "missing"]),
        (lambda raw: raw["decoder_only"].update(runs={}), ["decoder_only.runs", "unknown key"]),
        (lambda raw: raw.pop("decoder_only"), ["decoder_only: required section is missing"]),
    ],
    ids=["odd-hidden", "zero-layers", "typo-key", "missing-lr", "range-of-one", "typo-section-key", "no-section"],
)
def test_bad_edit_names_the_key(tmp_path, edit, fragments):
    message = params_error(params.load, write_params(tmp_path, edit))
    for fragment in fragments:
        assert fragment in message, message
