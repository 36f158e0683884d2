"""Sharing results: a DVC remote in a local folder carries the trained models to a second clone.

What the README's "Sharing results" section tells a user to do, on the shrunken project the
end-to-end fixture trained: `dvc remote add`, `dvc push`, then on a second clone `dvc pull`
and the translate CLI, with no retraining.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e import sh

pytestmark = pytest.mark.e2e


def test_a_second_clone_pulls_a_model_from_a_folder_remote_and_translates(project: Path, tmp_path: Path):
    remote = tmp_path / "remote"
    sh(project, "dvc", "remote", "add", "--local", "-d", "shared", str(remote))
    try:
        sh(project, "dvc", "push", "train_transformer@h8-small")
        assert any(p.is_file() for p in remote.rglob("*"))

        clone = tmp_path / "clone"
        sh(tmp_path, "git", "clone", "-q", str(project), str(clone))
        shutil.copy2(project / "dvc.lock", clone / "dvc.lock")  # what the first machine would commit
        sh(clone, "dvc", "remote", "add", "--local", "-d", "shared", str(remote))
        before = sh(clone, "python", "-m", "pipeline.translate", "--run", "h8-small", "street", check=False)
        assert before.returncode == 2 and "dvc repro train_transformer@h8-small" in before.stderr

        sh(clone, "dvc", "pull", "train_transformer@h8-small")
        assert (clone / "outputs" / "transformer" / "h8-small" / "model.safetensors").read_bytes() == (
            project / "outputs" / "transformer" / "h8-small" / "model.safetensors"
        ).read_bytes()
        here = sh(project, "python", "-m", "pipeline.translate", "--run", "h8-small", "street").stdout
        there = sh(clone, "python", "-m", "pipeline.translate", "--run", "h8-small", "street").stdout
        assert there == here and there.strip()
        assert not (clone / ".mlflow").exists()  # nothing was trained there
    finally:
        sh(project, "dvc", "remote", "remove", "--local", "shared")
