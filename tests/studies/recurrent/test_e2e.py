"""End to end: the recurrent runs of the shrunken project's real `dvc repro` (tests/conftest.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from tests.e2e import BIN, _env, mlflow_runs, smoke_settings, store_client

RUNS = [name for name, value in smoke_settings()["params"]["recurrent"]["runs"].items() if value != "<delete>"]

pytestmark = pytest.mark.e2e


def test_metrics_hold_both_loss_definitions(project: Path):
    for run in RUNS:
        metrics = json.loads((project / "metrics" / "recurrent" / f"{run}.json").read_text())
        curve = pd.read_csv(project / "plots" / "recurrent" / f"{run}.csv")
        assert len(curve) == metrics["epochs_trained"] == 2
        assert metrics["best_val_loss"] == pytest.approx(curve["val_loss"].min(), rel=1e-5)
        assert metrics["best_val_loss_batch_mean"] == pytest.approx(curve["val_loss_batch_mean"].min(), rel=1e-5)
        assert (project / "outputs" / "recurrent" / run / "model.safetensors").exists()


def test_mlflow_runs_and_attention_maps(project: Path):
    runs = mlflow_runs(project, "nmt-recurrent")
    assert sorted(runs["tags.mlflow.runName"]) == sorted(RUNS)
    assert set(runs["status"]) == {"FINISHED"}
    client = store_client(project)
    for _, row in runs.iterrows():
        artifacts = {a.path for a in client.list_artifacts(row["run_id"], "tables")}
        has_map = "tables/attention_maps.json" in artifacts
        assert has_map == (row["params.run.model"] == "rnn-additive-attention"), row["tags.mlflow.runName"]
        assert [m.step for m in client.get_metric_history(row["run_id"], "val_loss_batch_mean")] == [1, 2]


def test_report_has_every_translator(project: Path):
    report = (project / "reports" / "report.md").read_text()
    assert "## Every translator" in report
    table = pd.read_csv(project / "reports" / "tables" / "every_translator.csv")
    smoke = smoke_settings()["params"]
    expected = set(RUNS) | set(smoke["transformer"]["runs"]) | {"h16-small"}
    assert set(table["run"]) == expected
    assert (project / "reports" / "figures" / "recurrent_attention_additive-attention.png").exists()
    errors = pd.read_csv(project / "reports" / "tables" / "every_translator_errors.csv")
    assert set(RUNS) <= set(errors.columns)


@pytest.mark.parametrize("run", RUNS)
def test_translate_cli_works_with_every_run(project: Path, run: str):
    result = subprocess.run(
        [str(BIN / "python"), "-m", "pipeline.translate", "--study", "recurrent", "--run", run, "the air"],
        cwd=project,
        capture_output=True,
        text=True,
        env=_env(project),
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.split()) == 2  # word by word
