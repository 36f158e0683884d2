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


ISOFLOP_MODELS = ["h8", "h16", "h32"]


def shrink_decoder_only_and_isoflop(params: dict) -> None:
    """Issue 3: decoder-only translator, IsoFLOP grid, scaling fits.

    On the 80-pair small set, one-layer models of 8/16/32 trained 20 epochs reach
    1.2e8 / 3.2e8 / 9.3e8 FLOPs with first evaluations at 6e6 / 1.6e7 / 4.7e7, so both
    budgets below are reached by all three (and their profiles are convex).
    """
    params["decoder_only"]["run"].update(hidden_size=16, num_layers=1, epochs=2, patience=2)
    params["isoflop"]["matrix"]["model"] = ISOFLOP_MODELS
    params["isoflop"]["train"].update(num_layers=1, epochs=20, patience=20, lr=0.005, lr_decay=0.95)
    params["isoflop"]["stop_at_flops"] = None
    params["scaling"]["budgets"] = [5e7, 1e8]


def shrink_bert(params: dict) -> None:
    """Issue 4: BERT on verbal arithmetic."""
    # Three variants on the real data and checkpoint, one epoch of 7 steps each.
    params["bert"]["recipe"].update(epochs=1, batch_size=64)
    for name in ("finetune_reference",):  # the same code path as finetune
        del params["bert"]["variants"][name], params["bert"]["published_val_accuracy"][name]
    for variant in params["bert"]["variants"].values():
        variant.pop("epochs", None), variant.pop("lr", None)
    params["bert"]["probes"] = ["eight minus ten", "seven minus seven", "four plus seven"]


def shrink_clip(params: dict) -> None:
    """Issue 5: CLIP prompting: 512 training images, one epoch of 8 steps, a beam of 1."""
    params["clip"]["data"].update(train_size=512, val_blocks=1)
    params["clip"]["train"].update(epochs=1, batch_size=64, warmup_steps=2)
    params["clip"]["search"]["beam_width"] = 1


def shrink_raw_data(root: Path) -> None:
    for raw in ("pig_latin_small.txt", "pig_latin_large.txt"):  # 300 pairs each: seconds per epoch
        path = root / "data" / "raw" / raw
        path.write_text("".join(path.read_text().splitlines(keepends=True)[::40][:300]))


def mlflow_runs(root: Path, experiment: str = "nmt-transformer") -> pd.DataFrame:
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{root / '.mlflow' / 'mlflow.db'}")
    return mlflow.search_runs(experiment_names=[experiment], output_format="pandas")
