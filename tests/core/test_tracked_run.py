"""TrackedRun, the skeleton of every tracked stage, on a temporary project and MLflow store."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pipeline.core import tracking
from pipeline.core.callbacks import EpochRecord
from pipeline.core.errors import PipelineError
from pipeline.core.io import file_sha256, write_json, write_metrics, write_text
from pipeline.core.lineage import OUTPUTS_TAG
from pipeline.core.params import SharedParams
from pipeline.core.paths import SUMMARY_STEP, Study
from pipeline.core.tracked_run import TrackedRun

STUDY = Study("demo", experiment="unit-tracked-run")
SHARED = SharedParams(profile="test", seed=0, device="cpu")


def _tracked(run: str = "r1", **kwargs) -> TrackedRun:
    return TrackedRun(STUDY, run, stage=f"train_demo@{run}", shared=SHARED, dataset="toy", model="tiny", **kwargs)


def _write_outputs(run: TrackedRun, loss: float, weights: str = "weights.txt", seconds: float = 1.5) -> None:
    metrics = run.root / run.paths.metrics_file
    previous = metrics.read_text() if metrics.exists() else None
    with run.outputs() as out:
        write_metrics(out, run.paths.metrics_file, {"loss": loss, "train_seconds": seconds})
        write_text(out.path(run.paths.curve_file), f"epoch,loss\n1,{loss}\n")
        write_text(out.path(run.paths.output_dir / weights), "w")
        # Staged: the previous files (or none) stay in place until the block ends.
        assert (metrics.read_text() if metrics.exists() else None) == previous
        assert not (run.root / run.paths.output_dir / weights).exists()


def _mlflow_run(run_id: str):
    return tracking.client().get_run(run_id)


def test_successful_run_ends_finished_tagged_with_its_outputs(workdir):
    with _tracked() as run:
        run.tracker.log_params({"a": {"b": 1}})
        _write_outputs(run, 0.5)
        assert (workdir / "metrics/demo/r1.json").exists()  # in place once the outputs block ends
        run.log_summary({"loss": 0.5, "epochs": 3, "name": "not a number"}, skip=["epochs"])

    logged = _mlflow_run(run.tracker.run_id)
    assert logged.info.status == "FINISHED"
    assert logged.info.run_name == "r1"
    assert logged.info.experiment_id == tracking.client().get_experiment_by_name("unit-tracked-run").experiment_id
    tags = logged.data.tags
    assert tags[OUTPUTS_TAG] == file_sha256(
        workdir / "metrics/demo/r1.json", workdir / "plots/demo/r1.csv", workdir / "timings/demo/r1.json"
    )
    assert tags["mlflow.source.name"] == tracking.command_line()
    assert tags["mlflow.user"] and tags["mlflow.source.type"] == "LOCAL"
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=workdir, capture_output=True, text=True).stdout.strip()
    assert tags["git_commit"] == tags["mlflow.source.git.commit"] == head
    assert tags["git_dirty"] == "false"  # new metrics/plots/outputs are results, not code
    assert (tags["dvc_stage"], tags["dataset"], tags["profile"], tags["model"]) == ("train_demo@r1", "toy", "test", "tiny")
    assert logged.data.params == {"a.b": "1"}
    assert logged.data.metrics == {"loss": 0.5}  # `skip` and non-numbers left out
    assert (workdir / "outputs/demo/r1/weights.txt").read_text() == "w"
    assert not list((workdir / ".cache" / "staging").iterdir())  # scratch cleaned up


def test_an_error_in_the_block_leaves_the_previous_outputs_and_fails_the_run(workdir):
    with _tracked() as first:
        _write_outputs(first, 0.5)
    before = {p: p.read_bytes() for p in workdir.rglob("*") if p.is_file() and ".git" not in p.parts}

    with pytest.raises(RuntimeError, match="boom"), _tracked() as failed, failed.outputs() as out:
        write_json(out.path(failed.paths.metrics_file), {"loss": 9.0})
        write_text(out.path(failed.paths.output_dir / "other.txt"), "new")
        raise RuntimeError("boom")

    after = {p: p.read_bytes() for p in workdir.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert after == before  # no new file, no changed file, no scratch left behind
    logged = _mlflow_run(failed.tracker.run_id)
    assert logged.info.status == "FAILED"
    assert OUTPUTS_TAG not in logged.data.tags
    assert failed.tracker.run_id != first.tracker.run_id


def test_an_error_before_any_output_writes_nothing(workdir):
    with pytest.raises(ValueError), _tracked("r2") as run:
        raise ValueError("bad data")
    assert _mlflow_run(run.tracker.run_id).info.status == "FAILED"
    assert not (workdir / "metrics").exists() and not (workdir / "outputs").exists()


def test_outputs_replace_the_previous_ones_together(workdir):
    with _tracked() as first:
        _write_outputs(first, 0.5, weights="old.txt")
    with _tracked() as second:
        _write_outputs(second, 0.25, weights="new.txt")
    assert sorted(p.name for p in (workdir / "outputs/demo/r1").iterdir()) == ["new.txt"]  # the stale file is gone
    assert (workdir / "metrics/demo/r1.json").read_text() == '{\n  "loss": 0.25\n}\n'  # results only
    assert (workdir / "timings/demo/r1.json").read_text() == '{\n  "train_seconds": 1.5\n}\n'
    tags = _mlflow_run(second.tracker.run_id).data.tags
    assert tags[OUTPUTS_TAG] == file_sha256(
        workdir / "metrics/demo/r1.json", workdir / "plots/demo/r1.csv", workdir / "timings/demo/r1.json"
    )
    assert _mlflow_run(first.tracker.run_id).data.tags[OUTPUTS_TAG] != tags[OUTPUTS_TAG]


def test_reruns_with_identical_results_are_told_apart_by_their_timings(workdir):
    """`dvc metrics diff` sees no change, yet each rerun maps to its own MLflow run."""
    with _tracked() as first:
        _write_outputs(first, 0.5, weights="old.txt", seconds=1.5)
    results = (workdir / "metrics/demo/r1.json").read_bytes()
    with _tracked() as second:
        _write_outputs(second, 0.5, weights="new.txt", seconds=1.6)
    assert (workdir / "metrics/demo/r1.json").read_bytes() == results
    tags = [_mlflow_run(run.tracker.run_id).data.tags[OUTPUTS_TAG] for run in (first, second)]
    assert tags[0] != tags[1]


def test_outputs_clear_a_stale_timings_file(workdir):
    with _tracked() as first:
        _write_outputs(first, 0.5)
    with _tracked().outputs():  # a run whose outputs are nothing: every previous file goes
        pass
    assert not (workdir / "timings/demo/r1.json").exists() and not (workdir / "metrics/demo/r1.json").exists()


def test_tracker_failure_after_the_outputs_are_written_is_one_line(workdir, monkeypatch):
    monkeypatch.setattr("pipeline.core.tracking.LOCKED_RETRIES", (0, 0))  # still retried, without the real pauses
    with pytest.raises(PipelineError) as caught, _tracked() as run:
        _write_outputs(run, 0.5)

        def broken(*args, **kwargs):
            raise RuntimeError("database is locked")

        monkeypatch.setattr(run.tracker._client, "log_batch", broken)
        run.log_summary({"loss": 0.5})
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("r1: outputs are written, but MLflow did not record everything (log metrics ['loss']: database is locked")
    assert message.endswith("; rerun the stage to log it again")
    assert (workdir / "metrics/demo/r1.json").exists() and (workdir / "outputs/demo/r1/weights.txt").exists()
    assert _mlflow_run(run.tracker.run_id).info.status == "FINISHED"  # ended all the same, never left RUNNING


def test_a_killed_run_with_a_fingerprint_is_reopened_then_its_state_removed(workdir, tmp_path):
    fingerprint = "c0ffee" * 8
    with pytest.raises(KeyboardInterrupt), _tracked(fingerprint=fingerprint) as killed:
        state = killed.resume_state
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_bytes(b"epoch 1")
        raise KeyboardInterrupt
    assert state == workdir / ".cache/resume/demo" / f"r1-{fingerprint[:16]}" / "state.pt"
    assert _mlflow_run(killed.tracker.run_id).info.status == "KILLED"
    assert state.exists()  # kept for the rerun

    with _tracked(fingerprint=fingerprint) as rerun:
        assert rerun.tracker.resumed and rerun.tracker.run_id == killed.tracker.run_id
        _write_outputs(rerun, 0.5)
    logged = _mlflow_run(rerun.tracker.run_id)
    assert logged.info.status == "FINISHED" and logged.data.tags["config_sha256"] == fingerprint
    assert not state.parent.exists()  # finished: the resume state is gone


def test_without_a_fingerprint_there_is_no_resume_state(workdir):
    run = _tracked()
    assert run.resume_state is None and run.state_dir is None
    assert run.epoch_logger().tracker is run.tracker


# ------------------------------------------------------------------ what the MLflow UI shows without the README


def _history(run_id: str, key: str) -> list[tuple[int, float]]:
    return sorted((m.step, m.value) for m in tracking.client().get_metric_history(run_id, key))


def _epoch(epoch: int, val_loss: float) -> EpochRecord:
    return EpochRecord(
        epoch=epoch,
        train_loss=2.0,
        val_loss=val_loss,
        lr=0.1,
        iterations=epoch,
        tokens=10 * epoch,
        seconds=1.0,
        extra={"val_accuracy": 0.5},
    )


def test_summary_metrics_are_logged_at_step_0_and_leave_the_epochs_curves_alone(workdir):
    """Every study's summary at one step (MLflow draws it as a bar), never as an epoch-0 point of a curve."""
    with _tracked() as run:
        logger = run.epoch_logger()
        for epoch, loss in ((1, 1.5), (2, 1.0)):
            logger.on_epoch_end(_epoch(epoch, loss))
        # The whole dict, as studies give it: per-epoch names among the summary's are left out by themselves.
        run.log_summary({"val_loss": 1.0, "val_accuracy": 0.5, "best_val_loss": 1.0, "epochs_trained": 2, "tag": "x"})
        _write_outputs(run, 1.0)
    run_id = run.tracker.run_id
    assert _history(run_id, "best_val_loss") == [(SUMMARY_STEP, 1.0)] and SUMMARY_STEP == 0
    assert _history(run_id, "epochs_trained") == [(0, 2.0)]
    assert _history(run_id, "val_loss") == [(1, 1.5), (2, 1.0)]  # no step-0 point
    assert [step for step, _ in _history(run_id, "val_accuracy")] == [1, 2]
    assert [step for step, _ in _history(run_id, "tokens")] == [1, 2]


