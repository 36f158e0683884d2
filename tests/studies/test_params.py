"""One template per role across the studies: every `params.load()` returns a `StudySetup`, and every
published reference figure sits under `<study>.published` (never a `published_*` key elsewhere)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml

from pipeline.core.params import SHARED_KEYS, StudySetup

ROOT = Path(__file__).resolve().parents[2]
PARAMS = ROOT / "params.yaml"
# The prepare stages of the datasets: their params.py re-exports the dataset's own section loader.
DATASET_STUDIES = {"piglatin", "arithmetic"}
STUDIES = sorted(p.parent.name for p in (ROOT / "pipeline" / "studies").glob("*/params.py") if p.parent.name not in DATASET_STUDIES)


@pytest.mark.parametrize("study", STUDIES)
def test_every_study_loads_one_setup(study):
    params = importlib.import_module(f"pipeline.studies.{study}.params")
    setup = params.load(PARAMS)
    assert isinstance(setup, StudySetup)
    raw = yaml.safe_load(PARAMS.read_text())
    assert setup.shared.seed == raw["seed"]
    assert setup.config == type(setup.config).model_validate(raw[study])  # config: the study's own section
    if setup.data is not None:  # data: the section of a dataset (pipeline/datasets/<name>)
        dataset = importlib.import_module(type(setup.data).__module__.removesuffix(".params")).STUDY.name
        assert setup.data == type(setup.data).model_validate(raw[dataset])


def _published_keys(node: object, path: str) -> list[str]:
    """Every key path below `node` that holds or names a published figure."""
    if not isinstance(node, dict):
        return []
    found = [f"{path}.{key}" for key in node if str(key).startswith("published")]
    return found + [key for name, value in node.items() for key in _published_keys(value, f"{path}.{name}")]


def test_published_figures_sit_under_each_study_published():
    raw = yaml.safe_load(PARAMS.read_text())
    keys = [key for section, value in raw.items() if section not in SHARED_KEYS for key in _published_keys(value, section)]
    assert keys and all(key.count(".") == 1 and key.endswith(".published") for key in keys), keys
