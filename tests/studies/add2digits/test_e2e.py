"""End to end, Add2Digits: what a user sees after the shared shrunken `dvc repro`.

The smoke-size params (`add2digits` in tests/smoke.yaml): both cells at lengths 3 and 5,
an 8-unit single layer, 3 full-batch reference epochs on 40 examples (at length 5 only:
`reference.lengths`), then seeds 0 and 1 of 40/20/20 examples in batches of 20 for at most
2 epochs; then the input gradients of every trained model (stage measure_add2digits).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.e2e import mlflow_runs

pytestmark = pytest.mark.e2e

ENTRIES = [f"{cell}-{length}" for cell in ("rnn", "lstm") for length in ("L3", "L5")]
REFERENCE = [entry for entry in ENTRIES if entry.endswith("-L5")]  # smoke.yaml: reference.lengths [L5]
SEEDS = (0, 1)


def test_data_sets_and_statistics(project: Path):
    stats = json.loads((project / "metrics" / "add2digits" / "data.json").read_text())
    for length in ("L3", "L5"):
        files = sorted(p.name for p in (project / "data" / "prepared" / "add2digits" / length).iterdir())
        assert files == ["extended-s0.csv", "extended-s1.csv", "reference.csv"]
        assert stats[f"{length}/reference"]["train"]["rows"] == 40 and stats[f"{length}/reference"]["test"]["rows"] == 20
        assert sum(stats[f"{length}/extended-s0"]["val"]["class_histogram"]) == 20


def test_metrics_files_agree_with_curves(project: Path):
    for entry in ENTRIES:
        metrics = json.loads((project / "metrics" / "add2digits" / f"{entry}.json").read_text())
        curve = pd.read_csv(project / "plots" / "add2digits" / f"{entry}.csv")
        assert list(curve.columns) == ["epoch", "iterations", "train_loss", "test_loss", "train_accuracy", "test_accuracy"]
        if entry in REFERENCE:
            assert curve["iterations"].tolist() == [1, 2, 3] == curve["epoch"].tolist()
            assert metrics["final_test_accuracy"] == pytest.approx(curve["test_accuracy"].iloc[-1])
        else:  # the declared outputs exist and say why there is no run
            assert curve.empty and metrics == {"reference_protocol": "not run: add2digits.reference.lengths is ['L5']"}
        for seed in SEEDS:
            extended = json.loads((project / "metrics" / "add2digits" / f"{entry}-extended" / f"s{seed}.json").read_text())
            assert extended["epochs_trained"] <= 2 and 0 <= extended["test_accuracy"] <= 1
            assert (project / "outputs" / "add2digits" / f"{entry}-extended" / f"s{seed}" / "model.safetensors").exists()


def test_mlflow_has_one_finished_run_per_run(project: Path):
    runs = mlflow_runs(project, "add2digits")
    expected = set(REFERENCE) | {f"{entry}-extended-s{seed}" for entry in ENTRIES for seed in SEEDS}
    assert set(runs["tags.mlflow.runName"]) == expected | {"input-gradients"}
    assert set(runs["status"]) == {"FINISHED"} and set(runs["tags.profile"]) == {"smoke"}
    gradients = runs[runs["tags.mlflow.runName"] == "input-gradients"].iloc[0]
    assert gradients["tags.dvc_stage"] == "measure_add2digits"
    assert gradients["tags.mlflow.source.name"] == "python -m stages add2digits measure"
    for _, row in runs[runs["tags.mlflow.runName"] != "input-gradients"].iterrows():
        entry = row["tags.mlflow.runName"].split("-extended")[0]
        assert row["tags.dvc_stage"] == f"train_add2digits@{entry}"
        assert row["tags.mlflow.source.name"] == f"python -m stages add2digits train --run {entry}"


def test_report_section_comes_from_the_runs(project: Path):
    report = (project / "reports" / "report.md").read_text()
    assert "## Add2Digits: RNN vs LSTM over sequence length" in report
    table = pd.read_csv(project / "reports" / "tables" / "add2digits_reference.csv")
    assert sorted(f"{c.lower()}-L{n}" for c, n in zip(table["cell"], table["length"])) == sorted(REFERENCE)
    assert "The protocol is not run at length 3 (`add2digits.reference.lengths`)" in report
    assert "### Gradient reaching each input (HW3-1.1)" in report and "figures/add2digits_input_gradients.png" in report
    for row in table.itertuples():
        metrics = json.loads((project / "metrics" / "add2digits" / f"{row.cell.lower()}-L{row.length}.json").read_text())
        assert row._3 == pytest.approx(round(metrics["final_test_accuracy"], 3))
    assert len(pd.read_csv(project / "reports" / "tables" / "add2digits_extended_runs.csv")) == len(ENTRIES) * len(SEEDS)
    assert (project / "reports" / "figures" / "add2digits_reference_L5.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_input_gradients_cover_every_trained_model(project: Path):
    curves = pd.read_csv(project / "plots" / "add2digits" / "input-gradients.csv")
    expected = set(REFERENCE) | {f"{entry}-extended-s{seed}" for entry in ENTRIES for seed in SEEDS}
    assert set(curves["model"]) == expected and set(curves["weights"]) == {"trained", "initial"}
    metrics = json.loads((project / "metrics" / "add2digits" / "input-gradients.json").read_text())
    assert set(metrics["first_over_last"]) == expected
