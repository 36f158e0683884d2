"""MLflow tracking: the store location, run lifecycle, tolerance to tracking failures, tags and git state."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pipeline.core import tracking
from pipeline.core.paths import main_workspace
from pipeline.core.tracking import RunTracker, flatten, git_state, run_tags


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


def test_a_sqlite_store_named_by_the_environment_keeps_its_artifacts_beside_it(mlflow_store, monkeypatch, tmp_path):
    """Not MLflow's default `./mlruns` under the folder the command ran in."""
    import pandas as pd

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_store)
    monkeypatch.chdir(tmp_path)
    client = tracking.client()
    experiment = client.get_experiment(tracking.experiment_id(client, "unit-env-store"))
    database = Path(mlflow_store.removeprefix("sqlite:///"))
    assert experiment.artifact_location == (database.parent / "artifacts" / "unit-env-store").as_uri()
    with RunTracker("unit-env-store", "with-a-figure", {}) as run:
        run.log_table(pd.DataFrame({"a": [1]}), "tables/a.json")
    assert (database.parent / "artifacts" / "unit-env-store" / run.run_id / "artifacts" / "tables" / "a.json").is_file()
    assert not (tmp_path / "mlruns").exists()


def test_default_store_is_in_write_ahead_log_mode(store):
    """Stages logging side by side (`python -m pipeline.repro`): readers must not block writers."""
    import sqlite3

    tracking.client()
    connection = sqlite3.connect(store / ".mlflow" / "mlflow.db")
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        connection.close()


def test_a_locked_store_is_tried_again_and_other_errors_are_not(monkeypatch):
    monkeypatch.setattr(tracking, "LOCKED_RETRIES", (0, 0, 0))
    calls = []

    def locked_twice():
        calls.append(1)
        if len(calls) <= 2:
            raise RuntimeError("(sqlite3.OperationalError) database is locked")
        return "logged"

    assert tracking._retry_while_locked(locked_twice) == "logged" and len(calls) == 3

    def always_locked():
        calls.append(1)
        raise RuntimeError("database is locked")

    calls.clear()
    with pytest.raises(RuntimeError, match="locked"):
        tracking._retry_while_locked(always_locked)
    assert len(calls) == 4  # the first try and the three retries

    def raced_once():  # MLflow's words when another stage inserted the same data set first
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("(sqlite3.IntegrityError) UNIQUE constraint failed: datasets.experiment_id, datasets.name, datasets.digest")
        return "linked"

    calls.clear()
    assert tracking._retry_while_locked(raced_once) == "linked" and len(calls) == 2

    def broken():
        calls.append(1)
        raise ValueError("no such table: runs")

    calls.clear()
    with pytest.raises(ValueError):
        tracking._retry_while_locked(broken)
    assert len(calls) == 1


def test_run_ends_finished_failed_or_killed(store):
    with RunTracker("unit", "ok", {"t": "1"}) as ok:
        ok.log_metrics({"loss": 1.5}, step=3)
    assert _run(store, ok.run_id).info.status == "FINISHED"
    assert _run(store, ok.run_id).data.metrics["loss"] == 1.5
    assert _run(store, ok.run_id).data.tags["t"] == "1"

    with pytest.raises(ValueError), RunTracker("unit", "boom", {}) as failed:
        raise ValueError
    assert _run(store, failed.run_id).info.status == "FAILED"

    with pytest.raises(KeyboardInterrupt), RunTracker("unit", "interrupted", {}) as killed:
        raise KeyboardInterrupt
    assert _run(store, killed.run_id).info.status == "KILLED"


def test_a_tracking_failure_is_recorded_not_raised_and_the_run_still_ends(store, monkeypatch):
    monkeypatch.setattr("pipeline.core.tracking.LOCKED_RETRIES", (0, 0))  # still retried, without the real pauses
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
    with pytest.raises(KeyboardInterrupt), RunTracker("unit", "resumable", {}, resume_file=resume_file) as first:
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


def test_a_run_and_its_experiment_carry_their_descriptions(store):
    """MLflow's UI shows the tag `mlflow.note.content` as the Description of an experiment or a run."""
    with RunTracker("described", "r", {}, description="one line: what r is", experiment_description="the study") as run:
        pass
    client = tracking.client()
    assert tracking.NOTE_TAG == "mlflow.note.content"
    assert _run(store, run.run_id).data.tags[tracking.NOTE_TAG] == "one line: what r is"
    assert client.get_experiment_by_name("described").tags[tracking.NOTE_TAG] == "the study"
    # Found again, the experiment takes the code's current text; a run without one leaves it alone.
    assert tracking.experiment_id(client, "described", "the study, reworded") == _run(store, run.run_id).info.experiment_id
    assert client.get_experiment_by_name("described").tags[tracking.NOTE_TAG] == "the study, reworded"
    with RunTracker("described", "bare", {}) as bare:
        pass
    assert tracking.NOTE_TAG not in _run(store, bare.run_id).data.tags
    assert client.get_experiment_by_name("described").tags[tracking.NOTE_TAG] == "the study, reworded"


