"""`train_stage`: what a translator stage's run is keyed by, and what reaches `train_translator`."""

from __future__ import annotations

from pathlib import Path

import pytest

import pipeline.translators.train as translator_run
from pipeline.core.params import StudySetup, load_shared
from pipeline.core.paths import Study
from pipeline.datasets.piglatin.params import load as load_piglatin
from pipeline.translators.architectures import DECODER_ONLY
from pipeline.translators.params import TranslatorRun
from pipeline.translators.train import config_fingerprint, train_stage

ROOT = Path(__file__).resolve().parents[2]
STUDY = Study("demo", experiment="demo")
CONFIG = TranslatorRun(dataset="small", num_layers=1, epochs=1, patience=1, batch_size=2, lr=0.01, lr_decay=1, hidden_size=8)


def stage_a() -> None:
    """A stand-in stage function; its code fingerprint is this test module's closure."""


@pytest.fixture
def calls(monkeypatch):
    """The source tree as the project root (the code fingerprint reads it), `train_translator` a recorder."""
    monkeypatch.chdir(ROOT)
    recorded = []
    monkeypatch.setattr(translator_run, "train_translator", lambda **kwargs: recorded.append(kwargs))
    monkeypatch.setattr(translator_run, "stop_on_sigterm", lambda: None)
    return recorded


@pytest.fixture
def setup():
    return StudySetup(load_shared(ROOT / "params.yaml"), None, load_piglatin(ROOT / "params.yaml"))


def test_the_run_gets_its_seed_offset_and_the_datasets_evaluation(calls, setup, prepared_piglatin):
    data = setup.data.prepared(prepared_piglatin, "small")
    train_stage(stage_a, setup, STUDY, "train_demo@x", "x-s2", CONFIG, DECODER_ONLY, data, seed_offset=2, parent_run_id="p")
    (call,) = calls
    assert call["shared"].seed == setup.shared.seed + 2 and call["shared"].device == setup.shared.device
    assert call["evaluation"] == setup.data.eval
    assert (call["study"], call["stage"], call["name"], call["run"]) == (STUDY, "train_demo@x", "x-s2", CONFIG)
    assert (call["architecture"], call["data"], call["parent_run_id"]) == (DECODER_ONLY, data, "p")  # options pass


def test_the_run_is_keyed_by_the_stage_function_its_seed_and_the_extras(calls, setup, prepared_piglatin):
    data = setup.data.prepared(prepared_piglatin, "small")
    variants = [(0, stage_a, None), (0, stage_a, {"grid": {"a": 1}}), (1, stage_a, None), (0, train_stage, None)]
    for offset, function, extra in variants:
        train_stage(function, setup, STUDY, "s", "n", CONFIG, DECODER_ONLY, data, seed_offset=offset, fingerprint_extra=extra)
    fingerprints = [call["fingerprint"] for call in calls]
    assert len(set(fingerprints)) == 4  # each of the four differences is a different key
    # The key is the one `config_fingerprint` gives (resume files written before keep matching).
    seeded = setup.shared.model_copy(update={"seed": setup.shared.seed + 1})
    assert fingerprints[0] == config_fingerprint(ROOT, setup.shared, CONFIG, data, stage_a)
    assert fingerprints[1] == config_fingerprint(ROOT, setup.shared, CONFIG, data, stage_a, grid={"a": 1})
    assert fingerprints[2] == config_fingerprint(ROOT, seeded, CONFIG, data, stage_a)
