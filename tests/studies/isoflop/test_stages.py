"""A grid member's run: its seed, and what its resume fingerprint and its grid's key depend on."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import pipeline.translators.train as translator_run
from pipeline.datasets.piglatin.data import vocabulary
from pipeline.studies.isoflop import stages
from pipeline.translators.pairs import Pair, write_pairs
from tests.params_helpers import write_params


@pytest.fixture
def project(tmp_path, monkeypatch) -> tuple[list[dict], list[tuple], list[str]]:
    """A project folder with the real params and a prepared small set (a few pairs); `train_translator`,
    the fingerprint and the MLflow parent run replaced by recorders: no training, no tracking."""
    write_params(tmp_path, lambda raw: None)
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    small = tmp_path / "data/prepared/piglatin/small"
    small.mkdir(parents=True)
    write_pairs(small / "train.txt", [Pair("air", "airway"), Pair("yet", "yetay")])
    write_pairs(small / "val.txt", [Pair("try", "ytray")])
    vocabulary().save(small / "vocab.json")
    monkeypatch.chdir(tmp_path)
    calls, keyed, parents = [], [], []
    monkeypatch.setattr(translator_run, "train_translator", lambda **kwargs: calls.append(kwargs))
    monkeypatch.setattr(translator_run, "stop_on_sigterm", lambda: None)

    def fingerprint(root: Path, shared, run, data, stage, **extra) -> str:
        keyed.append((shared.seed, run, stage, extra))
        return f"key-{len(keyed)}"

    monkeypatch.setattr(translator_run, "config_fingerprint", fingerprint)
    monkeypatch.setattr(stages, "grid_parent", lambda key, tags: parents.append(key))  # None: no parent run
    return calls, keyed, parents


def test_a_member_is_keyed_by_its_seed_and_the_grid_by_what_every_member_shares(project):
    calls, keyed, parents = project
    stages.train(run="h32-s1")
    (call,) = calls
    assert (call["name"], call["stage"], call["shared"].seed) == ("h32-s1", "isoflop@h32-1", 1235)  # seed 1234 + 1
    assert call["run"].hidden_size == 32 and call["count_flops"] and call["flop_budget"] == 1.28e12
    grid_key, member_key = keyed
    raw = yaml.safe_load(Path("params.yaml").read_text())["isoflop"]
    grid = {"grid": {"train": raw["train"], "stop_at_flops": raw["stop_at_flops"]}}
    assert grid_key == (1234, None, stages.train, grid)  # no seed offset, no member: shared by the grid
    assert member_key == (1235, call["run"], stages.train, grid)
    assert parents == ["key-1"] and call["fingerprint"] == "key-2"
