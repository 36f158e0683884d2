"""The `ablations` section: bad values fail with one line naming the key."""

from __future__ import annotations

import pytest

from pipeline.studies.ablations import params
from tests.params_helpers import params_error, write_params


def test_the_shipped_params_load_and_name_every_position_run():
    setup = params.load()
    runs = setup.config.position_runs()
    encodings, replicates = setup.config.positions.encodings, setup.config.replicates
    assert len(runs) == len(encodings) * len(replicates)
    assert {run.positional_encoding for run in runs.values()} == set(encodings)
    assert all(run.causal_decoder for run in runs.values())  # experiment 1 keeps the mask
    assert setup.seeded(1).seed == setup.shared.seed + 1


def _ablations(raw: dict) -> dict:
    return raw["ablations"]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda raw: _ablations(raw).update(length_buckets=[7, 10]),
            "ablations.length_buckets: the first bucket must start above train_max_length=7",
        ),
        (lambda raw: _ablations(raw).update(length_buckets=[10, 9]), "ablations.length_buckets: bucket edges must increase, got [10, 9]"),
        (lambda raw: _ablations(raw).update(replicates=[0, 0]), "ablations.replicates: must be distinct non-negative integers"),
        (lambda raw: _ablations(raw).update(replicates=[]), "ablations.replicates"),
        (
            lambda raw: _ablations(raw)["transformer"].update(positional_encoding="learned"),
            "ablations.transformer.positional_encoding: set by each experiment",
        ),
        (
            lambda raw: _ablations(raw)["transformer"].update(causal_decoder=False),
            "ablations.transformer.causal_decoder: set by each experiment",
        ),
        (
            lambda raw: _ablations(raw)["positions"].update(encodings=["rotary"]),
            "ablations.positions.encodings.0: Input should be 'none', 'sinusoidal', 'learned' or 'one-hot'",
        ),
        (
            lambda raw: _ablations(raw)["positions"].update(encodings=["none", "learned"]),
            "ablations.positions.encodings: must hold sinusoidal",
        ),
        (
            lambda raw: _ablations(raw)["transformer"].update(hidden_size=16),
            "ablations.transformer.hidden_size: a one-hot position code has one dimension per position",
        ),
        (
            lambda raw: _ablations(raw)["attention"]["run"].update(attention="additive"),
            "ablations.attention.run.attention: set by the matrix axis",
        ),
        (
            lambda raw: _ablations(raw)["attention"].update(kinds=["multiplicative"]),
            "ablations.attention.kinds.0: Input should be 'additive' or 'scaled-dot'",
        ),
        (lambda raw: _ablations(raw)["transformer"].update(dataset="huge"), "ablations.transformer.dataset: must be one of"),
        (lambda raw: _ablations(raw)["attention"]["run"].update(dataset="huge"), "ablations.attention.run.dataset: must be one of"),
        (lambda raw: _ablations(raw).update(train_max_length=0), "ablations.train_max_length: Input should be greater than 0"),
        (
            lambda raw: _ablations(raw)["positions"].update(encodings=["sinusoidal", "sinusoidal"]),
            "ablations.positions.encodings: must not repeat a value",
        ),
        (
            lambda raw: _ablations(raw)["attention"].update(kinds=["additive", "additive"]),
            "ablations.attention.kinds: must not repeat a value",
        ),
    ],
    ids=[
        "bucket-in-trained-range",
        "buckets-decrease",
        "replicates-repeat",
        "no-replicates",
        "encoding-in-base-run",
        "mask-in-base-run",
        "unknown-encoding",
        "no-sinusoidal-twin",
        "one-hot-too-narrow",
        "attention-in-base-run",
        "unknown-attention",
        "unknown-dataset",
        "unknown-attention-dataset",
        "zero-length",
        "encoding-twice",
        "kind-twice",
    ],
)
def test_bad_values_name_the_key(tmp_path, edit, expected):
    assert expected in params_error(params.load, write_params(tmp_path, edit))
