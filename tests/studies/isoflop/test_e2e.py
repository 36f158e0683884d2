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

ISOFLOP_MATRIX = smoke_settings()["params"]["isoflop"]["matrix"]
ISOFLOP_MODELS = ISOFLOP_MATRIX["model"]
ISOFLOP_RUNS = [f"{model}-s{seed}" for model in ISOFLOP_MODELS for seed in ISOFLOP_MATRIX["seed"]]

pytestmark = pytest.mark.e2e


def test_grid_is_one_parent_run_with_a_child_per_member(project: Path):
    runs = mlflow_runs(project, "isoflop")
    parents = runs[runs["tags.mlflow.runName"] == "isoflop-grid"]
    assert len(parents) == 1 and set(runs["status"]) == {"FINISHED"}
    parent_id = parents["run_id"].item()
    children = runs[runs["tags.mlflow.parentRunId"] == parent_id]
    assert sorted(children["tags.mlflow.runName"]) == sorted(ISOFLOP_RUNS)  # every model once per seed
    seeds = {name: int(value) for name, value in zip(children["tags.mlflow.runName"], children["params.seed"])}
    top = yaml.safe_load((project / "params.yaml").read_text())["seed"]
    assert all(seeds[f"{m}-s{s}"] == top + s for m in ISOFLOP_MODELS for s in ISOFLOP_MATRIX["seed"])

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
    budgets = pd.read_csv(project / "plots" / "scaling" / "budgets.csv")
    ours = budgets[(budgets["loss"] == "val_loss") & budgets["counts"]]
    budget = ours["budget"].iloc[0]
    from pipeline.translators.flops import parameter_count

    x, y = [], []
    for model in ISOFLOP_MODELS:
        x.append(np.log10(parameter_count(int(model[1:]), 1, 30)))
        seeds = [pd.read_csv(project / "plots" / "isoflop" / f"{model}-s{seed}.csv") for seed in ISOFLOP_MATRIX["seed"]]
        y.append(np.mean([np.interp(np.log10(budget), np.log10(c["cumulative_flops"]), c["val_loss"]) for c in seeds]))
    a, b, _ = np.polyfit(x, y, 2)
    assert a > 0
    assert ours["n_opt"].iloc[0] == pytest.approx(10 ** (-b / (2 * a)), rel=1e-4)
    assert set(metrics) >= {"slope", "intercept", "n_opt_at_1e15", "d_opt_at_1e15", "n_opt_per_budget", "estimates"}
    for loss in ("val_loss", "val_loss_batch_mean"):
        assert set(metrics["estimates"][loss]) == {"envelope", "isoflop", "parametric"}
    scaling = yaml.safe_load((project / "params.yaml").read_text())["isoflop"]["scaling"]
    assert sorted(set(budgets["budget"])) == pytest.approx(
        np.geomspace(scaling["budgets"]["low"], scaling["budgets"]["high"], scaling["budgets"]["count"]), rel=1e-5
    )
    draws = pd.read_csv(project / "outputs" / "scaling" / "bootstrap_draws.csv")
    assert len(draws) == 2 * scaling["bootstrap"]["resamples"]


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
        ({"isoflop": {"scaling": {"budgets": {"low": 1e8, "high": 5e7}}}}, "isoflop.scaling.budgets.high: must be above low"),
        ({"isoflop": {"scaling": {"budgets": {"low": -1.0}}}}, "isoflop.scaling.budgets.low: Input should be greater than 0"),
        ({"isoflop": {"scaling": {"budgets": {"low": 1e3, "high": 1e4}}}}, "isoflop.scaling.budgets: no model reaches any budget"),
        ({"isoflop": {"matrix": {"model": ["h8", "h15", "h32"]}}}, "isoflop.matrix.model: hidden size must be even"),
        ({"isoflop": {"matrix": {"seed": []}}}, "isoflop.matrix.seed: List should have at least 1 item"),
        ({"isoflop": {"stop_at_flops": 1e7}}, "isoflop.stop_at_flops: must be at least the largest budget"),
    ],
)
def test_bad_scaling_params_fail_in_one_line(project: Path, change: dict, message: str):
    original = (project / "params.yaml").read_text()
    params = yaml.safe_load(original)

    def merge(into: dict, values: dict) -> None:
        for key, value in values.items():
            if isinstance(value, dict):
                merge(into[key], value)
            else:
                into[key] = value

    merge(params, change)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    try:
        result = sh(project, "python", "-m", "stages", "isoflop", "fit", check=False)
        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == [result.stderr.strip()]  # one line
        assert message in result.stderr and "Traceback" not in result.stderr
    finally:
        (project / "params.yaml").write_text(original)
