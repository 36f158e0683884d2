"""End to end: the real `dvc repro` on a shrunken copy of the project.

The project is copied into a temporary git repository, its params shrunk (tiny models,
two epochs, 300-pair datasets), and the real pipeline is run through DVC. The checks
read what a user would: metrics files, the MLflow store through the MLflow client,
the generated report, `dvc params diff` / `dvc metrics diff`, and a no-op second run.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.core.io import is_timing_key, timing_keys
from pipeline.core.training import PHASES
from tests.e2e import BIN, _env, mlflow_runs, sh, smoke_settings, snapshot, store_client

RUNS = list(smoke_settings()["params"]["transformer"]["runs"])
# The runs trained again with extra seeds (smoke: h8-small with offset 1), named <run>-seeds/s<offset>.
EXTRA_SEEDS = {
    run: offsets for run, offsets in smoke_settings()["params"]["transformer"]["extra_seeds"].items() if isinstance(offsets, list)
}
SEED_RUNS = [f"{run}-seeds/s{offset}" for run, offsets in EXTRA_SEEDS.items() for offset in offsets]
EXPERIMENT = "nmt-transformer"

pytestmark = pytest.mark.e2e


def test_metrics_files_match_curves(project: Path):
    for run in RUNS:
        metrics = json.loads((project / "metrics" / "transformer" / f"{run}.json").read_text())
        curve = pd.read_csv(project / "plots" / "transformer" / f"{run}.csv")
        assert len(curve) == metrics["epochs_trained"] == 2
        assert metrics["best_val_loss"] == pytest.approx(curve["val_loss"].min(), rel=1e-5)
        assert metrics["best_epoch"] == int(curve.loc[curve["val_loss"].idxmin(), "epoch"])
        assert 0.0 <= metrics["val_word_accuracy"] <= 1.0
        assert (project / "outputs" / "transformer" / run / "model.safetensors").exists()
        # Results only: the timings are in their twin under timings/ (not a DVC metric).
        assert not timing_keys(metrics)
        timings = json.loads((project / "timings" / "transformer" / f"{run}.json").read_text())
        assert sorted(timings) == ["time_breakdown", "tokens_per_second", "train_seconds"]
        breakdown = timings["time_breakdown"]  # where the run's time went, in order (the benchmark prints it)
        assert list(breakdown) == ["startup_seconds", "setup_seconds", *PHASES, "evaluation_seconds"]
        # an epoch's seconds are its steps and its validation: the phases add up to the training time
        assert breakdown["step_seconds"] + breakdown["validation_seconds"] == pytest.approx(timings["train_seconds"], abs=0.02)
        assert breakdown["startup_seconds"] > 1.0  # a fresh process that imported torch (about 2 s here)


def test_mlflow_has_one_finished_run_per_matrix_entry_and_extra_seed(project: Path):
    runs = mlflow_runs(project, EXPERIMENT)
    assert sorted(runs["tags.mlflow.runName"]) == sorted(RUNS + SEED_RUNS)
    assert set(runs["status"]) == {"FINISHED"}
    head = sh(project, "git", "rev-parse", "HEAD~1").stdout.strip()  # the commit the runs were made from
    seed = yaml.safe_load((project / "params.yaml").read_text())["seed"]
    for _, row in runs.iterrows():
        name = row["tags.mlflow.runName"]
        run, _, offset = name.partition("-seeds/s")  # h8-small-seeds/s1: run h8-small, seed offset 1
        metrics = json.loads((project / "metrics" / "transformer" / f"{name}.json").read_text())
        assert row["metrics.best_val_loss"] == pytest.approx(metrics["best_val_loss"])
        assert row["params.run.hidden_size"] == name.split("-")[0][1:]
        assert row["params.seed"] == str(seed + int(offset or 0))
        stage, command = ("train_transformer_seeds", "train_seeds") if offset else ("train_transformer", "train")
        assert row["tags.dvc_stage"] == f"{stage}@{run}"
        assert row["tags.git_commit"] == head
        assert row["tags.dataset"] == f"piglatin-{name.split('-')[1]}"
        assert row["tags.profile"] == "smoke"
        # Only code and params count: the repro rewrote tracked metrics, yet the code that ran was committed.
        assert row["tags.git_dirty"] == "false"
        # MLflow's own conventions, shown in the UI's Source / Version / User columns.
        assert row["tags.mlflow.source.name"] == f"python -m stages transformer {command} --run {run}"
        assert row["tags.mlflow.source.git.commit"] == head
        assert row["tags.mlflow.user"]
        assert row["tags.dvc_current"] == "true"  # the report marked the run behind the current outputs

    client = store_client(project)
    run_id = runs.loc[runs["tags.mlflow.runName"] == "h8-small", "run_id"].iloc[0]
    history = client.get_metric_history(run_id, "val_loss")
    assert [m.step for m in history] == [1, 2]
    artifacts = {a.path for a in client.list_artifacts(run_id, "figures")} | {a.path for a in client.list_artifacts(run_id, "tables")}
    assert {"figures/loss_curve.png", "tables/sample_translations.json", "tables/val_predictions.json"} <= artifacts


def test_report_generated_from_the_runs(project: Path):
    report = (project / "reports" / "report.md").read_text()
    summary = pd.read_csv(project / "reports" / "tables" / "transformer_summary.csv")
    assert sorted(summary["run"]) == sorted(RUNS)
    for run in RUNS:
        metrics = json.loads((project / "metrics" / "transformer" / f"{run}.json").read_text())
        assert run in report
        row = summary.loc[summary["run"] == run].iloc[0]
        assert row["lowest val loss (ours)"] == pytest.approx(metrics["best_val_loss"], abs=1e-4)
        assert row["lowest val loss (notebooks)"] == pytest.approx(metrics["best_val_loss_batch_mean"], abs=1e-4)
        assert f"{row['lowest val loss (notebooks)']}" in report
        seeds = [metrics] + [
            json.loads((project / "metrics" / "transformer" / f"{run}-seeds" / f"s{k}.json").read_text()) for k in EXTRA_SEEDS.get(run, [])
        ]
        values = [m["best_val_loss_batch_mean"] for m in seeds]
        assert row["seeds"] == len(seeds)
        if len(seeds) > 1:  # the spread the report judges differences against: max - min over the seeds
            assert float(row["spread (notebooks)"]) == pytest.approx(max(values) - min(values), abs=1e-4)
    for figure in ("transformer_loss_by_hidden_size.png", "transformer_loss_by_dataset_size.png"):
        assert (project / "reports" / "figures" / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "the air conditioning is working" in report


def test_second_repro_is_a_noop(project: Path):
    before = len(mlflow_runs(project, EXPERIMENT))
    second = sh(project, "dvc", "repro")
    assert "Running stage" not in second.stdout + second.stderr
    assert "up to date" in sh(project, "dvc", "status").stdout
    assert len(mlflow_runs(project, EXPERIMENT)) == before


def test_temp_experiment_logs_to_the_workspace_store_and_leaves_workspace_alone(project: Path):
    before = mlflow_runs(project, EXPERIMENT)
    metrics_before = (project / "metrics" / "transformer" / "h8-large.json").read_bytes()
    sh(project, "dvc", "exp", "run", "--temp", "-S", "transformer.runs.h8-large.epochs=1", "-S", "transformer.runs.h8-large.patience=1")
    assert (project / "metrics" / "transformer" / "h8-large.json").read_bytes() == metrics_before
    assert sh(project, "git", "status", "--porcelain", "--untracked-files=no").stdout.strip() == ""
    after = mlflow_runs(project, EXPERIMENT)
    new = after[~after["run_id"].isin(before["run_id"])]
    assert list(new["tags.mlflow.runName"]) == ["h8-large"]
    assert new["params.run.epochs"].item() == "1" and new["status"].item() == "FINISHED"
    assert not list((project / ".dvc" / "tmp" / "exps").glob("*/.mlflow"))  # no stray store in the temp copy


def test_param_change_reruns_only_its_stage_and_diffs_show_it(project: Path):
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["transformer"]["runs"]["h8-small"]["epochs"] = 3
    params["transformer"]["runs"]["h8-small"]["patience"] = 3
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    log = sh(project, "dvc", "repro")
    output = log.stdout + log.stderr
    assert "Running stage 'train_transformer@h8-small'" in output
    assert "Running stage 'report'" in output
    for other in RUNS[1:]:
        assert f"Running stage 'train_transformer@{other}'" not in output

    params_diff = json.loads(sh(project, "dvc", "params", "diff", "--json").stdout)
    changed = {key for file in params_diff.values() for key in file}
    assert changed == {"transformer.runs.h8-small.epochs", "transformer.runs.h8-small.patience"}
    metrics_diff = json.loads(sh(project, "dvc", "metrics", "diff", "--json").stdout)
    assert metrics_diff["metrics/transformer/h8-small.json"]["epochs_trained"] == {"old": 2, "new": 3, "diff": 1}
    assert not any(key.startswith("metrics/transformer/h8-large") for key in metrics_diff)
    # The rerun's new timings are no metric: no row of the diff is a timing.
    assert not [key for file in metrics_diff.values() for key in file if is_timing_key(key.rsplit(".", 1)[-1])]
    summary = pd.read_csv(project / "reports" / "tables" / "transformer_summary.csv")
    assert summary.loc[summary["run"] == "h8-small", "epochs trained"].item() == 3


def test_killed_training_resumes_to_the_same_metrics(project: Path, tmp_path: Path):
    """SIGKILL the stage mid-training, rerun it: same metrics as an uninterrupted run."""
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["transformer"]["runs"]["h12-large"].update(epochs=25, patience=25)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    command = [str(BIN / "python"), "-m", "stages", "transformer", "train", "--run", "h12-large"]
    resume_root = project / ".cache" / "resume" / "transformer"

    sh(project, *command)  # uninterrupted reference
    reference = json.loads((project / "metrics" / "transformer" / "h12-large.json").read_text())
    assert not list(resume_root.glob("h12-large-*/state.pt"))  # cleaned up after a successful run

    process = subprocess.Popen(command, cwd=project, env=_env(project), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not list(resume_root.glob("h12-large-*/state.pt")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run finished before it could be killed"

    resumed = sh(project, *command)
    assert "resuming from" in resumed.stderr
    result = json.loads((project / "metrics" / "transformer" / "h12-large.json").read_text())
    for key in ("best_val_loss", "best_epoch", "epochs_trained", "final_train_loss", "val_word_accuracy", "train_tokens"):
        assert result[key] == reference[key], key

    runs = mlflow_runs(project, EXPERIMENT)
    assert "RUNNING" not in set(runs["status"])  # the killed run was reopened and finished
    resumed_runs = runs[runs["tags.mlflow.runName"] == "h12-large"]
    assert len(resumed_runs) == 3  # dvc repro, the reference, and the killed-then-resumed run


H8_LARGE_RESULTS = (
    "outputs/transformer/h8-large",
    "metrics/transformer/h8-large.json",
    "plots/transformer/h8-large.csv",
    "timings/transformer/h8-large.json",
)


def test_bad_params_fail_in_one_line_leave_no_running_run_and_lose_no_result(project: Path):
    original = (project / "params.yaml").read_text()
    before = snapshot(project, *H8_LARGE_RESULTS)
    params = yaml.safe_load(original)
    params["transformer"]["runs"]["h8-large"]["hidden_size"] = -4
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    try:
        result = sh(project, "dvc", "repro", check=False)
        assert result.returncode != 0
        errors = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("error:")]
        assert errors == ["error: params.yaml: transformer.runs.h8-large.hidden_size: Input should be greater than 0, got -4"]
        assert "Traceback" not in result.stderr
        assert "RUNNING" not in set(mlflow_runs(project, EXPERIMENT)["status"])
        assert snapshot(project, *H8_LARGE_RESULTS) == before  # DVC ran the stage (persist: true) and it failed: nothing lost
    finally:
        (project / "params.yaml").write_text(original)


def test_a_failed_dvc_exp_run_loses_no_result(project: Path):
    original = (project / "params.yaml").read_text()
    before = snapshot(project, *H8_LARGE_RESULTS)
    try:
        result = sh(project, "dvc", "exp", "run", "-S", "transformer.runs.h8-large.hidden_size=-4", check=False)
        assert result.returncode != 0
        assert "transformer.runs.h8-large.hidden_size" in result.stdout + result.stderr
        assert snapshot(project, *H8_LARGE_RESULTS) == before
    finally:
        (project / "params.yaml").write_text(original)


@pytest.mark.parametrize("command", [("dvc", "repro", "-f", "-s", "report"), ("dvc", "exp", "run", "-f", "-s", "report")])
def test_a_failed_report_loses_no_report_file(project: Path, command: tuple[str, ...]):
    original = (project / "params.yaml").read_text()
    before = snapshot(project, "reports")
    (project / "params.yaml").write_text(original + "\ntransfomer: {}   # a misspelt study key: every stage refuses it\n")
    try:
        result = sh(project, *command, check=False)
        assert result.returncode != 0
        assert "transfomer" in result.stdout + result.stderr
        assert snapshot(project, "reports") == before
    finally:
        (project / "params.yaml").write_text(original)


def test_forced_rerun_marks_only_the_run_behind_the_outputs(project: Path):
    """`dvc repro -f -s` adds an identical twin run; the report keeps `dvc_current` true on the new one only."""
    sh(project, "dvc", "repro", "-f", "-s", "train_transformer@h8-large")
    sh(project, "dvc", "repro")  # the report reruns: its inputs changed
    runs = mlflow_runs(project, EXPERIMENT)
    twins = runs[runs["tags.mlflow.runName"] == "h8-large"].sort_values("start_time")
    assert len(twins) >= 2
    assert list(twins["tags.dvc_current"]) == ["false"] * (len(twins) - 1) + ["true"]
    timings = json.loads((project / "timings" / "transformer" / "h8-large.json").read_text())
    assert twins["metrics.train_seconds"].iloc[-1] == pytest.approx(timings["train_seconds"])
    current = runs[runs["tags.dvc_current"] == "true"]["tags.mlflow.runName"]
    replicates = current[current.str.contains("-seeds/")]  # the extra seeds' runs (train_transformer_seeds)
    assert sorted(current[~current.isin(replicates)]) == sorted(RUNS)  # one current run per matrix entry
    assert len(replicates) == len(set(replicates))  # and one per extra seed


def test_a_comment_leaves_the_report_current_and_a_misspelt_section_does_not(project: Path):
    original = (project / "params.yaml").read_text()
    try:
        (project / "params.yaml").write_text("# a note to self\n" + original)
        assert "up to date" in sh(project, "dvc", "status", "report").stdout
        (project / "params.yaml").write_text(original + "\ntransfomer: {}\n")
        assert "report" in sh(project, "dvc", "status", "report").stdout  # stale: `dvc repro` runs it and it refuses the key
        result = sh(project, "dvc", "repro", "-s", "report", check=False)
        assert result.returncode != 0 and "transfomer: unknown top-level key" in result.stderr + result.stdout
    finally:
        (project / "params.yaml").write_text(original)
