"""The `transformer` section of params.yaml: runs consistent with the matrix, their names and the data."""

from __future__ import annotations

import pytest

from pipeline.core.errors import PipelineError
from pipeline.studies.transformer import params, stages
from tests.params_helpers import PARAMS, params_error, write_params

RUN = "transformer.runs.h32-small"


def _run(raw: dict) -> dict:
    return raw["transformer"]["runs"]["h32-small"]


def test_real_params_load():
    setup = params.load(PARAMS)
    run = setup.config.runs["h32-small"]
    assert (run.dataset, run.hidden_size, run.num_layers, run.epochs) == ("small", 32, 4, 100)
    assert run.lr == pytest.approx(5e-4)
    assert setup.config.matrix.run_names() == ["h32-small", "h32-large", "h64-small", "h64-large"]
    assert sorted(setup.config.runs) == sorted(setup.config.matrix.run_names())
    assert setup.config.published.best_val_loss["h64-large"] == pytest.approx((0.25, 0.65))
    assert (setup.shared.seed, setup.data.eval.max_decode_len) == (1234, 20)


def test_unedited_copy_loads(tmp_path):
    params.load(write_params(tmp_path, lambda raw: None))


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda raw: _run(raw).update(hidden_size=64), f"{RUN}.hidden_size: the run name says 32, got 64"),
        (lambda raw: _run(raw).update(dataset="large"), f"{RUN}.dataset: the run name says 'small', got 'large'"),
        (
            lambda raw: raw["transformer"]["runs"].update(big=_run(raw)),
            "transformer.runs.big: run names must look like h<hidden>-<dataset>, e.g. h32-small",
        ),
    ],
    ids=["hidden-size", "dataset", "malformed"],
)
def test_run_name_must_match_its_settings(tmp_path, edit, expected):
    assert params_error(params.load, write_params(tmp_path, edit)).endswith(f": {expected}")


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda raw: _run(raw).update(dataset="medium"), f"{RUN}.dataset"),
        (
            lambda raw: raw["transformer"]["runs"].update({"h32-medium": dict(_run(raw), dataset="medium")}),
            "transformer.runs.h32-medium.dataset",
        ),
        (lambda raw: raw["transformer"]["matrix"]["dataset"].append("medium"), "transformer.matrix.dataset"),
    ],
    ids=["run", "consistent-run", "matrix"],
)
def test_dataset_must_be_one_piglatin_prepares(tmp_path, edit, key):
    message = params_error(params.load, write_params(tmp_path, edit))
    assert message.endswith(f": {key}: must be one of ['large', 'small'] (piglatin.files), got 'medium'"), message


def test_matrix_run_missing_from_runs(tmp_path):
    message = params_error(params.load, write_params(tmp_path, lambda raw: raw["transformer"]["matrix"]["model"].append("h48")))
    assert message.endswith(": transformer.runs: the matrix asks for run 'h48-small' but transformer.runs has no such entry")


def test_published_loss_of_an_unknown_run(tmp_path):
    message = params_error(
        params.load, write_params(tmp_path, lambda raw: raw["transformer"]["published"]["best_val_loss"].update({"h48-small": [1, 2]}))
    )
    assert "transformer.published.best_val_loss.h48-small: no such run (known: h32-small, h32-large" in message


@pytest.mark.parametrize(
    ("edit", "fragments"),
    [
        (lambda raw: _run(raw).update(hidden_size=-4), [f"{RUN}.hidden_size", "-4"]),
        (lambda raw: _run(raw).update(hidden_size=33), [f"{RUN}.hidden_size", "even", "33"]),
        (lambda raw: _run(raw).update(hidden_size=32.0), [f"{RUN}.hidden_size", "32.0"]),
        (lambda raw: _run(raw).update(epochs=0), [f"{RUN}.epochs", "0"]),
        (lambda raw: _run(raw).update(epoch=5), [f"{RUN}.epoch:", "unknown key"]),
        (lambda raw: _run(raw).update(lr="fast"), [f"{RUN}.lr", "'fast'"]),
        (lambda raw: _run(raw).update(lr=-1e-3), [f"{RUN}.lr", "greater than 0"]),
        (lambda raw: _run(raw).update(lr_decay=1.5), [f"{RUN}.lr_decay", "1.5"]),
        (lambda raw: _run(raw).pop("batch_size"), [f"{RUN}.batch_size", "missing"]),
        (lambda raw: raw["transformer"]["matrix"].update(model=[]), ["transformer.matrix.model", "at least 1 item"]),
        (
            lambda raw: raw["transformer"]["published"]["best_val_loss"].update({"h32-small": [1]}),
            ["transformer.published.best_val_loss.h32-small.1", "missing"],
        ),
        (lambda raw: raw.update(device="tpu"), ["device", "'tpu'"]),
        (lambda raw: raw["piglatin"].update(val_fraction=1.5), ["piglatin.val_fraction", "1.5"]),
    ],
    ids=[
        "negative-hidden",
        "odd-hidden",
        "float-hidden",
        "zero-epochs",
        "typo-key",
        "lr-word",
        "negative-lr",
        "decay-above-1",
        "missing-key",
        "empty-matrix",
        "range-of-one",
        "shared-device",
        "piglatin-section",
    ],
)
def test_bad_edit_names_the_key(tmp_path, edit, fragments):
    message = params_error(params.load, write_params(tmp_path, edit))
    for fragment in fragments:
        assert fragment in message, message


