"""The extra-seeds stage: which runs it trains with which seed, and the files of seeds no longer listed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import pipeline.translators.train as translator_run
from pipeline.studies.transformer import stages
from pipeline.translators.pairs import DATA_FILES
from tests.params_helpers import write_params

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def project(tmp_path, monkeypatch, prepared_piglatin) -> tuple[Path, list[dict]]:
    """A project folder with the real params (h32-small: extra seeds 1 and 3), the small prepared data, and
    `train_translator` replaced by a recorder: no training."""
    write_params(tmp_path, lambda raw: raw["transformer"]["extra_seeds"].update({"h32-small": [1, 3]}))
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    data = tmp_path / "data/prepared/piglatin/small"
    data.mkdir(parents=True)
    for name in DATA_FILES:
        shutil.copy(prepared_piglatin / "data/prepared/piglatin/small" / name, data / name)
    monkeypatch.chdir(tmp_path)
    calls = []
    monkeypatch.setattr(translator_run, "train_translator", lambda **kwargs: calls.append(kwargs))
    monkeypatch.setattr(translator_run, "config_fingerprint", lambda root, shared, *a, **k: f"fingerprint-{shared.seed}")
    monkeypatch.setattr(translator_run, "stop_on_sigterm", lambda: None)
    return tmp_path, calls


def test_each_extra_seed_is_the_same_run_with_the_global_seed_plus_its_offset(project):
    _, calls = project
    stages.train_seeds(run="h32-small")
    assert [c["name"] for c in calls] == ["h32-small-seeds/s1", "h32-small-seeds/s3"]
    assert [c["shared"].seed for c in calls] == [1235, 1237]  # params.yaml: seed 1234
    assert [c["fingerprint"] for c in calls] == ["fingerprint-1235", "fingerprint-1237"]  # each resumes on its own
    assert {c["stage"] for c in calls} == {"train_transformer_seeds@h32-small"}
    assert all(c["run"].hidden_size == 32 and c["run"].num_layers == 4 for c in calls)  # the run's own settings


def test_the_run_itself_keeps_the_global_seed(project):
    _, calls = project
    stages.train(run="h32-small")
    (call,) = calls
    assert (call["name"], call["shared"].seed, call["stage"]) == ("h32-small", 1234, "train_transformer@h32-small")


def test_files_of_seeds_no_longer_listed_are_removed(project):
    root, _ = project
    kept, stale = [], []
    for offset, bucket in ((1, kept), (2, stale)):
        for folder, suffix in (("metrics", ".json"), ("timings", ".json"), ("plots", ".csv")):
            path = root / folder / "transformer/h32-small-seeds" / f"s{offset}{suffix}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("{}")
            bucket.append(path)
        weights = root / "outputs/transformer/h32-small-seeds" / f"s{offset}"
        weights.mkdir(parents=True)
        (weights / "model.safetensors").write_text("")
        bucket.append(weights)
    other_run = root / "metrics/transformer/h64-small-seeds/s2.json"
    other_run.parent.mkdir(parents=True)
    other_run.write_text("{}")
    stages.train_seeds(run="h32-small")  # offsets 1 and 3
    assert all(p.exists() for p in kept)
    assert not any(p.exists() for p in stale)
    assert other_run.exists()  # another run's seeds are that run's stage's business
