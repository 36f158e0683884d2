"""The `add2digits` section of params.yaml: every bad edit fails with one line naming the key."""

from __future__ import annotations

import pytest

from pipeline.studies.add2digits import params
from tests.params_helpers import PARAMS, params_error, write_params


def test_real_params_hold_the_reference_protocol():
    config = params.load(PARAMS).config
    assert config.matrix.runs() == ["rnn-L5", "rnn-L10", "rnn-L30", "lstm-L5", "lstm-L10", "lstm-L30"]
    assert config.lengths() == {"L5": 5, "L10": 10, "L30": 30}
    assert (config.model.hidden_size, config.model.num_layers) == (128, 2)
    reference = config.reference
    assert (reference.examples, reference.train_examples, reference.epochs) == (1000, 666, 300)
    assert (reference.lr.rnn, reference.lr.lstm) == (pytest.approx(0.005), pytest.approx(0.013))
    assert config.extended.active.seeds == [0, 1, 2]
    assert config.published.reference["rnn-L5"].best_test_accuracy == pytest.approx(0.317)
    assert config.check_run("lstm-L30") == ("lstm", "L30")
    # The homework's protocol runs at every length by default, L30 included.
    assert all(config.runs_reference(length) for length in ("L5", "L10", "L30"))
    variant = config.published.later_variant  # a later course variant's figures, not the homework's
    assert (variant.train_examples, variant.epochs, variant.test_accuracy["rnn-L30"]) == (5000, 20, pytest.approx(0.16))


def test_an_unknown_run_names_the_matrix():
    config = params.load(PARAMS).config
    with pytest.raises(ValueError, match=r"add2digits.matrix: no run 'gru-L5' \(known: rnn-L5, "):
        config.check_run("gru-L5")


def _a2d(raw: dict) -> dict:
    return raw["add2digits"]


@pytest.mark.parametrize(
    ("edit", "fragments"),
    [
        (
            lambda raw: _a2d(raw)["matrix"].update(length=["L5", "L2"]),
            ["add2digits.matrix.length.1: sequence length must be at least 3", "got 'L2'"],
        ),
        (lambda raw: _a2d(raw)["matrix"].update(length=[5]), ["add2digits.matrix.length.0: lengths are written L<n>", "got 5"]),
        (lambda raw: _a2d(raw)["matrix"].update(length=["L5", "L5"]), ["add2digits.matrix.length: lengths must be unique"]),
        (lambda raw: _a2d(raw)["matrix"].update(cell=["rnn", "gru"]), ["add2digits.matrix.cell.1", "'rnn' or 'lstm'", "'gru'"]),
        (
            lambda raw: _a2d(raw)["reference"].update(train_examples=1000),
            ["add2digits.reference.train_examples: must be below examples (1000)", "got 1000"],
        ),
        (lambda raw: _a2d(raw)["reference"]["lr"].update(lstm=0), ["add2digits.reference.lr.lstm: Input should be greater than 0"]),
        (lambda raw: _a2d(raw)["model"].update(hidden_size=-4), ["add2digits.model.hidden_size: Input should be greater than 0, got -4"]),
        (lambda raw: _a2d(raw)["extended"].update(preset="huge"), ["add2digits.extended.preset: no preset 'huge' (known: "]),
        (
            lambda raw: _a2d(raw)["extended"]["presets"]["default"].update(examples=1000),
            ["add2digits.extended.presets.default.examples: must exceed val_examples + test_examples (1000)"],
        ),
        (
            lambda raw: _a2d(raw)["extended"]["presets"]["default"].update(seeds=[0, 0]),
            ["add2digits.extended.presets.default.seeds: must be unique"],
        ),
        (
            lambda raw: _a2d(raw)["published"]["reference"].update({"gru-L5": {"test_accuracy": 0.2}}),
            ["add2digits.published.reference.gru-L5: run names read <cell>-L<length>"],
        ),
        (
            lambda raw: _a2d(raw)["published"]["reference"]["rnn-L5"].update(best_test_accuracy=1.5),
            ["add2digits.published.reference.rnn-L5.best_test_accuracy", "1.5"],
        ),
        (lambda raw: _a2d(raw).update(fails_below=0), ["add2digits.fails_below", "0"]),
        (lambda raw: _a2d(raw)["reference"].update(epoch=3), ["add2digits.reference.epoch: unknown key"]),
        (lambda raw: _a2d(raw).pop("matrix"), ["add2digits.matrix: required key is missing"]),
        (
            lambda raw: _a2d(raw)["reference"].update(lengths=["L5", "L7"]),
            ["add2digits.reference.lengths.1: 'L7' is not a matrix length (matrix.length: ['L5', 'L10', 'L30'])"],
        ),
    ],
    ids=[
        "length-2",
        "length-int",
        "length-twice",
        "unknown-cell",
        "no-test-set",
        "lr-0",
        "hidden",
        "preset",
        "extended-split",
        "seeds-twice",
        "published-name",
        "published-range",
        "fails-below",
        "typo",
        "no-matrix",
        "reference-length",
    ],
)
def test_bad_edit_names_the_key(tmp_path, edit, fragments):
    message = params_error(params.load, write_params(tmp_path, edit))
    for fragment in fragments:
        assert fragment in message, message
