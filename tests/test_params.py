"""params.yaml validation: every bad edit fails with one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pydantic import ValidationError

from pipeline.errors import PipelineError
from pipeline.params import load_params

ROOT = Path(__file__).resolve().parent.parent
PARAMS = ROOT / "params.yaml"
RUN = "nmt.runs.h32-small"


def test_real_params_load():
    params = load_params(PARAMS)
    run = params.nmt.runs["h32-small"]
    assert (run.dataset, run.hidden_size, run.num_layers, run.epochs) == ("small", 32, 4, 100)
    assert run.lr == pytest.approx(5e-4)
    assert sorted(params.nmt.matrix.run_names()) == sorted(params.nmt.runs)
    assert params.data.piglatin.val_fraction == pytest.approx(0.2)


def _write(tmp_path: Path, edit) -> Path:
    raw = yaml.safe_load(PARAMS.read_text(encoding="utf-8"))
    edit(raw)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def _error(path: Path) -> str:
    with pytest.raises(PipelineError) as caught:
        load_params(path)
    message = str(caught.value)
    assert "\n" not in message, message
    assert message.startswith(f"{path}"), message
    return message


def _run(raw: dict) -> dict:
    return raw["nmt"]["runs"]["h32-small"]


def test_unedited_copy_loads(tmp_path):
    # Guards the helper: a dump/load round trip alone must not break anything.
    load_params(_write(tmp_path, lambda raw: None))


@pytest.mark.parametrize(
    ("edit", "fragments"),
    [
        (lambda raw: _run(raw).update(hidden_size=-4), [f"{RUN}.hidden_size", "-4"]),
        (lambda raw: _run(raw).update(hidden_size=33), [f"{RUN}.hidden_size", "even", "33"]),
        (lambda raw: _run(raw).update(hidden_size=32.0), [f"{RUN}.hidden_size"]),
        (lambda raw: _run(raw).update(epochs=0), [f"{RUN}.epochs", "0"]),
        (lambda raw: _run(raw).update(epoch=5), [f"{RUN}.epoch:", "unknown key"]),
        (lambda raw: _run(raw).update(lr="fast"), [f"{RUN}.lr", "'fast'"]),
        (lambda raw: _run(raw).update(lr=-1e-3), [f"{RUN}.lr"]),
        (lambda raw: _run(raw).update(lr_decay=1.5), [f"{RUN}.lr_decay", "1.5"]),
        (lambda raw: _run(raw).pop("batch_size"), [f"{RUN}.batch_size", "missing"]),
        (lambda raw: _run(raw).update(dataset="medium"), [f"{RUN}.dataset", "'medium'"]),
        (lambda raw: raw.update(device="tpu"), ["device", "'tpu'"]),
        (lambda raw: raw["nmt"]["matrix"]["model"].append("h48"), ["nmt.runs", "'h48-small'"]),
        (lambda raw: raw["data"]["piglatin"].update(val_fraction=1.5), ["data.piglatin.val_fraction", "1.5"]),
        (lambda raw: raw["data"]["piglatin"].update(val_fraction=0), ["data.piglatin.val_fraction"]),
        (lambda raw: raw.update(sed=1), ["sed", "unknown key"]),
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
        "unknown-dataset",
        "device",
        "matrix-without-run",
        "val-fraction-above-1",
        "val-fraction-zero",
        "top-level-typo",
    ],
)
def test_bad_edit_names_the_key(tmp_path, edit, fragments):
    message = _error(_write(tmp_path, edit))
    for fragment in fragments:
        assert fragment in message, message


def test_unknown_dataset_lists_known_datasets(tmp_path):
    # A run whose dataset is not in data.piglatin.files should name the key and the choices.
    message = _error(_write(tmp_path, lambda raw: _run(raw).update(dataset="medium")))
    assert f"{RUN}.dataset" in message
    assert "large" in message and "small" in message, message


def test_consistent_run_on_unknown_dataset_lists_known_datasets(tmp_path):
    def edit(raw):
        raw["nmt"]["runs"]["h32-medium"] = dict(_run(raw), dataset="medium")

    message = _error(_write(tmp_path, edit))
    assert "nmt.runs.h32-medium.dataset" in message
    assert "['large', 'small']" in message and "'medium'" in message


def test_run_name_must_match_hidden_size(tmp_path):
    def edit(raw):
        _run(raw).update(hidden_size=64)

    message = _error(_write(tmp_path, edit))
    assert f"{RUN}.hidden_size" in message and "64" in message


def test_patience_above_epochs_is_accepted(tmp_path):
    path = _write(tmp_path, lambda raw: _run(raw).update(epochs=5, patience=50))
    run = load_params(path).nmt.runs["h32-small"]
    assert (run.epochs, run.patience) == (5, 50)


def test_exponent_float_written_as_string_is_accepted(tmp_path):
    # YAML 1.1 reads 5e-4 (no dot) as a string; the loader accepts it as a float.
    path = tmp_path / "params.yaml"
    path.write_text(PARAMS.read_text(encoding="utf-8").replace("lr: 5.0e-4", "lr: 5e-4"), encoding="utf-8")
    assert load_params(path).nmt.runs["h32-small"].lr == pytest.approx(5e-4)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    message = _error(path)
    assert message.startswith(f"{path}: ") and "not found" in message


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("seed: 1\ndevice: [cpu\ndata: {}\n", encoding="utf-8")
    message = _error(path)
    assert "not valid YAML" in message
    assert message.startswith(f"{path}:3: ")  # where the parser notices the unclosed '['



def test_top_level_not_a_mapping(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("- 1\n- 2\n", encoding="utf-8")
    assert "mapping" in _error(path)


def test_params_are_frozen():
    params = load_params(PARAMS)
    with pytest.raises(ValidationError):
        params.seed = 1


@pytest.mark.parametrize(
    ("edit", "fragments"),
    [
        (lambda raw: raw.update(seed=-1), ["seed", "-1"]),
        (lambda raw: raw["data"]["piglatin"].update(split_seed=2**32), ["data.piglatin.split_seed"]),
        (lambda raw: raw["nmt"]["eval"].update(max_decode_len=300), ["nmt.eval.max_decode_len", "300"]),
        (lambda raw: raw["nmt"]["eval"]["sentences"].append("hello world!"), ["nmt.eval.sentences", "'!'"]),
    ],
    ids=["negative-seed", "split-seed-too-large", "decode-len-beyond-positions", "sentence-bad-char"],
)
def test_values_that_would_fail_later_fail_at_load(tmp_path, edit, fragments):
    message = _error(_write(tmp_path, edit))
    for fragment in fragments:
        assert fragment in message, message


def test_uppercase_sentence_is_accepted_since_translation_lowercases(tmp_path):
    params = load_params(_write(tmp_path, lambda raw: raw["nmt"]["eval"]["sentences"].append("I Went Shopping")))
    assert "I Went Shopping" in params.nmt.eval.sentences


def test_float_written_without_a_dot_is_a_float(tmp_path):
    # YAML 1.1 reads 5e-4 as a string; it must still mean 0.0005.
    path = tmp_path / "params.yaml"
    path.write_text(PARAMS.read_text().replace("lr: 5.0e-4", "lr: 5e-4"))
    assert load_params(path).nmt.runs["h32-small"].lr == pytest.approx(5e-4)


# ------------------------------------------------------------- decoder-only, IsoFLOP, scaling


def test_real_scaling_params_match_the_assignment():
    params = load_params(PARAMS)
    assert params.isoflop.matrix.hidden_sizes() == {"h16": 16, "h32": 32, "h48": 48, "h64": 64, "h96": 96, "h128": 128}
    assert params.scaling.budgets == pytest.approx([8e10, 1.6e11, 3.2e11, 6.4e11, 1.28e12])
    assert params.decoder_only.run_name == "h128-small"
    assert params.isoflop.train.run(48).hidden_size == 48


@pytest.mark.parametrize(
    ("edit", "fragments"),
    [
        (lambda raw: raw["scaling"].update(budgets=[1e11, 8e10]), ["scaling.budgets.1", "strictly increasing"]),
        (lambda raw: raw["scaling"].update(budgets=[0, 8e10]), ["scaling.budgets.0", "greater than 0"]),
        (lambda raw: raw["scaling"].update(min_models_per_budget=2), ["scaling.min_models_per_budget", "2"]),
        (lambda raw: raw["isoflop"]["matrix"].update(model=["h16", "h33", "h64"]), ["isoflop.matrix.model", "even", "h33"]),
        (lambda raw: raw["isoflop"]["matrix"].update(model=["h16", "big", "h64"]), ["isoflop.matrix.model", "'big'"]),
        (lambda raw: raw["isoflop"].update(stop_at_flops=1e11), ["isoflop.stop_at_flops", "1.28e+12", "1e+11"]),
        (lambda raw: raw["isoflop"]["train"].update(dataset="medium"), ["isoflop.train.dataset", "medium"]),
        (lambda raw: raw["decoder_only"]["run"].update(hidden_size=127), ["decoder_only.run.hidden_size", "even"]),
        (lambda raw: raw["isoflop"]["train"].update(hiden=3), ["isoflop.train.hiden", "unknown key"]),
    ],
)
def test_bad_scaling_params_name_the_key(tmp_path, edit, fragments):
    message = _error(_write(tmp_path, edit))
    for fragment in fragments:
        assert fragment in message, message
