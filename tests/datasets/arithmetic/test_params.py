"""The `arithmetic` section of params.yaml: every bad edit fails with one line naming the key."""

from __future__ import annotations

import pytest

from pipeline.datasets.arithmetic import params
from tests.params_helpers import PARAMS, params_error, write_params


def test_real_params_load():
    config = params.load(PARAMS)
    assert (config.train_file, config.test_file) == ("data/raw/verbal_arithmetic_train.csv", "data/raw/verbal_arithmetic_test.csv")
    assert (config.val_fraction, config.split_seed) == (pytest.approx(0.3), 42)


@pytest.mark.parametrize(
    ("edit", "fragments"),
    [
        (lambda raw: raw["arithmetic"].update(val_fraction=1.5), ["arithmetic.val_fraction", "1.5"]),
        (lambda raw: raw["arithmetic"].update(val_fraction=0), ["arithmetic.val_fraction"]),
        (lambda raw: raw["arithmetic"].update(split_seed=-1), ["arithmetic.split_seed", "-1"]),
        (lambda raw: raw["arithmetic"].update(split_seed=2**32), ["arithmetic.split_seed"]),
        (lambda raw: raw["arithmetic"].update(val_frac=0.3), ["arithmetic.val_frac", "unknown key"]),
        (lambda raw: raw["arithmetic"].pop("test_file"), ["arithmetic.test_file", "missing"]),
        (lambda raw: raw.pop("arithmetic"), ["arithmetic: required section is missing"]),
    ],
    ids=["val-fraction-above-1", "val-fraction-zero", "negative-seed", "seed-too-large", "typo-key", "missing-key", "no-section"],
)
def test_bad_edit_names_the_key(tmp_path, edit, fragments):
    message = params_error(params.load, write_params(tmp_path, edit))
    for fragment in fragments:
        assert fragment in message, message
