"""The grid's MLflow parent run `isoflop-grid`: its own Source, Description and span, on a temporary store."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml

from pipeline.core import tracking
from pipeline.core.io import file_sha256
from pipeline.core.lineage import OUTPUTS_TAG
from pipeline.core.tracking import NOTE_TAG, RunTracker, run_tags
from pipeline.studies.isoflop import FIT_COMMAND, PARENT_RUN_DESCRIPTION, PARENT_RUN_NAME, SCALING_METRICS, SCALING_TABLE, STUDY, stage_name
from pipeline.studies.isoflop.fit import _log_to_parent_run
from pipeline.studies.isoflop.stages import grid_parent

ROOT = Path(__file__).resolve().parents[3]
MEMBERS = ("h16-s0", "h32-s0")  # runs: model and seed


def test_the_parents_source_is_the_fit_stages_command():
    assert yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["fit_scaling"]["cmd"] == FIT_COMMAND


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project folder (a dvc.yaml) as the working directory, tracking into a fresh SQLite store."""
    root = tmp_path_factory.mktemp("isoflop")
    (root / "dvc.yaml").write_text("stages: {}\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}")
        for name in ("DVC_ROOT", "DVC_STAGE"):
            patch.delenv(name, raising=False)
        patch.chdir(root)
        yield root


def _member_tags(model: str) -> dict[str, str]:
    return run_tags(stage=stage_name(model), dataset="piglatin-small", profile="test", model="transformer-decoder-only")


def test_the_first_member_creates_a_parent_that_shows_the_fit_not_itself(project, monkeypatch):
    monkeypatch.setattr("sys.argv", ["/repo/stages/__main__.py", "isoflop", "train", "--run", "h16-s0"])
    parent = grid_parent("grid-a", _member_tags("h16-s0"))
    assert grid_parent("grid-a", _member_tags("h32-s1")) == parent  # the other runs find it
    client = tracking.client()
    run = client.get_run(parent)
    assert run.info.run_name == PARENT_RUN_NAME and run.info.status == "FINISHED"
    tags = run.data.tags
    assert tags["mlflow.source.name"] == FIT_COMMAND  # not `python -m stages isoflop train --run h16-s0`
    assert tags[NOTE_TAG] == PARENT_RUN_DESCRIPTION
    assert "dvc_stage" not in tags and tags["profile"] == "test"
    assert client.get_experiment_by_name(STUDY.experiment).tags[NOTE_TAG] == STUDY.experiment_description


def test_the_fit_gives_the_parent_its_source_and_a_span_over_the_members_and_the_fit(project, monkeypatch):
    monkeypatch.setattr("sys.argv", ["/repo/stages/__main__.py", "isoflop", "train", "--run", "h16-s0"])
    parent = grid_parent("grid-b", _member_tags("h16-s0"))
    client = tracking.client()
    created = client.get_run(parent)
    member_files, members = {}, []
    for model in MEMBERS:
        paths = STUDY.paths(model)
        files = [project / path for path in paths.lineage]
        for i, file in enumerate(files):
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(f"{model} {i} grid-b\n")
        with RunTracker(STUDY.experiment, model, {OUTPUTS_TAG: file_sha256(*files)}, parent_run_id=parent) as member:
            member.log_metrics({"val_loss": 1.0}, step=1)
        member_files[model] = files
        members.append(client.get_run(member.run_id))
    for path in (SCALING_METRICS, SCALING_TABLE):
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        (project / path).write_text("fits\n")

    monkeypatch.setattr("sys.argv", ["/repo/stages/__main__.py", "isoflop", "fit"])
    result = SimpleNamespace(
        metrics={
            "slope": 0.5,
            "n_opt_per_budget": {"8e10": 2.0e4},
            "budgets_fitted": 2,
            "estimates": {"val_loss": {"isoflop": {"n_opt_low": 1.0e6, "slope_lobo_min": None}}},
        },
        table=pd.DataFrame({"budget": [8e10], "n_opt": [2.0e4]}),
        points=pd.DataFrame({"budget": [8e10], "model": ["h16"], "value": [1.0]}),
        best=pd.DataFrame({"budget": [8e10], "best": ["h16"]}),
        draws=pd.DataFrame({"isoflop.n_opt_target": [1.0e6, 2.0e6], "loss": ["val_loss"] * 2}),
    )
    config = SimpleNamespace(scaling=SimpleNamespace(model_dump=lambda: {"budgets": {"low": 8e10}}), matrix=SimpleNamespace(seed=[0, 1]))
    before = int(time.time() * 1000)
    _log_to_parent_run(config, member_files, result, {}, project)

    after = client.get_run(parent)
    tags = after.data.tags
    assert tags["mlflow.source.name"] == "python -m stages isoflop fit" == FIT_COMMAND
    assert tags[NOTE_TAG] == PARENT_RUN_DESCRIPTION and tags["dvc_stage_fit"] == "fit_scaling"
    assert after.data.metrics["slope"] == 0.5 and after.data.metrics["n_opt_per_budget.8e10"] == 2.0e4
    # The intervals nested under `estimates` arrive flattened; a readout without an answer (null) is left out.
    assert after.data.metrics["estimates.val_loss.isoflop.n_opt_low"] == 1.0e6
    assert "estimates.val_loss.isoflop.slope_lobo_min" not in after.data.metrics
    assert {a.path for a in client.list_artifacts(parent, "tables")} >= {"tables/bootstrap_draws.json", "tables/best_models.json"}
    assert [m.step for m in client.get_metric_history(parent, "slope")] == [0]  # a summary, at step 0
    # MLflow cannot move a start: the parent's is its creation, before its first member's.
    assert after.info.start_time == created.info.start_time <= min(m.info.start_time for m in members)
    assert after.info.end_time >= max(before, *(m.info.end_time for m in members))
    assert after.info.status == "FINISHED"
    assert (tags["fit.seeds"], tags["fit.scaling.budgets.low"]) == ("[0, 1]", "80000000000.0")

    # Fitting the same grid again with other settings (another seed list, other budgets) must not fail:
    # MLflow refuses to change a logged param, so the fit's settings are tags, and the latest fit's show.
    refit = SimpleNamespace(scaling=SimpleNamespace(model_dump=lambda: {"budgets": {"low": 4e10}}), matrix=SimpleNamespace(seed=[0, 2]))
    _log_to_parent_run(refit, member_files, result, {}, project)
    tags = client.get_run(parent).data.tags
    assert (tags["fit.seeds"], tags["fit.scaling.budgets.low"]) == ("[0, 2]", "40000000000.0")