def test_a_parent_run_has_its_own_description_and_stretches_over_its_children(store):
    client = tracking.client()
    parent = tracking.parent_run(
        "grid-span",
        "grid",
        key="k",
        tags={"mlflow.source.name": "python -m stages grid fit"},
        description="the grid",
        experiment_description="grid study",
    )
    created = client.get_run(parent)
    assert created.data.tags[tracking.NOTE_TAG] == "the grid"
    assert created.data.tags["mlflow.source.name"] == "python -m stages grid fit"
    assert client.get_experiment_by_name("grid-span").tags[tracking.NOTE_TAG] == "grid study"
    children = []
    for name in ("a", "b"):
        with RunTracker("grid-span", name, {}, parent_run_id=parent) as child:
            pass
        children.append(client.get_run(child.run_id))
    assert created.info.start_time <= min(c.info.start_time for c in children)  # created before its first member
    assert created.info.end_time <= created.info.start_time + 5_000  # ended at once, before its members ran

    start, end = tracking.cover_children(parent, children)
    after = client.get_run(parent)
    latest = max(created.info.end_time, *(c.info.end_time for c in children))
    assert (after.info.start_time, after.info.end_time) == (start, end) == (created.info.start_time, latest)
    assert after.info.status == "FINISHED"
    later = end + 60_000  # e.g. the fit, after the members
    assert tracking.cover_children(parent, children, end_time=later)[1] == later
    assert tracking.cover_children(parent, [], end_time=end)[1] == later  # never shortened
    assert client.get_run(parent).info.end_time == later


def test_source_tags_name_a_given_command(repo, monkeypatch):
    monkeypatch.chdir(repo)
    tags = tracking.source_tags("python -m stages grid fit")
    assert tags["mlflow.source.name"] == "python -m stages grid fit"
    assert tags["mlflow.source.git.commit"] == tags["git_commit"] == _head(repo) and tags["git_dirty"] == "false"
    assert tracking.source_tags()["mlflow.source.name"] == tracking.command_line()


# ------------------------------------------------------------------ git state of the code that ran

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]


@pytest.fixture
def repo(tmp_path) -> Path:
    """A git repository with code, params and a tracked result, all committed."""
    for name, text in {"pipeline/model.py": "x = 1\n", "params.yaml": "seed: 1\n", "metrics/run.json": "{}\n"}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([*GIT, "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run([*GIT, "commit", "-qm", "start"], cwd=tmp_path, check=True)
    return tmp_path


def _head(repo: Path) -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()


def test_git_state_of_a_clean_checkout(repo):
    assert git_state(repo) == (_head(repo), False)


def test_changed_results_do_not_make_the_code_dirty(repo):
    (repo / "metrics/run.json").write_text('{"loss": 1}\n')
    (repo / "plots").mkdir()
    (repo / "plots/new.csv").write_text("epoch\n")
    (repo / ".cache").mkdir()
    (repo / ".cache/state.pt").write_text("x")
    assert git_state(repo) == (_head(repo), False)


@pytest.mark.parametrize(
    "change",
    [
        lambda repo: (repo / "pipeline/model.py").write_text("x = 2\n"),
        lambda repo: (repo / "pipeline/new.py").write_text(""),
        lambda repo: (repo / "params.yaml").write_text("seed: 2\n"),
    ],
    ids=["changed-module", "new-module", "params"],
)
def test_changed_code_or_params_make_it_dirty(repo, change):
    change(repo)
    assert git_state(repo) == (_head(repo), True)


def test_git_state_outside_git(tmp_path):
    assert git_state(tmp_path) == ("unknown", False)


def test_run_tags_say_what_ran_on_what_and_by_whom(repo, monkeypatch):
    monkeypatch.chdir(repo)
    monkeypatch.delenv("DVC_STAGE", raising=False)
    tags = run_tags(stage="train_x@a", dataset="toy", profile="smoke", model="tiny", extra="1")
    assert tags == {
        "git_commit": _head(repo),
        "git_dirty": "false",
        "dvc_stage": "train_x@a",
        "dataset": "toy",
        "profile": "smoke",
        "model": "tiny",
        "mlflow.source.type": "LOCAL",
        "mlflow.source.name": tracking.command_line(),
        "mlflow.source.git.commit": _head(repo),
        "mlflow.user": tags["mlflow.user"],
        "extra": "1",
    }
    assert tags["mlflow.user"]
    monkeypatch.setenv("DVC_STAGE", "train_x@b")  # DVC names the stage it runs
    assert run_tags(stage="train_x@a", dataset="toy", profile="smoke", model="tiny")["dvc_stage"] == "train_x@b"


def test_command_line_reads_like_what_the_user_typed(monkeypatch):
    monkeypatch.setattr("sys.argv", ["/repo/stages/__main__.py", "transformer", "train", "--run", "h32-small"])
    assert tracking.command_line() == "python -m stages transformer train --run h32-small"
    monkeypatch.setattr("sys.argv", ["/repo/pipeline/report.py"])
    assert tracking.command_line() == "python report.py"


def test_a_data_set_another_run_logged_into_the_experiment_is_linked_not_inserted_again(mlflow_store, monkeypatch, tmp_path):
    """What the retry after a UNIQUE-constraint race relies on: logging a data set that already
    exists in the experiment (the other stage's insert) links it to this run, without an error."""
    import pandas as pd

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_store)
    monkeypatch.chdir(tmp_path)
    frame = pd.DataFrame({"source": ["air"], "target": ["airway"]})
    runs = []
    for name in ("first", "second"):
        with RunTracker("unit-shared-data", name, {}) as run:
            run.log_dataset(frame, "words-train", str(tmp_path / "train.txt"), "train")
        assert run.failures == []
        runs.append(run.run_id)
    client = tracking.client()
    for run_id in runs:
        inputs = client.get_run(run_id).inputs.dataset_inputs
        assert [item.dataset.name for item in inputs] == ["words-train"]
    digests = {client.get_run(run_id).inputs.dataset_inputs[0].dataset.digest for run_id in runs}
    assert len(digests) == 1  # one data set row, linked to both runs
