"""Fixtures shared by several test modules."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from tests.e2e import SOURCE, all_runs, sh, shrink_params, shrink_raw_data

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]


@pytest.fixture(scope="session")
def prepared_piglatin(tmp_path_factory) -> Path:
    """A project folder with the real params.yaml and raw Pig Latin files, prepared by the real
    `prepare_piglatin` stage: for unit tests that read prepared pairs (a fresh clone has none)."""
    from pipeline.studies.piglatin.stages import prepare

    root = tmp_path_factory.mktemp("prepared")
    shutil.copy(SOURCE / "params.yaml", root / "params.yaml")
    (root / "dvc.yaml").write_text("stages: {}\n")
    shutil.copytree(SOURCE / "data" / "raw", root / "data" / "raw")
    here = Path.cwd()
    try:
        os.chdir(root)
        prepare()
    finally:
        os.chdir(here)
    return root


@pytest.fixture(scope="session")
def project(tmp_path_factory) -> Path:
    """A shrunken copy of the project after one real run of the pipeline (two stages at a time), committed."""
    root = tmp_path_factory.mktemp("project")
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=SOURCE, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    generated = ("dvc.lock", "metrics/", "timings/", "plots/", "reports/")
    for name in filter(None, listed):
        if name.startswith(generated) or not (SOURCE / name).exists():
            continue
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(SOURCE / name, root / name)
    shrink_raw_data(root)
    shrink_params(root)
    sh(root, "git", "init", "-q")
    sh(root, "git", "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A")
    sh(root, "git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "shrunk project")
    first = sh(root, "python", "-m", "pipeline.repro", "--jobs", "2")  # the README's main command, two stages at once
    (root / "first_repro.log").write_text(first.stdout + first.stderr)
    # What the parallel run left, read before any test changes the project (tests/test_repro.py).
    (root / "status_after_first.log").write_text(sh(root, "dvc", "status").stdout)
    second = sh(root, "python", "-m", "pipeline.repro", "--jobs", "2")
    (root / "second_repro.log").write_text(second.stdout + second.stderr)
    (root / "runs_after_first.csv").write_text(all_runs(root).to_csv(index=False))
    sh(root, "git", "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A")
    sh(root, "git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "results")
    return root


@pytest.fixture(scope="module")
def one_torch_thread():
    """Train tiny models on one intra-op thread: they gain nothing from more, and on a busy
    2-core machine OpenMP threads contending with another process slow training ~30x."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory) -> str:
    """The tracking URI of a fresh SQLite MLflow store, its schema already created (that costs seconds).

    Tests point `MLFLOW_TRACKING_URI` at it with monkeypatch; each uses its own experiment names.
    """
    from pipeline.core import tracking

    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        tracking.client()
    return uri


@pytest.fixture
def workdir(tmp_path, monkeypatch, mlflow_store) -> Path:
    """A committed project folder (a dvc.yaml) as the working directory, tracking into a temporary store."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_store)
    for name in ("DVC_ROOT", "DVC_STAGE"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([*GIT, "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run([*GIT, "commit", "-qm", "project"], cwd=tmp_path, check=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path
