"""Fixtures shared by several test modules."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from tests.e2e import SOURCE, sh, shrink_params, shrink_raw_data


@pytest.fixture(scope="session")
def project(tmp_path_factory) -> Path:
    """A shrunken copy of the project after one real `dvc repro`, committed."""
    root = tmp_path_factory.mktemp("project")
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=SOURCE, capture_output=True, text=True, check=True,
    ).stdout.split("\0")
    generated = ("dvc.lock", "metrics/", "plots/", "reports/")
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
    first = sh(root, "dvc", "repro")
    (root / "first_repro.log").write_text(first.stdout + first.stderr)
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
