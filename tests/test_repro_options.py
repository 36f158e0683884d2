"""The README's options of the parallel runner: by default one stage per core, each with `cores // jobs`
threads, under `make -k`; `--dry-run` prints the makefile a run would hand make and runs nothing.

`make` is replaced by a script that records what it was given (its arguments, the makefile, the
thread variables), so nothing runs: the toy pipeline of tests/test_repro.py only gives DVC a graph.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from pipeline.repro import THREAD_VARIABLES, main
from tests.test_repro import toy_pipeline

FAKE_MAKE = """#!/usr/bin/env python3
import json, os, sys
makefile = sys.argv[sys.argv.index("-f") + 1]
record = {
    "args": sys.argv[1:],
    "makefile": open(makefile).read(),
    "threads": [os.environ.get(v) for v in %r],
    "path": os.environ["PATH"].split(os.pathsep),
}
open(%r, "w").write(json.dumps(record))
"""


@pytest.fixture
def toy(tmp_path: Path, monkeypatch) -> Path:
    root = tmp_path / "toy"
    root.mkdir()
    toy_pipeline(root)
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def make_calls(tmp_path: Path, monkeypatch) -> Path:
    """Where the fake `make` (first on PATH) writes what it was given."""
    record = tmp_path / "make.json"
    fake = tmp_path / "bin" / "make"
    fake.parent.mkdir()
    fake.write_text(FAKE_MAKE % (THREAD_VARIABLES, str(record)))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    return record


def test_by_default_one_stage_per_core_and_the_cores_split_between_the_stages_at_once(toy, make_calls, capsys):
    cores = len(os.sched_getaffinity(0))
    assert main([]) == 0
    given = json.loads(make_calls.read_text())
    assert f"-j{cores}" in given["args"] and "-k" in given["args"]  # -k: a failed stage stops only what needs it
    assert given["threads"] == ["1"] * len(THREAD_VARIABLES)  # cores // jobs, with jobs = cores
    assert f"5 stage(s) to run, {cores} at a time, 1 thread(s) each" in capsys.readouterr().out

    assert main(["-j", "1"]) == 0  # one stage at a time, on every core
    given = json.loads(make_calls.read_text())
    assert "-j1" in given["args"] and given["threads"] == [str(cores)] * len(THREAD_VARIABLES)


def test_dry_run_prints_the_makefile_a_run_hands_make_and_runs_nothing(toy, make_calls, capsys):
    assert main(["--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert not make_calls.exists()  # make never started
    assert not list((toy / "out").iterdir()) and not (toy / "dvc.lock").exists()  # no stage ran
    for stage in ("a", "slow_b", "slow_c", "d", "e"):
        assert f"--wait-for-lock repro -s {stage} && echo {stage} " in printed  # then its start and end

    assert main(["--jobs", "2"]) == 0
    assert json.loads(make_calls.read_text())["makefile"] == printed.removesuffix("\n")


def test_the_stage_commands_python_is_the_interpreter_running_the_command(toy, make_calls):
    """`.venv/bin/python -m pipeline.repro` without an activated environment: the stage commands'
    `python` must not be whichever interpreter comes first on PATH (one without torch)."""
    assert main([]) == 0
    path = json.loads(make_calls.read_text())["path"]
    assert path[0] == str(Path(sys.executable).parent)
    assert str(make_calls.parent / "bin") in path  # the rest of PATH stays
