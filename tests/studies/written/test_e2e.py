"""End to end, written questions: what the shrunken `dvc repro` left in metrics, MLflow and the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e import mlflow_runs

pytestmark = pytest.mark.e2e


def test_every_check_holds(project: Path):
    metrics = json.loads((project / "metrics" / "written" / "checks.json").read_text())
    assert metrics["checks_failed"] == 0
    assert metrics["maxpool"]["violations"] == 0 and metrics["relu_chain"]["max_violation"] == 0
    assert sorted(p.name for p in (project / "plots" / "written").iterdir()) == ["conv.csv", "jacobian.csv", "maxpool.csv"]


def test_mlflow_run_and_report(project: Path):
    runs = mlflow_runs(project, "written-questions")
    assert list(runs["tags.dvc_stage"]) == ["written_checks"] and set(runs["status"]) == {"FINISHED"}
    assert set(runs["tags.profile"]) == {"smoke"}
    report = (project / "reports" / "report.md").read_text()
    assert "## Written questions, answered by code" in report and "figures/written_jacobian_bound.png" in report
