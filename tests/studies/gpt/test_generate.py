"""Stage generate_gpt on a tiny GGUF checkpoint: the continuations written, logged, and reproducible."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch
import yaml

from pipeline.studies.gpt.checkpoints import resolve
from pipeline.studies.gpt.generate import continue_greedily
from pipeline.studies.gpt.model import load_causal_lm
from tests.studies.gpt.tiny import write_tiny_gguf

ROOT = Path(__file__).resolve().parents[3]


def test_stage_writes_the_greedy_continuations_and_logs_them(tmp_path):
    gguf = tmp_path / "tiny-llama.gguf"
    write_tiny_gguf(gguf)
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["gpt"]["checkpoint_sets"]["offline"]["source"] = str(gguf)
    params["gpt"]["generation"] = {"prompts": ["four plus", "nine minus"], "max_new_tokens": 3}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    result = subprocess.run(
        [sys.executable, "-m", "stages", "gpt", "generate"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr

    written = json.loads((tmp_path / "metrics/gpt/generation.json").read_text())
    timings = json.loads((tmp_path / "timings/gpt/generation.json").read_text())
    assert set(timings) == {"generation_seconds", "load_seconds"} and "generation_seconds" not in written
    # The same continuations, computed here independently of the stage's run.
    model, tokenizer = load_causal_lm(resolve(str(gguf), "key", download=False, root=ROOT), "key")
    expected = [continue_greedily(model, tokenizer, p, 3, torch.device("cpu")) for p in ("four plus", "nine minus")]
    assert [(row["continuation"], row["new_tokens"]) for row in written["continuations"]] == expected
    assert written["new_tokens"] == sum(count for _, count in expected) and written["prompts"] == 2

    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=env["MLFLOW_TRACKING_URI"])
    [run] = client.search_runs([client.get_experiment_by_name("gpt-classifier").experiment_id])
    assert run.data.tags["mlflow.runName"] == "gpt generation" and run.data.tags["dvc_stage"] == "generate_gpt"
    assert run.info.status == "FINISHED" and run.data.metrics["new_tokens"] == written["new_tokens"]
