"""Fixtures of the shared classifier tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory) -> str:
    """The tracking URI of a fresh SQLite MLflow store, its schema already created (that costs seconds)."""
    from pipeline.core import tracking

    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        tracking.client()
    return uri


@pytest.fixture
def workdir(tmp_path, monkeypatch, mlflow_store) -> Path:
    """A committed project folder (a dvc.yaml) as the working directory, tracking into a temporary store."""
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_store)
    for name in ("DVC_ROOT", "DVC_STAGE"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([*git, "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-qm", "project"], cwd=tmp_path, check=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path
