"""The parallel runner (`python -m pipeline.repro`) on a toy DVC pipeline written here.

    a ─┬─> slow_b ──> d
       └─> slow_c ──┘        e (independent, fails when asked to)

Checked against what DVC itself says: the plan holds exactly the stages `dvc status` calls
stale plus everything downstream of them; two independent stages overlap in time; a failing
stage leaves the other branches finished and recorded; `dvc.lock` ends as a serial `dvc repro`
leaves it (`dvc status` clean, a second run does nothing).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.repro import DEFAULT_SECONDS, Plan, longest_path_first, plan, thread_environment
from tests.e2e import BIN, _env

ROOT = Path(__file__).resolve().parents[1]

# Each stage appends "<name> <start> <end>" (seconds) to log/<name>, so the test can see overlap.
STAGE = (
    "python -c \"import os,sys,time; t=time.time(); time.sleep({sleep}); fail=os.path.exists('fail_{name}'); "
    "open('{out}','w').write(' '.join(sys.argv[1:])); open('log/{name}','a').write(f'{{t}} {{time.time()}} ' + os.environ.get('OMP_NUM_THREADS','-') + chr(10)); sys.exit(3 if fail else 0)\" {inputs}"
)


def _stage(name: str, deps: list[str], sleep: float = 0.0) -> dict:
    out = f"out/{name}.txt"
    return {"cmd": STAGE.format(name=name, sleep=sleep, out=out, inputs=" ".join(deps)), "deps": deps or ["input.txt"], "outs": [out]}


def toy_pipeline(root: Path) -> None:
    stages = {
        "a": _stage("a", ["input.txt"]),
        "slow_b": _stage("slow_b", ["out/a.txt"], sleep=2),
        "slow_c": _stage("slow_c", ["out/a.txt"], sleep=2),
        "d": _stage("d", ["out/slow_b.txt", "out/slow_c.txt"]),
        "e": _stage("e", ["input.txt"]),
    }
    (root / "dvc.yaml").write_text(yaml.safe_dump({"stages": stages}, sort_keys=False))
    (root / "input.txt").write_text("1\n")
    (root / "out").mkdir()
    (root / "log").mkdir()
    for command in (["git", "init", "-q"], [str(BIN / "dvc"), "init", "-q"]):
        subprocess.run(command, cwd=root, check=True, env=_env(root))


def run(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = _env(root) | {"PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "pipeline.repro", *args], cwd=root, env=env, capture_output=True, text=True)


def dvc_status(root: Path) -> str:
    return subprocess.run([str(BIN / "dvc"), "status"], cwd=root, env=_env(root), capture_output=True, text=True, check=True).stdout


def spans(root: Path, name: str) -> list[tuple[float, float, str]]:
    rows = (root / "log" / name).read_text().split("\n")
    return [(float(start), float(end), threads) for start, end, threads in (row.split() for row in rows if row)]


@pytest.fixture
def toy(tmp_path: Path, monkeypatch) -> Path:
    toy_pipeline(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_plan_of_a_fresh_pipeline_is_every_stage_after_its_upstream(toy: Path):
    work = plan(toy, [], force=False)
    assert set(work.stages) == {"a", "slow_b", "slow_c", "d", "e"}
    assert work.upstream["d"] == ["slow_b", "slow_c"] and work.upstream["a"] == []
    for stage, waits_for in work.upstream.items():
        assert all(work.stages.index(w) < work.stages.index(stage) for w in waits_for)
    assert set(plan(toy, ["slow_b"], force=False).stages) == {"a", "slow_b"}  # a target and what it needs


def test_stages_run_side_by_side_and_dvc_lock_ends_as_a_serial_repro_leaves_it(toy: Path):
    result = run(toy, "--jobs", "2")
    assert result.returncode == 0, result.stderr
    ((b_start, b_end, b_threads),) = spans(toy, "slow_b")
    ((c_start, c_end, _),) = spans(toy, "slow_c")
    assert max(b_start, c_start) < min(b_end, c_end), "the two independent 2 s stages did not overlap"
    assert spans(toy, "d")[0][0] >= max(b_end, c_end)  # d waited for both
    assert b_threads == thread_environment(2, len(__import__("os").sched_getaffinity(0)))["OMP_NUM_THREADS"]
    assert "up to date" in dvc_status(toy)
    assert set(yaml.safe_load((toy / "dvc.lock").read_text())["stages"]) == {"a", "slow_b", "slow_c", "d", "e"}

    again = run(toy)
    assert again.returncode == 0 and "Data and pipelines are up to date." in again.stdout
    assert len(spans(toy, "a")) == 1  # nothing ran twice


def test_a_changed_input_reruns_it_and_what_is_downstream_only(toy: Path):
    assert run(toy, "--jobs", "2").returncode == 0
    (toy / "log" / "e").unlink()
    stages_yaml = yaml.safe_load((toy / "dvc.yaml").read_text())
    stages_yaml["stages"]["slow_c"]["cmd"] += " changed"
    (toy / "dvc.yaml").write_text(yaml.safe_dump(stages_yaml, sort_keys=False))
    assert plan(toy, [], force=False).stages == ["slow_c", "d"]
    assert run(toy, "--jobs", "2").returncode == 0
    assert len(spans(toy, "slow_c")) == 2 and len(spans(toy, "slow_b")) == 1
    assert not (toy / "log" / "e").exists()
    assert "up to date" in dvc_status(toy)


def test_a_failing_stage_lets_the_independent_branches_finish(toy: Path):
    (toy / "fail_slow_c").write_text("")
    result = run(toy, "--jobs", "2")
    assert result.returncode != 0
    assert "some stages failed" in result.stderr
    assert not (toy / "out" / "d.txt").exists()  # downstream of the failure: not started
    assert (toy / "out" / "slow_b.txt").exists() and (toy / "out" / "e.txt").exists()
    locked = set(yaml.safe_load((toy / "dvc.lock").read_text())["stages"])
    assert locked == {"a", "slow_b", "e"}  # the finished stages are recorded, the failed one is not

    (toy / "fail_slow_c").unlink()
    assert plan(toy, [], force=False).stages == ["slow_c", "d"]


def test_bad_arguments_fail_in_one_line(toy: Path):
    unknown = run(toy, "no_such_stage")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == "error: dvc.yaml: no stage named 'no_such_stage' (stages: `dvc stage list`)"
    zero = run(toy, "--jobs", "0")
    assert zero.returncode == 2 and zero.stderr.strip() == "error: --jobs: must be at least 1, got 0"


def test_a_broken_params_or_dvc_yaml_is_one_line_not_dvc_s_traceback(toy: Path):
    (toy / "params.yaml").write_text("seed: 1\nlr: 2\nseed: 3\n")
    duplicate = run(toy)
    assert duplicate.returncode == 2
    assert duplicate.stderr.strip() == f"error: {toy / 'params.yaml'}:3: not valid YAML (duplicate key 'seed', first at line 1)"
    (toy / "params.yaml").write_text("seed: 1\n")
    (toy / "dvc.yaml").write_text((toy / "dvc.yaml").read_text() + "  broken: [\n")
    broken = run(toy)
    assert broken.returncode == 2 and "Traceback" not in broken.stderr
    assert broken.stderr.strip() == "error: dvc: unable to read: 'dvc.yaml', YAML file structure is corrupted"


def test_makefile_runs_dvc_single_stage_repro_after_upstream():
    text = Plan({"a": [], "c": [], "b": ["a", "c"]}).makefile(["dvc"], force=True)
    assert "b: a c\n\t@dvc --wait-for-lock repro -f -s b\n" in text  # @: make does not echo it
    assert text.splitlines()[2] == "all: a c b"


def test_the_head_of_the_longest_chain_is_listed_first():
    # short_a (1 s) -> long_b (100 s) is 101 s of work; c (50 s) and d (10 s) stand alone.
    upstream = {"c": [], "d": [], "short_a": [], "long_b": ["short_a"]}
    seconds = {"c": 50, "d": 10, "short_a": 1, "long_b": 100}
    assert longest_path_first(upstream, seconds) == ["short_a", "long_b", "c", "d"]
    # without times every stage counts the same: the deeper chain still goes first
    assert longest_path_first(upstream, {})[0] == "short_a"


def test_the_plan_orders_by_the_train_seconds_the_last_run_recorded(toy: Path):
    (toy / "timings" / "out").mkdir(parents=True)
    stages_yaml = yaml.safe_load((toy / "dvc.yaml").read_text())
    stages_yaml["stages"]["e"]["outs"].append({"timings/out/e.json": {"cache": False}})
    (toy / "dvc.yaml").write_text(yaml.safe_dump(stages_yaml, sort_keys=False))
    (toy / "timings" / "out" / "e.json").write_text('{"train_seconds": 500, "nested": {"train_seconds": 100}}')
    work = plan(toy, [], force=False)
    assert work.stages[0] == "e"  # 600 s alone outranks the chain a -> slow_b -> d of 3 x DEFAULT_SECONDS
    assert 3 * DEFAULT_SECONDS < 600
    assert work.stages.index("a") < work.stages.index("slow_b") < work.stages.index("d")


def test_threads_split_the_cores_between_jobs():
    assert thread_environment(2, 2)["OMP_NUM_THREADS"] == "1"
    assert thread_environment(1, 2)["MKL_NUM_THREADS"] == "2"
    assert thread_environment(4, 2)["OPENBLAS_NUM_THREADS"] == "1"
    assert thread_environment(3, 16)["OMP_NUM_THREADS"] == "5"


@pytest.mark.e2e
def test_the_whole_shrunken_pipeline_two_stages_at_a_time(project: Path):
    """The conftest fixture ran the real pipeline with `--jobs 2`: every stage logging to one SQLite store at once."""
    import pandas as pd

    first = (project / "first_repro.log").read_text()
    stage_count = len(yaml.safe_load((project / "dvc.lock").read_text())["stages"])
    assert f"{stage_count} stage(s) to run, 2 at a time, " in first
    assert stage_count == len(plan(project, [], force=True).stages)  # every stage of dvc.yaml ran and is recorded
    assert "up to date" in (project / "status_after_first.log").read_text()
    assert (project / "second_repro.log").read_text().strip() == "Data and pipelines are up to date."
    runs = pd.read_csv(project / "runs_after_first.csv")
    experiments = {
        "nmt-transformer",
        "nmt-decoder-only",
        "nmt-recurrent",
        "isoflop",
        "bert",
        "gpt-classifier",
        "clip",
        "written-questions",
        "add2digits",
        "turkish-english",
    }
    assert experiments <= set(runs["experiment"])  # every study that logs runs logged them
    assert set(runs["status"]) == {"FINISHED"}, runs[runs["status"] != "FINISHED"].to_string()


def test_a_straight_line_of_stages_is_one_make_target():
    """GNU make walks `all` forward: a stage behind a long upstream would wait until make had passed
    every other ready target. A straight line runs as one target, back to back (`clip_data -> clip_train
    -> clip_prompt`); a stage with two upstreams, or an upstream with two downstreams, ends a line."""
    # `prompt` and `report` also read `data`'s output directly: edges another path implies do not break a line
    work = Plan({"data": [], "train": ["data"], "prompt": ["data", "train"], "other": [], "report": ["data", "prompt", "other"]})
    assert work.chains() == [["data", "train", "prompt"], ["other"], ["report"]]
    text = work.makefile(["dvc"], force=False)
    assert text.splitlines()[2] == "all: prompt other report"
    run_line = "dvc --wait-for-lock repro -s"
    assert f"prompt:\n\t@{run_line} data && {run_line} train && {run_line} prompt\n" in text
    assert "report: prompt other\n" in text
    # a fan-out keeps its stages apart: both downstream stages wait for the same target
    fan = Plan({"prep": [], "a": ["prep"], "b": ["prep"]})
    assert fan.chains() == [["prep"], ["a"], ["b"]]


def test_make_starts_a_stage_behind_a_long_upstream_before_the_unrelated_ones(tmp_path: Path):
    """The reason for the chains, on real make with two jobs: `late` waits 1 s for `slow`; six
    one-second stages stand alone. Listed first, the chain slow -> late starts `late` right after `slow`."""
    import shutil as _shutil
    import subprocess as _subprocess

    if _shutil.which("make") is None:
        pytest.skip("GNU make is not installed")
    alone = [f"c{i}" for i in range(6)]
    work = Plan({"slow": [], "late": ["slow"], **{name: [] for name in alone}})
    log = tmp_path / "order.log"
    fake_dvc = tmp_path / "fake_dvc"  # logs the stage it is asked to run (its last argument), then works 0.3 s
    fake_dvc.write_text(f'#!/bin/sh\nfor stage; do :; done\necho "$stage" >> {log}\nsleep 0.3\n')
    (tmp_path / "Makefile").write_text(work.makefile(["sh", str(fake_dvc)], force=False))
    _subprocess.run(["make", "-s", "-j2", "all"], cwd=tmp_path, check=True)
    order = log.read_text().split()
    # Within the first two rounds of the two job slots (a log line's place among stages that start
    # together is a race); as separate targets make would start `late` last, after the six others.
    assert order.index("late") <= 3 and order[-1] != "late", order


def test_each_stage_s_wall_time_is_recorded_and_the_longest_are_printed(tmp_path: Path, capsys):
    """Real make, a fake DVC that works 0.2 s per stage (0.6 s for `slow`): the times file has each
    stage once, with its start before its end, and the summary lists the slowest first."""
    import shutil as _shutil
    import subprocess as _subprocess

    from pipeline.repro import print_stage_times

    if _shutil.which("make") is None:
        pytest.skip("GNU make is not installed")
    work = Plan({"prep": [], "slow": ["prep"], "quick": [], "fails": []})
    fake_dvc = tmp_path / "fake_dvc"
    fake_dvc.write_text('#!/bin/sh\nfor stage; do :; done\n[ "$stage" = fails ] && exit 1\n[ "$stage" = slow ] && sleep 0.4\nsleep 0.2\n')
    times = tmp_path / "times.txt"
    (tmp_path / "Makefile").write_text(work.makefile(["sh", str(fake_dvc)], force=False, times=times))
    _subprocess.run(["make", "-s", "-k", "-j2", "all"], cwd=tmp_path)
    rows = {stage: (float(start), float(end)) for stage, start, end in (line.split() for line in times.read_text().splitlines())}
    assert set(rows) == {"prep", "slow", "quick"}  # a failed stage records no time
    assert all(0.15 < end - start < 5 for start, end in rows.values())
    assert rows["slow"][1] - rows["slow"][0] > rows["quick"][1] - rows["quick"][0] + 0.3
    assert rows["slow"][0] >= rows["prep"][1] - 0.01  # started after its upstream ended (one chain, back to back)
    print_stage_times(times, longest=2)
    assert capsys.readouterr().out.startswith("3 stage(s) done; the longest: slow 1 s, ")  # 0.6 s, rounded
