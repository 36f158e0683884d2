"""The code is formatted and linted with the pinned ruff (dev group), configured in pyproject.toml.

Run by the test command, so `.ci/run` refuses unformatted or lint-failing code. To fix:
`uv run ruff format . && uv run ruff check --fix .`
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("command", [["check", "--output-format", "concise"], ["format", "--check"]])
def test_ruff_finds_nothing_to_change(command):
    done = subprocess.run([sys.executable, "-m", "ruff", *command, "."], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, f"ruff {' '.join(command)}:\n{done.stdout}{done.stderr}"


def test_ruff_is_the_pinned_version():
    """The formatter's output changes between versions: the pin in pyproject.toml is the one that runs."""
    pinned = next(line for line in (ROOT / "pyproject.toml").read_text().splitlines() if '"ruff==' in line)
    version = subprocess.run([sys.executable, "-m", "ruff", "--version"], capture_output=True, text=True).stdout.split()[1]
    assert f'"ruff=={version}"' in pinned
