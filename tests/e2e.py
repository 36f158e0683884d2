"""Shared machinery of the end-to-end tests: a shrunken copy of the project after one
real `dvc repro`, built once per test session (fixture `project` in conftest.py).

Each study's smoke-size settings live in `tests/smoke.yaml`, so that the whole pipeline
(every stage in dvc.yaml) runs in a few minutes.
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


SMOKE = Path(__file__).resolve().parent / "smoke.yaml"
DELETE = "<delete>"


def merge(base: dict, override: dict) -> dict:
    """`override` merged into `base`: mappings key by key, other values replace, `<delete>` removes."""
    merged = dict(base)
    for key, value in override.items():
        if value == DELETE:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def smoke_settings() -> dict:
    return yaml.safe_load(SMOKE.read_text())


def shrink_params(root: Path) -> None:
    params = yaml.safe_load((root / "params.yaml").read_text())
    (root / "params.yaml").write_text(yaml.safe_dump(merge(params, smoke_settings()["params"]), sort_keys=False))


def shrink_raw_data(root: Path) -> None:
    for name, cut in smoke_settings()["raw_data"].items():
        path = root / name
        path.write_text("".join(path.read_text().splitlines(keepends=True)[:: cut["every"]][: cut["lines"]]))


def store_uri(root: Path) -> str:
    return f"sqlite:///{root / '.mlflow' / 'mlflow.db'}"


def store_client(root: Path):
    """An MlflowClient on the project's store, named explicitly (no global MLflow state)."""
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=store_uri(root))


def mlflow_runs(root: Path, experiment: str) -> pd.DataFrame:
    """The experiment's runs as MLflow's own data frame.

    `mlflow.search_runs` reads the global tracking URI, which `set_tracking_uri` also exports as
    MLFLOW_TRACKING_URI: left set, every later test that runs a stage in-process would log into
    this store. So it is set for the search only and put back.
    """
    import mlflow

    previous = os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(store_uri(root))
    try:
        return mlflow.search_runs(experiment_names=[experiment], output_format="pandas")
    finally:
        mlflow.set_tracking_uri(previous)  # None unsets it again


def all_runs(root: Path) -> pd.DataFrame:
    """Every run of every experiment in the project's store: name, experiment, status."""
    client = store_client(root)
    rows = [
        {"experiment": experiment.name, "run": run.info.run_name, "status": run.info.status}
        for experiment in client.search_experiments()
        for run in client.search_runs([experiment.experiment_id], max_results=10_000)
    ]
    return pd.DataFrame(rows, columns=["experiment", "run", "status"])


def snapshot(root: Path, *paths: str) -> dict[str, bytes]:
    """The bytes of every file under `paths` (files or folders), by path: what a failed stage must leave alone."""
    files: dict[str, bytes] = {}
    for path in paths:
        target = root / path
        found = [target] if target.is_file() else sorted(p for p in target.rglob("*") if p.is_file())
        files |= {str(file.relative_to(root)): file.read_bytes() for file in found}
    assert files, f"nothing under {paths}"
    return files