def test_patience_above_epochs_is_accepted(tmp_path):
    run = params.load(write_params(tmp_path, lambda raw: _run(raw).update(epochs=5, patience=50))).config.runs["h32-small"]
    assert (run.epochs, run.patience) == (5, 50)


def test_exponent_float_written_as_string_is_accepted(tmp_path):
    # YAML 1.1 reads 5e-4 (no dot) as a string; the loader accepts it as a float.
    path = tmp_path / "params.yaml"
    path.write_text(PARAMS.read_text(encoding="utf-8").replace("lr: 5.0e-4", "lr: 5e-4"), encoding="utf-8")
    assert params.load(path).config.runs["h32-small"].lr == pytest.approx(5e-4)


def test_stage_with_an_unknown_run_is_one_line(tmp_path, monkeypatch):
    write_params(tmp_path, lambda raw: None)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PipelineError) as caught:
        stages.train(run="h48-small")
    assert str(caught.value) == "params.yaml: transformer.runs: no run 'h48-small' (known: h32-small, h32-large, h64-small, h64-large)"


# ------------------------------------------------------------------- extra seeds and the published figures per version


def test_extra_seeds_train_the_small_runs_twice_and_the_large_once():
    config = params.load(PARAMS).config
    assert config.replicates("h32-small") == ["h32-small", "h32-small-seeds/s1"]
    assert config.replicates("h64-small") == ["h64-small", "h64-small-seeds/s1"]
    assert config.replicates("h64-large") == ["h64-large"]
    assert config.published.best_val_loss_2021["h64-large"] == pytest.approx((0.178, 0.333))
    assert config.published.best_val_loss_2022["h32-small"] == pytest.approx((0.88, 1.023))


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda raw: raw["transformer"]["extra_seeds"].update({"h48-small": [1]}),
            "transformer.extra_seeds.h48-small: no such run in the matrix (runs: h32-small, h32-large, h64-small, h64-large)",
        ),
        (
            lambda raw: raw["transformer"]["extra_seeds"].update({"h32-small": [1, 1]}),
            "transformer.extra_seeds.h32-small: offsets must be distinct, got [1, 1]",
        ),
        (lambda raw: raw.update(seed=2**32 - 1), "transformer.extra_seeds.h32-small: seed 4294967295 + offset 1 must stay below 2**32"),
    ],
    ids=["unknown-run", "repeated-offset", "seed-overflow"],
)
def test_bad_extra_seeds_name_the_key(tmp_path, edit, expected):
    assert params_error(params.load, write_params(tmp_path, edit)).endswith(f": {expected}")


@pytest.mark.parametrize(
    ("edit", "fragments"),
    [
        (
            lambda raw: raw["transformer"]["extra_seeds"].update({"h32-small": [0]}),
            ["transformer.extra_seeds.h32-small.0", "greater than 0"],
        ),
        (lambda raw: raw["transformer"]["extra_seeds"].update({"h32-small": []}), ["transformer.extra_seeds.h32-small", "at least 1 item"]),
        (lambda raw: raw["transformer"].pop("extra_seeds"), ["transformer.extra_seeds", "missing"]),
        (
            lambda raw: raw["transformer"]["published"]["best_val_loss_2021"].update({"h48-small": [1, 2]}),
            ["transformer.published.best_val_loss_2021.h48-small: no such run"],
        ),
    ],
    ids=["offset-zero-is-the-run-itself", "empty-list", "missing", "published-unknown-run"],
)
def test_bad_seed_or_published_edit_names_the_key(tmp_path, edit, fragments):
    message = params_error(params.load, write_params(tmp_path, edit))
    for fragment in fragments:
        assert fragment in message, message


def test_seeds_stage_of_a_run_without_extra_seeds_is_one_line(tmp_path, monkeypatch):
    write_params(tmp_path, lambda raw: None)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PipelineError) as caught:
        stages.train_seeds(run="h64-large")
    assert str(caught.value) == (
        "params.yaml: transformer.extra_seeds.h64-large: no such entry (runs with extra seeds: h32-small, h64-small)"
    )
