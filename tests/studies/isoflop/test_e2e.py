"""End to end: decoder-only run, IsoFLOP grid as MLflow parent + children, fits, report.

Reads what a user would after the shared `dvc repro` of the shrunken project (fixture
`project`): metrics and plot files, the MLflow store, the report; plus bad params.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.e2e import mlflow_runs, sh, smoke_settings, store_client

ISOFLOP_MODELS = smoke_settings()["params"]["isoflop"]["matrix"]["model"]

pytestmark = pytest.mark.e2e


def test_grid_is_one_parent_run_with_a_child_per_member(project: Path):
    runs = mlflow_runs(project, "isoflop")
    parents = runs[runs["tags.mlflow.runName"] == "isoflop-grid"]
    assert len(parents) == 1 and set(runs["status"]) == {"FINISHED"}
    parent_id = parents["run_id"].item()
    children = runs[runs["tags.mlflow.parentRunId"] == parent_id]
    assert sorted(children["tags.mlflow.runName"]) == sorted(ISOFLOP_MODELS)

    client = store_client(project)
    for _, child in children.iterrows():
        name = child["tags.mlflow.runName"]
        curve = pd.read_csv(project / "plots" / "isoflop" / f"{name}.csv")
        history = client.get_metric_history(child["run_id"], "cumulative_flops")
        # Every validation loss has its compute as x-coordinate, in MLflow and in the git-tracked curve.
        assert [m.step for m in history] == list(curve["epoch"])
        assert [m.value for m in history] == list(curve["cumulative_flops"])
        assert np.all(np.diff(curve["cumulative_flops"]) > 0)
        by_flops = client.get_metric_history(child["run_id"], "val_loss_by_flops")
        assert [m.step for m in by_flops] == list(curve["cumulative_flops"])
    assert parents["metrics.slope"].item() == pytest.approx(json.loads((project / "metrics" / "scaling.json").read_text())["slope"])
    # The parent shows the fit as its Source, says what it holds, and spans its members and the fit.
    parent = parents.iloc[0]
    assert parent["tags.mlflow.source.name"] == "python -m stages isoflop fit"
    assert parent["tags.mlflow.note.content"].startswith("The IsoFLOP grid")
    assert parent["start_time"] <= children["start_time"].min() and parent["end_time"] >= children["end_time"].max()


def test_scaling_metrics_follow_from_the_curves(project: Path):
    """Recompute one budget's fit from the curve files, independently of the study's scaling.py."""
    metrics = json.loads((project / "metrics" / "scaling.json").read_text())
    params = yaml.safe_load((project / "params.yaml").read_text())
    budget = params["isoflop"]["scaling"]["budgets"][0]
    from pipeline.translation.flops import parameter_count

    x, y = [], []
    for model in ISOFLOP_MODELS:
        curve = pd.read_csv(project / "plots" / "isoflop" / f"{model}.csv")
        x.append(np.log10(parameter_count(int(model[1:]), 1, 30)))
        y.append(np.interp(np.log10(budget), np.log10(curve["cumulative_flops"]), curve["val_loss"]))
    a, b, _ = np.polyfit(x, y, 2)
    assert a > 0
    assert metrics["n_opt_per_budget"]["5e7"] == pytest.approx(10 ** (-b / (2 * a)), rel=1e-6)
    assert set(metrics) >= {"slope", "intercept", "n_opt_at_1e15", "d_opt_at_1e15", "n_opt_per_budget"}
    budgets = pd.read_csv(project / "plots" / "scaling" / "budgets.csv")
    assert list(budgets["budget"]) == pytest.approx(params["isoflop"]["scaling"]["budgets"])


def test_decoder_only_run_and_report(project: Path):
    metrics = json.loads((project / "metrics" / "decoder_only" / "h16-small.json").read_text())
    curve = pd.read_csv(project / "plots" / "decoder_only" / "h16-small.csv")
    assert metrics["best_val_loss"] == pytest.approx(curve["val_loss"].min(), rel=1e-5)
    assert metrics["cumulative_flops"] == pytest.approx(curve["cumulative_flops"].iloc[-1])
    runs = mlflow_runs(project, "nmt-decoder-only")
    assert list(runs["tags.mlflow.runName"]) == ["decoder-only h16-small"] and list(runs["status"]) == ["FINISHED"]
    assert runs["tags.model"].item() == "transformer-decoder-only"

    report = (project / "reports" / "report.md").read_text()
    assert "## Decoder-only translator" in report and "## IsoFLOP grid and scaling laws" in report
    assert f"{metrics['best_val_loss']:.4f}".rstrip("0") in report
    assert "compute-optimal?" in report
    for figure in ("decoder_only_loss", "scaling_loss_vs_flops", "scaling_isoflop_profiles", "scaling_compute_optimal"):
        assert (project / "reports" / "figures" / f"{figure}.png").read_bytes()[:4] == b"\x89PNG"

    translated = sh(project, "python", "-m", "pipeline.translate", "--study", "decoder_only", "--run", "h16-small", "air")
    assert translated.stdout.strip().isalpha() or translated.stdout.strip() == ""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"isoflop": {"scaling": {"budgets": [1e8, 5e7]}}}, "isoflop.scaling.budgets.1: budgets must be strictly increasing"),
        ({"isoflop": {"scaling": {"budgets": [-1.0, 5e7]}}}, "isoflop.scaling.budgets.0: Input should be greater than 0"),
        ({"isoflop": {"matrix": {"model": ["h8", "h15", "h32"]}}}, "isoflop.matrix.model: hidden size must be even"),
        ({"isoflop": {"stop_at_flops": 1e7}}, "isoflop.stop_at_flops: must be at least the largest budget"),
    ],
)
def test_bad_scaling_params_fail_in_one_line(project: Path, change: dict, message: str):
    original = (project / "params.yaml").read_text()
    params = yaml.safe_load(original)
    for section, values in change.items():
        for key, value in values.items():
            if isinstance(value, dict):
                params[section][key].update(value)
            else:
                params[section][key] = value
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    try:
        result = sh(project, "python", "-m", "stages", "isoflop", "fit", check=False)
        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == [result.stderr.strip()]  # one line
        assert message in result.stderr and "Traceback" not in result.stderr
    finally:
        (project / "params.yaml").write_text(original)