def test_log_summary_takes_no_step_and_no_study_logs_a_summary_at_another_step():
    """One step convention in every study: `log_summary` has no step to choose, and outside the
    per-epoch logger (pipeline/core/callbacks.py) no code logs MLflow metrics with a step."""
    import ast
    import inspect

    assert "step" not in inspect.signature(TrackedRun.log_summary).parameters
    root = Path(__file__).resolve().parents[2]
    offending = []
    for path in sorted((root / "pipeline").rglob("*.py")):
        if path == root / "pipeline" / "core" / "callbacks.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr == "log_summary" and (any(k.arg == "step" for k in node.keywords) or len(node.args) > 2):
                offending.append(f"{path.relative_to(root)}:{node.lineno}")
            if node.func.attr in ("log_metrics", "log_metric") and (
                any(k.arg == "step" for k in node.keywords) or len(node.args) > (2 if node.func.attr == "log_metrics" else 3)
            ):
                offending.append(f"{path.relative_to(root)}:{node.lineno}")
    # pipeline/core/tracked_run.py logs the summary itself, at SUMMARY_STEP.
    assert [place for place in offending if not place.startswith("pipeline/core/tracked_run.py:")] == []


def test_an_epoch_logger_can_rename_a_metric_and_the_summary_leaves_the_new_name_out(workdir):
    """Add2Digits' reference runs: the loop's `val_loss` is measured on the test split."""
    with _tracked("renamed") as run:
        logger = run.epoch_logger(rename={"val_loss": "test_loss"})
        logger.on_epoch_end(_epoch(1, 0.75))
        run.log_summary({"test_loss": 0.75, "final_test_loss": 0.75})
        _write_outputs(run, 0.75)
    run_id = run.tracker.run_id
    assert _history(run_id, "test_loss") == [(1, 0.75)]
    assert _history(run_id, "val_loss") == []
    assert _history(run_id, "final_test_loss") == [(0, 0.75)]


