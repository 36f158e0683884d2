"""What the BERT and GPT classify-CLI tests share: a project folder without trained variants, and the CLI as a user runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def untrained_project(folder: Path) -> Path:
    """params.yaml and dvc.yaml of the real project in `folder`, no trained variant."""
    (folder / "dvc.yaml").write_text("stages: {}\n")
    shutil.copy(ROOT / "params.yaml", folder / "params.yaml")
    return folder


def run_cli(module: str, folder: Path, *args: str) -> subprocess.CompletedProcess:
    """`python -m <module> <args>` in `folder`, in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", module, *args]
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=120)
