"""dvc.yaml keeps timings apart from results, checked on the real dvc.yaml and workspace.

A stage whose metrics files hold timings, or have a timings twin (metrics/x.json ->
timings/x.json, written by `pipeline.core.io.write_metrics`), must declare the twin as a
plain out (cache: false, persist: true) beside its metrics: never as a metric, or
`dvc metrics diff` would show a change after every rerun of unchanged code. Which stages
write timings is read from the files the last run left (the committed metrics/ and
timings/), so forgetting the twin of a stage that ran fails here.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import pytest
import yaml

from pipeline.core.io import timing_keys
from pipeline.core.paths import METRICS_DIR, TIMINGS_DIR, timings_file

ROOT = Path(__file__).resolve().parents[1]


@functools.cache
def dvc_stages() -> dict[str, dict]:
    return yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def _body(stage: str) -> dict:
    definition = dvc_stages()[stage]
    return definition.get("do", definition)  # a foreach stage declares its outputs under `do`


def _declared(body: dict, kind: str) -> dict[str, dict]:
    """The `kind` (outs, metrics, plots) entries of a stage: path -> flags."""
    entries = {}
    for entry in body.get(kind, []):
        entries.update({entry: {}} if isinstance(entry, str) else {path: flags or {} for path, flags in entry.items()})
    return entries


def _workspace_paths(template: str) -> list[Path]:
    """The workspace files or folders a dvc.yaml path stands for (`${item.model}` / `${key}`: any)."""
    return sorted(ROOT.glob(re.sub(r"\$\{[^}]+\}", "*", template)))


def _json_files(path: Path) -> list[Path]:
    return sorted(path.rglob("*.json")) if path.is_dir() else [path]


def _writes_timings(metrics_template: str) -> bool:
    """Whether the last run of the stage left timings: in its metrics files or in their twins."""
    for path in _workspace_paths(metrics_template):
        if (ROOT / timings_file(path.relative_to(ROOT))).exists():
            return True
        if any(timing_keys(json.loads(file.read_text())) for file in _json_files(path)):
            return True
    return False


@functools.cache
def _stages_writing_timings() -> dict[str, list[str]]:
    """stage -> its metrics paths (dvc.yaml templates) whose files hold or have timings."""
    found = {}
    for stage in dvc_stages():
        templates = [path for path in _declared(_body(stage), "metrics") if _writes_timings(path)]
        if templates:
            found[stage] = templates
    return found


def test_the_workspace_shows_which_stages_write_timings():
    """Not vacuous: the transformer runs and the written checks measured time."""
    assert {"train_transformer", "written_checks"} <= set(_stages_writing_timings())


@pytest.mark.parametrize("stage", sorted(dvc_stages()))
def test_a_stage_writing_timings_declares_their_twin_as_a_plain_out(stage: str):
    body = _body(stage)
    outs = _declared(body, "outs")
    for template in _stages_writing_timings().get(stage, []):
        twin = str(timings_file(Path(template)))
        assert twin in outs, f"dvc.yaml: {stage}: {template} has timings; declare `{twin}` under outs"
        assert outs[twin] == {"persist": True, "cache": False}, f"dvc.yaml: {stage}: {twin} must be persist: true, cache: false"


@pytest.mark.parametrize("stage", sorted(dvc_stages()))
def test_timings_are_never_metrics_and_always_twins_of_the_stage_metrics(stage: str):
    body = _body(stage)
    for kind in ("metrics", "plots"):
        misplaced = [path for path in _declared(body, kind) if Path(path).parts[0] == TIMINGS_DIR.name]
        assert not misplaced, f"dvc.yaml: {stage}: {misplaced} declared as {kind}: timings are plain outs"
    metrics = set(_declared(body, "metrics"))
    for path in _declared(body, "outs"):
        if Path(path).parts[0] == TIMINGS_DIR.name:
            twin = str(METRICS_DIR / Path(path).relative_to(TIMINGS_DIR))
            assert twin in metrics, f"dvc.yaml: {stage}: {path} is the twin of no metrics path of the stage"


def test_the_report_depends_on_the_timings():
    """It finds each run by the hash of its metrics, curve and timings: a rerun that changed
    only the timings must rerun the report, which then marks the new run current."""
    assert TIMINGS_DIR.name in _body("report")["deps"]
