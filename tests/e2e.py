"""Shared machinery of the end-to-end tests: a shrunken copy of the project after one
real `dvc repro`, built once per test session (fixture `project` in conftest.py).

Each study shrinks its own params in its own function below so that the whole
pipeline (every stage in dvc.yaml) runs in a few minutes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

SOURCE = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RUNS = ["h8-small", "h8-large", "h12-small", "h12-large"]


def _env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DVC_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = str(root)
    return env


def sh(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=root, env=_env(root), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def shrink_params(root: Path) -> None:
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["profile"] = "smoke"
    shrink_nmt(params)
    shrink_decoder_only_and_isoflop(params)
    shrink_bert(params)
    shrink_clip(params)
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def shrink_nmt(params: dict) -> None:
    params["nmt"]["matrix"] = {"model": ["h8", "h12"], "dataset": ["small", "large"]}
    tiny = {"num_layers": 1, "epochs": 2, "patience": 2, "batch_size": 64, "lr": 0.005, "lr_decay": 0.9}
    params["nmt"]["runs"] = {
        name: {"dataset": name.split("-")[1], "hidden_size": int(name.split("-")[0][1:]), **tiny} for name in RUNS
    }
    params["nmt"]["eval"]["sentences"] = ["the air conditioning is working", "bond-street"]


def shrink_decoder_only_and_isoflop(params: dict) -> None:
    """Issue 3: decoder-only translator, IsoFLOP grid, scaling fits."""


def shrink_bert(params: dict) -> None:
    """Issue 4: BERT on verbal arithmetic."""


def shrink_clip(params: dict) -> None:
    """Issue 5: CLIP prompting."""


def shrink_raw_data(root: Path) -> None:
    for raw in ("pig_latin_small.txt", "pig_latin_large.txt"):  # 300 pairs each: seconds per epoch
        path = root / "data" / "raw" / raw
        path.write_text("".join(path.read_text().splitlines(keepends=True)[::40][:300]))


def mlflow_runs(root: Path, experiment: str = "nmt-transformer") -> pd.DataFrame:
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{root / '.mlflow' / 'mlflow.db'}")
    return mlflow.search_runs(experiment_names=[experiment], output_format="pandas")
