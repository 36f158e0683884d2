"""MLflow tracking: the store location, run lifecycle, and tolerance to tracking failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import tracking
from pipeline.paths import main_workspace
from pipeline.tracking import RunTracker, flatten


def test_main_workspace_of_a_dvc_temp_copy_is_its_parent(monkeypatch):
    monkeypatch.delenv("DVC_ROOT", raising=False)
    assert main_workspace(Path("/home/u/proj/.dvc/tmp/exps/tmpab12")) == Path("/home/u/proj")
    assert main_workspace(Path("/home/u/proj")) == Path("/home/u/proj")


def test_main_workspace_follows_dvc_root(monkeypatch, tmp_path):
    # DVC sets DVC_ROOT to the parent workspace when it runs queued/temp experiments.
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))
    assert main_workspace() == tmp_path.resolve()


def test_flatten_gives_dotted_names():
    assert flatten({"run": {"lr": 0.1, "opt": {"b": 2}}, "seed": 1}) == {"run.lr": 0.1, "run.opt.b": 2, "seed": 1}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One SQLite store for the module (creating one costs seconds)."""
    root = tmp_path_factory.mktemp("workspace")
    patch = pytest.MonkeyPatch()
    patch.setenv("DVC_ROOT", str(root))
    patch.delenv("MLFLOW_TRACKING_URI", raising=False)
    yield root
    patch.undo()


def _run(store: Path, run_id: str):
    return tracking.client().get_run(run_id)


def test_default_store_lives_in_the_workspace(store):
    assert tracking.tracking_uri() == f"sqlite:///{store / '.mlflow' / 'mlflow.db'}"
    client = tracking.client()
    experiment = client.get_experiment(tracking.experiment_id(client, "unit-store"))
    assert experiment.artifact_location == (store / ".mlflow" / "artifacts" / "unit-store").as_uri()


def test_run_ends_finished_failed_or_killed(store):
    with RunTracker("unit", "ok", {"t": "1"}) as ok:
        ok.log_metrics({"loss": 1.5}, step=3)
    assert _run(store, ok.run_id).info.status == "FINISHED"
    assert _run(store, ok.run_id).data.metrics["loss"] == 1.5
    assert _run(store, ok.run_id).data.tags["t"] == "1"

    with pytest.raises(ValueError):
        with RunTracker("unit", "boom", {}) as failed:
            raise ValueError
    assert _run(store, failed.run_id).info.status == "FAILED"

    with pytest.raises(KeyboardInterrupt):
        with RunTracker("unit", "interrupted", {}) as killed:
            raise KeyboardInterrupt
    assert _run(store, killed.run_id).info.status == "KILLED"


def test_a_tracking_failure_is_recorded_not_raised_and_the_run_still_ends(store, monkeypatch):
    with RunTracker("unit", "flaky", {}) as tracker:
        original = tracker._client.log_batch

        def broken(*args, **kwargs):
            raise RuntimeError("database is locked")

        monkeypatch.setattr(tracker._client, "log_batch", broken)
        tracker.log_metrics({"loss": 1.0}, step=1)  # must not raise
        tracker.log_params({"a": 1})
        monkeypatch.setattr(tracker._client, "log_batch", original)
    assert tracker.failures[0] == "log metrics ['loss']: database is locked"
    assert tracker.failures[1].startswith("skipped: log params")
    assert "database is locked" in tracker.failure_summary()
    assert _run(store, tracker.run_id).info.status == "FINISHED"  # never left RUNNING


def test_resume_file_reopens_the_same_run(store, tmp_path):
    resume_file = tmp_path / "mlflow_run_id"
    with pytest.raises(KeyboardInterrupt):
        with RunTracker("unit", "resumable", {}, resume_file=resume_file) as first:
            first.log_metrics({"val_loss": 2.0}, step=1)
            first.log_metrics({"val_loss": 1.0}, step=2)
            raise KeyboardInterrupt
    assert resume_file.read_text() == first.run_id
    with RunTracker("unit", "resumable", {}, resume_file=resume_file) as second:
        assert second.resumed and second.run_id == first.run_id
        assert second.last_step("val_loss") == 2
        assert second.last_step("never_logged") == 0
    assert _run(store, first.run_id).info.status == "FINISHED"


def test_members_of_a_group_share_one_finished_parent_run(store):
    tags = {"profile": "test"}
    first = tracking.parent_run("grid-test", "grid", key="k1", tags=tags)
    assert tracking.parent_run("grid-test", "grid", key="k1", tags=tags) == first
    other = tracking.parent_run("grid-test", "grid", key="k2", tags=tags)
    assert other != first

    with RunTracker("grid-test", "h16", {"profile": "test"}, parent_run_id=first) as child:
        child.log_metrics({"val_loss": 1.0}, step=1)
    client = tracking.client()
    assert client.get_run(child.run_id).data.tags["mlflow.parentRunId"] == first
    assert client.get_run(first).info.status == "FINISHED"  # a parent never stays RUNNING

    later = RunTracker.existing(first)  # analyses log into the ended parent without reopening it
    later.log_metrics({"slope": 0.5})
    assert client.get_run(first).data.metrics["slope"] == 0.5
    assert client.get_run(first).info.status == "FINISHED" and not later.failures
