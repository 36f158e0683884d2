"""The README states what the code does: its lists of studies and experiments, and its two set-up commands."""

from __future__ import annotations

import importlib
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
STUDIES = sorted(p.parent.name for p in (ROOT / "pipeline" / "studies").glob("*/stages.py"))


def _study(name: str):
    return importlib.import_module(f"pipeline.studies.{name}").STUDY


@pytest.mark.parametrize("name", STUDIES)
def test_every_study_has_a_row_in_the_study_table(name: str):
    assert re.search(rf"^\| `{name}` \|", README, re.MULTILINE), f"README.md: no row for study {name!r}"


def test_the_experiment_list_names_every_experiment_and_no_other():
    experiments = {_study(name).experiment for name in STUDIES} - {None}
    line = README[README.index("Each study logs to its own experiment") :].split(";")[0]
    assert set(re.findall(r"`([\w-]+)`", line)) == experiments


def test_the_test_command_is_the_one_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert f"```bash\n{ci}\n```" in README


def test_the_main_command_runs_the_parallel_runner():
    assert "```bash\npip install uv && uv sync --frozen && uv run python -m pipeline.repro\n```" in README


def _readable_view_commands() -> list[list[str]]:
    section = README[README.index("### Reading DVC's views") :]
    block = section[section.index("```bash\n") + len("```bash\n") : section.index("\n```", section.index("```bash\n"))]
    return [shlex.split(line.removeprefix("uv run ")) for line in block.splitlines() if line.strip()]


@pytest.mark.e2e
@pytest.mark.parametrize("command", _readable_view_commands(), ids=" ".join)
def test_the_readable_views_work_and_stay_narrow(project: Path, command: list[str]):
    from tests.e2e import sh

    output = sh(project, *command).stdout
    assert output.strip(), f"{' '.join(command)} printed nothing"
    widest = max(len(line) for line in output.splitlines())
    assert widest < 300, f"{' '.join(command)}: a line of {widest} characters"