def test_a_run_and_its_experiment_have_descriptions(workdir):
    described = Study("demo", experiment="unit-described", description="What the demo study is.", metrics={"odd_metric": "what it means"})
    with TrackedRun(described, "r1", stage="train_demo@r1", shared=SHARED, dataset="toy", model="tiny") as default:
        _write_outputs(default, 1.0)
    with TrackedRun(
        described, "r2", stage="train_demo@r2", shared=SHARED, dataset="toy", model="tiny", description="r2: a tiny model on toy data"
    ) as given:
        _write_outputs(given, 1.0)
    client = tracking.client()
    note = "mlflow.note.content"
    assert _mlflow_run(default.tracker.run_id).data.tags[note] == (
        "unit-described run `r1`: model tiny on data set toy (DVC stage `train_demo@r1`)."
    )
    assert _mlflow_run(given.tracker.run_id).data.tags[note] == "r2: a tiny model on toy data"
    experiment = client.get_experiment_by_name("unit-described").tags[note]
    assert experiment == described.experiment_description
    assert experiment.startswith("What the demo study is.") and "- `odd_metric`: what it means" in experiment
    assert "summary metrics once, at step 0" in experiment


def test_run_names_carry_the_study_prefix_where_runs_of_two_experiments_share_names(workdir):
    prefixed = Study("demo", experiment="unit-prefixed", run_prefix="demo")
    with TrackedRun(prefixed, "finetune", stage="train_demo@finetune", shared=SHARED, dataset="toy", model="tiny") as run:
        _write_outputs(run, 1.0)
    logged = _mlflow_run(run.tracker.run_id)
    assert logged.info.run_name == "demo finetune"
    assert logged.data.tags["dvc_stage"] == "train_demo@finetune"  # what the report finds runs by, with their files' hash
    assert run.paths.metrics_file == Path("metrics/demo/finetune.json")  # the files keep the plain name
