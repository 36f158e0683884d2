"""The stages' own checks, and the length split written by `prepare` in a scratch project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.core.errors import PipelineError
from pipeline.studies.ablations import stages
from pipeline.datasets.piglatin.data import vocabulary
from tests.params_helpers import write_params


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda: stages.positions(encoding="rotary", replicate="0"), "ablations.positions.encodings: no encoding 'rotary'"),
        (lambda: stages.positions(encoding="sinusoidal", replicate="7"), "ablations.replicates: no replicate '7'"),
        (lambda: stages.unmasked(replicate="-1"), "ablations.replicates: no replicate '-1'"),
        (lambda: stages.attention(kind="multiplicative", replicate="0"), "ablations.attention.kinds: no kind 'multiplicative'"),
    ],
)
def test_unknown_matrix_items_fail_in_one_line_before_any_work(call, expected):
    with pytest.raises(PipelineError, match=expected):
        call()


def _project(tmp_path: Path, edit=lambda raw: None) -> Path:
    """A scratch project: params.yaml, an empty dvc.yaml and a prepared small set."""
    write_params(tmp_path, edit)  # tmp_path/params.yaml
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    small = tmp_path / "data/prepared/piglatin/small"
    small.mkdir(parents=True)
    (small / "train.txt").write_text("air airway\nstreet eetstray\nyet yetay\nconditioning onditioningcay\n")
    (small / "val.txt").write_text("try ytray\nworking orkingway\n")
    vocabulary().save(small / "vocab.json")
    return tmp_path


def test_prepare_writes_the_short_words_and_pools_the_long_ones(tmp_path, monkeypatch):
    project = _project(tmp_path, lambda raw: raw["ablations"].update(train_max_length=6, length_buckets=[7]))
    monkeypatch.chdir(project)
    stages.prepare()
    prepared = project / "data/prepared/ablations"
    assert (prepared / "train.txt").read_text() == "air airway\nstreet eetstray\nyet yetay\n"
    assert (prepared / "val.txt").read_text() == "try ytray\n"
    assert (prepared / "long.txt").read_text() == "conditioning onditioningcay\nworking orkingway\n"
    assert json.loads((prepared / "vocab.json").read_text()) == json.loads((project / "data/prepared/piglatin/small/vocab.json").read_text())
    statistics = json.loads((project / "metrics/data/ablations.json").read_text())
    assert statistics == {"train_pairs": 3, "val_pairs": 1, "long_pairs": 2, "long_source_lengths": {"7": 1, "12": 1}}


def test_prepare_refuses_a_split_with_an_empty_side(tmp_path, monkeypatch):
    project = _project(tmp_path, lambda raw: raw["ablations"].update(train_max_length=20, length_buckets=[21]))
    monkeypatch.chdir(project)
    with pytest.raises(PipelineError, match="ablations.train_max_length: leaves no longer pair of data set 'small', got 20"):
        stages.prepare()
    assert not (project / "data/prepared/ablations").exists()  # nothing half-written
