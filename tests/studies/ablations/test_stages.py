"""The stages' own checks, and the length split written by `prepare` in a scratch project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.core.errors import PipelineError
from pipeline.datasets.piglatin.data import vocabulary
from pipeline.studies.ablations import stages
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
    assert json.loads((prepared / "vocab.json").read_text()) == json.loads(
        (project / "data/prepared/piglatin/small/vocab.json").read_text()
    )
    statistics = json.loads((project / "metrics/data/ablations.json").read_text())
    assert statistics == {"train_pairs": 3, "val_pairs": 1, "long_pairs": 2, "long_source_lengths": {"7": 1, "12": 1}}


def test_prepare_refuses_a_split_with_an_empty_side(tmp_path, monkeypatch):
    project = _project(tmp_path, lambda raw: raw["ablations"].update(train_max_length=20, length_buckets=[21]))
    monkeypatch.chdir(project)
    with pytest.raises(PipelineError, match="ablations.train_max_length: leaves no longer pair of data set 'small', got 20"):
        stages.prepare()
    assert not (project / "data/prepared/ablations").exists()  # nothing half-written


def test_each_run_trains_with_seed_plus_its_replicate_under_its_own_stage(tmp_path, monkeypatch):
    import pipeline.translators.train as translator_run

    project = _project(tmp_path, lambda raw: raw["ablations"].update(train_max_length=6, length_buckets=[7]))
    monkeypatch.chdir(project)
    stages.prepare()
    calls = []
    monkeypatch.setattr(translator_run, "train_translator", lambda **kwargs: calls.append(kwargs))
    monkeypatch.setattr(translator_run, "stop_on_sigterm", lambda: None)
    monkeypatch.setattr(translator_run, "config_fingerprint", lambda root, shared, run, data, stage: (shared.seed, stage))
    stages.positions(encoding="learned", replicate="1")
    stages.unmasked(replicate="0")
    stages.attention(kind="scaled-dot", replicate="1")
    named = [(c["name"], c["stage"], c["shared"].seed, c["data"].name, c["architecture"].name) for c in calls]
    assert named == [  # params.yaml: seed 1234
        ("positions-learned-1", "train_ablations_positions@learned-1", 1235, "piglatin-small-up-to-6", "transformer-encoder-decoder"),
        ("unmasked-0", "train_ablations_unmasked@0", 1234, "piglatin-small-up-to-6", "transformer-encoder-decoder"),
        ("attention-scaled-dot-1", "train_ablations_attention@scaled-dot-1", 1235, "piglatin-small", "rnn-dot-attention"),
    ]
    # Each run's resume file is keyed by the stage function DVC runs.
    assert [c["fingerprint"] for c in calls] == [(1235, stages.positions), (1234, stages.unmasked), (1235, stages.attention)]
    assert (calls[0]["run"].positional_encoding, calls[1]["run"].causal_decoder, calls[2]["run"].attention) == (
        "learned",
        False,
        "scaled-dot",
    )
