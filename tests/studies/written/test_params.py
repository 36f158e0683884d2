"""The `written` section of params.yaml: every bad edit fails with one line naming the key,
and the stage command exits 2 with that line before importing torch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.studies.written import params
from tests.params_helpers import PARAMS, params_error, write_params
from tests.studies.written.settings import BLOCK

ROOT = Path(__file__).resolve().parents[3]


def with_written(edit=lambda block: None):
    """A params edit: the tests' `written` section, then `edit(section)`."""

    def apply(raw: dict) -> None:
        raw["written"] = {key: (list(value) if isinstance(value, list) else value) for key, value in BLOCK.items()}
        edit(raw["written"])

    return apply


def test_the_block_loads(tmp_path):
    setup = params.load(write_params(tmp_path, with_written()))
    shared, config = setup.shared, setup.config
    assert config.chain_layers == 5 and config.steps == list(range(2, 11)) and config.maxpool_k == 2
    assert config.conv_kernel == [2.0, 0.0, 1.0] and config.encoder_sizes[1] == [100, 256]
    assert shared.seed == yaml.safe_load(PARAMS.read_text())["seed"]


def test_real_params_load_once_merged():
    if "written" not in yaml.safe_load(PARAMS.read_text()):
        pytest.skip("params.yaml has no written section yet")
    params.load(PARAMS)


@pytest.mark.parametrize(
    ("edit", "fragments"),
    [
        (lambda w: w.update(chain_layers=1), ["written.chain_layers", "greater than or equal to 2", "got 1"]),
        (lambda w: w.update(maxpool_k=0), ["written.maxpool_k", "greater than or equal to 1", "got 0"]),
        (lambda w: w.update(jacobian_steps=[1, 10]), ["written.jacobian_steps", "at least 2", "got 1"]),
        (lambda w: w.update(jacobian_steps=[5, 3]), ["written.jacobian_steps", "must not decrease"]),
        (lambda w: w.update(jacobian_steps=[2]), ["written.jacobian_steps"]),
        (lambda w: w.update(conv_kernel=[2, 0, -1]), ["written.conv_kernel", ">= 0"]),
        (lambda w: w.update(conv_kernel=[2, 1]), ["written.conv_kernel", "odd length"]),
        (lambda w: w.update(scales=[1, 10, 5]), ["written.scales.2", "strictly increasing"]),
        (lambda w: w.update(scales=[0, 1]), ["written.scales.0", "greater than 0"]),
        (lambda w: w.update(sequence_length=4), ["written.sequence_length", "5 tokens", "got 4"]),
        (lambda w: w.update(encoder_sizes=[[3, 2, 1]]), ["written.encoder_sizes.0"]),
        (lambda w: w.update(samples=0), ["written.samples", "got 0"]),
        (lambda w: w.update(chain_layer=3), ["written.chain_layer", "unknown key"]),
        (lambda w: w.pop("maxpool_k"), ["written.maxpool_k", "missing"]),
        (lambda w: w.update(network_sizes=[[3, 5, 4]]), ["written.network_sizes.0"]),
        (lambda w: w.update(classifier_logits=[0]), ["written.classifier_logits.0", "greater than 0"]),
        (lambda w: w.update(published={"classifier_parameters": {"cnn": {10: 1}}}), ["written.published.classifier_parameters.cnn"]),
    ],
    ids=[
        "chain-n-1",
        "k-0",
        "steps-from-1",
        "steps-decrease",
        "steps-one-value",
        "negative-kernel",
        "even-kernel",
        "scales-unsorted",
        "scale-zero",
        "sequence-too-short",
        "encoder-size-triple",
        "no-samples",
        "typo",
        "missing-k",
        "network-size-triple",
        "no-logits",
        "published-network",
    ],
)
def test_bad_edit_names_the_key(tmp_path, edit, fragments):
    message = params_error(params.load, write_params(tmp_path, with_written(edit)))
    for fragment in fragments:
        assert fragment in message, message


def test_missing_section_is_one_line(tmp_path):
    message = params_error(params.load, write_params(tmp_path, lambda raw: raw.pop("written", None)))
    assert message.endswith("written: required section is missing")


@pytest.mark.parametrize(("key", "value"), [("chain_layers", 1), ("maxpool_k", 0)])
def test_stage_command_exits_2_with_one_line(tmp_path, key, value):
    write_params(tmp_path, with_written(lambda w: w.update({key: value})))
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DVC_"))} | {"PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "stages", "written", "check"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"error: params.yaml: written.{key}: "), result.stderr
    assert not (tmp_path / "metrics").exists() and not (tmp_path / ".mlflow").exists()
