"""End to end, BERT study: what a user sees after the shared shrunken `dvc repro`.

The smoke-size params (`bert` in tests/smoke.yaml) keep the real data and the bundled
checkpoint but train one epoch per variant (stages `python -m stages bert train --variant <v>`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.e2e import BIN, mlflow_runs, sh, store_client

pytestmark = pytest.mark.e2e

VARIANTS = ["finetune", "frozen", "no_pretraining", "gpt_recipe"]


def test_metrics_files_agree_with_curves(project: Path):
    for variant in VARIANTS:
        metrics = json.loads((project / "metrics" / "bert" / f"{variant}.json").read_text())
        curve = pd.read_csv(project / "plots" / "bert" / f"{variant}.csv")
        assert list(curve.columns) == ["epoch", "iterations", "train_loss", "val_loss", "val_accuracy"]
        assert len(curve) == metrics["epochs_trained"] == 1
        # 448 rows in batches of 64; gpt_recipe trains on the notebook's 512.
        assert curve["iterations"].tolist() == [8 if variant == "gpt_recipe" else 7]
        assert metrics["train_rows"] == (512 if variant == "gpt_recipe" else 448)
        assert metrics["collapsed"] in (0, 1) and metrics["majority_test_accuracy"] == pytest.approx(111 / 160)
        # The last epoch's weights are kept: the per-epoch callback and the final evaluation agree.
        assert metrics["val_accuracy"] == pytest.approx(curve["val_accuracy"].iloc[-1], abs=1e-6)
        timings = json.loads((project / "timings" / "bert" / f"{variant}.json").read_text())
        assert 0.0 <= metrics["test_accuracy"] <= 1.0 and timings["train_seconds"] > 0 and "train_seconds" not in metrics
        assert all(timings[f"{phase}_seconds_per_batch"] > 0 for phase in ("forward", "backward", "optimizer"))
        assert (project / "outputs" / "bert" / variant / "model.safetensors").exists()
    frozen = json.loads((project / "metrics" / "bert" / "frozen.json").read_text())
    assert frozen["trainable_parameters"] == 384 * 3 + 3  # Linear(hidden 384, 3) only


def test_mlflow_has_one_finished_run_per_variant(project: Path):
    runs = mlflow_runs(project, "bert")
    # Named after the study too: the gpt-classifier experiment has a `finetune` run as well.
    assert sorted(runs["tags.mlflow.runName"]) == sorted(f"bert {variant}" for variant in VARIANTS)
    assert set(runs["status"]) == {"FINISHED"}
    for _, row in runs.iterrows():
        name = row["tags.mlflow.runName"].removeprefix("bert ")
        assert row["tags.mlflow.note.content"].startswith(f"BERT variant `{name}`: ")
        metrics = json.loads((project / "metrics" / "bert" / f"{name}.json").read_text())
        assert row["metrics.val_accuracy"] == pytest.approx(metrics["val_accuracy"])
        assert row["metrics.test_accuracy"] == pytest.approx(metrics["test_accuracy"])
        assert row["tags.dvc_stage"] == f"train_bert@{name}"
        assert row["tags.dataset"] == "verbal-arithmetic" and row["tags.profile"] == "smoke"
        assert row["tags.checkpoint_set"] == "offline"
        assert row["tags.mlflow.source.name"] == f"python -m stages bert train --variant {name}"
    random = runs.loc[runs["tags.mlflow.runName"] == "bert no_pretraining"].iloc[0]
    assert "no pretraining" in random["tags.model"] and random["params.checkpoint.pretrained"] == "False"
    assert random["params.checkpoint.pretraining_data"] == "none (random init)"

    client = store_client(project)
    run_id = runs.loc[runs["tags.mlflow.runName"] == "bert finetune", "run_id"].iloc[0]
    assert [m.step for m in client.get_metric_history(run_id, "val_accuracy")] == [1]
    assert [m.step for m in client.get_metric_history(run_id, "test_accuracy")] == [0]  # a summary: step 0, like every study's
    artifacts = {a.path for folder in ("figures", "tables") for a in client.list_artifacts(run_id, folder)}
    assert {
        "figures/training_curve.png",
        "figures/confusion.png",
        "tables/confusion_test.json",
        "tables/probe_predictions.json",
        "tables/test_predictions.json",
    } <= artifacts


def test_report_section_comes_from_the_runs(project: Path):
    report = (project / "reports" / "report.md").read_text()
    assert "## BERT on verbal arithmetic" in report
    summary = pd.read_csv(project / "reports" / "tables" / "bert_summary.csv")
    assert summary["variant"].tolist() == VARIANTS
    for variant in VARIANTS:
        metrics = json.loads((project / "metrics" / "bert" / f"{variant}.json").read_text())
        row = summary.loc[summary["variant"] == variant].iloc[0]
        assert row["val accuracy"] == pytest.approx(metrics["val_accuracy"], abs=1e-4)
        assert row["test accuracy"] == pytest.approx(metrics["test_accuracy"], abs=1e-4)
        confusion = pd.read_csv(project / "reports" / "tables" / f"bert_confusion_test_{variant}.csv", index_col=0)
        assert confusion.to_numpy().sum() == 160
        assert confusion.to_numpy().trace() / 160 == pytest.approx(metrics["test_accuracy"])
    assert summary.loc[summary["variant"] == "finetune", "published val accuracy (2025 / 2022)"].item() == "0.92-0.93 / 0.89-0.9"
    for figure in ("bert_training.png", "bert_confusion_test.png"):
        assert (project / "reports" / "figures" / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "seven minus seven" in report


def test_predict_cli_matches_the_reported_probe_predictions(project: Path):
    probes = pd.read_csv(project / "reports" / "tables" / "bert_probe_predictions.csv")
    result = sh(project, str(BIN / "python"), "-m", "pipeline.studies.bert.predict", "--variant", "finetune", *probes["sentence"])
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(probes)
    for line, (sentence, reported) in zip(lines, zip(probes["sentence"], probes["finetune"])):
        assert line.startswith(f"{sentence} -> {reported.split(' ')[0]} (negative ")
    bad = sh(project, str(BIN / "python"), "-m", "pipeline.studies.bert.predict", "--variant", "nope", "one plus one", check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("error: params.yaml: bert.variants: no variant 'nope'")
