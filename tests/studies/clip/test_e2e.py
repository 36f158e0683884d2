"""End to end, CLIP prompting: what the shrunken `dvc repro` (fixture `project`) left in
the metrics files, the MLflow experiment `clip` and the report."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.e2e import mlflow_runs, store_client

pytestmark = pytest.mark.e2e


def _json(project: Path, file: str) -> dict:
    return json.loads((project / file).read_text())


def test_training_metrics_match_the_curve(project: Path):
    metrics = _json(project, "metrics/clip/train.json")
    curve = pd.read_csv(project / "plots" / "clip" / "train.csv")
    assert len(curve) == metrics["epochs_trained"] == 1
    assert metrics["chance_top1"] == pytest.approx(0.01) and metrics["retrieval_candidates"] == 100
    # restore_best is off: the final model is the last epoch's, so the two measurements agree.
    assert metrics["val_retrieval_top1"] == pytest.approx(curve["val_retrieval_top1"].iloc[-1], abs=1e-6)
    attributes = yaml.safe_load((project / "params.yaml").read_text())["clip"]["diagnostic"]["attributes"]
    twin = {a: metrics[f"twin_accuracy_{a}"] for a in attributes}
    assert metrics["twin_accuracy_min"] == min(twin.values())
    for attribute, value in twin.items():
        assert value == pytest.approx(curve[f"twin_accuracy_{attribute}"].iloc[-1], abs=1e-6)
        halves = 2 * value * metrics["twin_trials_per_attribute"]  # credit comes in whole and half trials
        assert halves == pytest.approx(round(halves), abs=1e-6)
    assert (project / "outputs" / "clip" / "train" / "open_clip_model.safetensors").stat().st_size > 1_000_000


def test_prompt_outputs_agree(project: Path):
    params = yaml.safe_load((project / "params.yaml").read_text())["clip"]
    metrics = _json(project, "metrics/clip/prompt.json")
    assert list(metrics["captions"]) == params["captions"]
    assert metrics["gallery_images"] == 15
    scores = pd.read_csv(project / "outputs" / "clip" / "prompt" / "caption_scores.csv")
    per_image = pd.read_csv(project / "outputs" / "clip" / "prompt" / "gallery_probabilities.csv")
    target = int(per_image.index[per_image["is_target"]][0])
    for row in scores.itertuples():
        column = per_image[row.caption]
        assert column.sum() == pytest.approx(1.0, abs=1e-4)
        assert row.target_probability == pytest.approx(column.iloc[target], abs=1e-5)
        assert row.target_rank == 1 + int((column > column.iloc[target]).sum())
    found = per_image[metrics["search_caption"]]
    assert metrics["search_target_probability"] == pytest.approx(found.iloc[target], abs=1e-5)
    trace = pd.read_csv(project / "outputs" / "clip" / "prompt" / "search_trace.csv")
    (found_row,) = trace[trace["caption"] == metrics["search_caption"]].itertuples()
    assert found_row.true_of_target  # the synthetic gallery: the caption found is true of the target
    assert metrics["search_selects_target"] == (
        int(found.idxmax()) == target and metrics["search_margin"] >= params["search"]["min_margin"]
    )
    assert metrics["search_truth_checked"] == 1 and metrics["search_captions_scored"] == len(trace)
    true = trace["true_of_target"].astype(bool)
    assert metrics["search_true_captions"] == true.sum()
    assert metrics["search_true_captions_failing"] == (true & (trace["target_rank"] > 1)).sum()
    assert metrics["search_false_captions_selecting"] == (~true & (trace["target_rank"] == 1)).sum()


def test_mlflow_experiment_clip(project: Path):
    runs = mlflow_runs(project, "clip")
    assert sorted(runs["tags.mlflow.runName"]) == ["prompt-attn-clip-tiny-pipeline", "train-attn-clip-tiny"]
    assert set(runs["status"]) == {"FINISHED"}
    assert set(runs["tags.profile"]) == {"smoke"}
    assert sorted(runs["tags.dvc_stage"]) == ["clip_prompt", "clip_train"]
    assert sorted(runs["tags.model"]) == ["attn-clip-tiny", "attn-clip-tiny/pipeline"]
    train = runs[runs["tags.mlflow.runName"] == "train-attn-clip-tiny"].iloc[0]
    assert train["metrics.val_retrieval_top1"] == pytest.approx(_json(project, "metrics/clip/train.json")["val_retrieval_top1"])

    client = store_client(project)
    assert [m.step for m in client.get_metric_history(train["run_id"], "val_retrieval_top1")] == [1]
    assert "figures/training_curve.png" in {a.path for a in client.list_artifacts(train["run_id"], "figures")}
    assert "tables/twin_trials.json" in {a.path for a in client.list_artifacts(train["run_id"], "tables")}
    assert [m.step for m in client.get_metric_history(train["run_id"], "twin_accuracy_position")] == [1]
    prompt_id = runs.loc[runs["tags.mlflow.runName"] == "prompt-attn-clip-tiny-pipeline", "run_id"].iloc[0]
    artifacts = {a.path for folder in ("tables", "figures") for a in client.list_artifacts(prompt_id, folder)}
    assert {"tables/caption_scores.json", "tables/search_trace.json", "figures/gallery.png"} <= artifacts


def test_report_section(project: Path):
    report = (project / "reports" / "report.md").read_text()
    metrics = _json(project, "metrics/clip/prompt.json")
    assert "## CLIP prompting" in report
    assert f"**`{metrics['search_caption']}`**" in report
    assert "### Attribute diagnostic" in report
    diagnostic = pd.read_csv(project / "reports" / "tables" / "clip_attribute_diagnostic.csv")
    train = _json(project, "metrics/clip/train.json")
    assert dict(zip(diagnostic["attribute"], diagnostic["twin accuracy"])) == {
        a: round(train[f"twin_accuracy_{a}"], 3) for a in diagnostic["attribute"]
    }
    captions = pd.read_csv(project / "reports" / "tables" / "clip_captions.csv")
    assert list(captions["caption"]) == list(metrics["captions"])
    assert list(captions["target_rank"]) == [c["target_rank"] for c in metrics["captions"].values()]
    for figure in ("clip_gallery.png", "clip_training.png"):
        assert (project / "reports" / "figures" / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
