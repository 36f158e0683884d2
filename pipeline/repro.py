"""`dvc repro` with independent stages running side by side, scheduled by GNU make.

    python -m pipeline.repro                 # every out-of-date stage, one job per core
    python -m pipeline.repro -j 1            # one stage at a time, like `dvc repro`
    python -m pipeline.repro report          # only what `report` needs, like `dvc repro report`
    python -m pipeline.repro --dry-run       # print the plan (a makefile) and run nothing

DVC itself runs one stage at a time. This command asks DVC which stages are out of date,
adds every stage downstream of them (they go stale once their inputs change; `dvc repro -s`
on one whose inputs came out identical is a no-op), and hands that graph to GNU make. Each
make target runs `dvc --wait-for-lock repro -s <stage>`; make starts a stage once every
upstream stage has succeeded, runs `--jobs` of them at once and, with `-k`, lets the
independent branches finish when one stage fails. DVC releases its repository lock while a
stage's command runs and takes it only to check a stage and to record it in `dvc.lock`, so
the stages really do run at once and `dvc.lock` ends as a serial `dvc repro` leaves it.

Each stage gets `cores // jobs` threads (OMP_NUM_THREADS and friends), so two stages on a
two-core machine do not fight over one core. The thread count is not a param: it changes
no stage's hash, and plain `dvc repro` remains a valid way to run the same pipeline.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.errors import PipelineError, run_cli
from pipeline.core.params import PARAMS_FILE, read_params
from pipeline.core.paths import project_root

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
STAGE_TIMES = Path(".dvc") / "tmp" / "repro-stage-times.txt"  # each stage's wall time in the last run
MAKE_SAFE = re.compile(r"^[A-Za-z0-9_@.+\-]+$")


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass(frozen=True)
class Plan:
    """The stages to run, in the order make should prefer, each with its upstream stages to wait for."""

    upstream: dict[str, list[str]]

    @property
    def stages(self) -> list[str]:
        return list(self.upstream)

    def chains(self) -> list[list[str]]:
        """The stages grouped into runs of a straight line: a stage joins the chain of its only
        upstream stage when it is that stage's only downstream one (clip_data -> clip_train ->
        clip_prompt), counting only direct edges (clip_prompt also reads clip_data's output, but
        through clip_train it waits for it anyway). Each chain is one make target running its
        stages back to back, in the plan's order of their heads.

        GNU make walks the list of `all` forward: a target whose upstream is still running when
        make passes it waits until make has passed every other ready target, so a long stage
        behind a long upstream (clip_train behind clip_data) would start near the end. Started
        as one target, the chain goes on as soon as its head is done.
        """
        ancestors: dict[str, set[str]] = {}

        def above(name: str) -> set[str]:
            if name not in ancestors:
                ancestors[name] = set(self.upstream[name]).union(*(above(d) for d in self.upstream[name]))
            return ancestors[name]

        # An edge that another path already implies is not a direct one.
        direct = {
            name: [d for d in waits_for if not any(d in above(other) for other in waits_for if other != d)]
            for name, waits_for in self.upstream.items()
        }
        downstream: dict[str, list[str]] = {name: [] for name in self.upstream}
        for name, waits_for in direct.items():
            for dependency in waits_for:
                downstream[dependency].append(name)

        def continues(name: str) -> bool:
            return len(direct[name]) == 1 and downstream[direct[name][0]] == [name]

        chains = []
        for head in (name for name in self.upstream if not continues(name)):
            chain = [head]
            while len(downstream[chain[-1]]) == 1 and continues(downstream[chain[-1]][0]):
                chain.append(downstream[chain[-1]][0])
            chains.append(chain)
        return chains

    def makefile(self, dvc: list[str], force: bool, times: Path | None = None) -> str:
        """One phony target per chain, named after its last stage; the recipe is DVC's own
        single-stage repro of each of its stages in turn. With `times`, each stage that succeeds
        appends `<stage> <start> <end>` (epoch seconds, from `date`) to that file."""
        command = " ".join([*dvc, "--wait-for-lock", "repro", *(["-f"] if force else []), "-s"])
        chains = self.chains()

        def run(stage: str) -> str:
            if times is None:
                return f"{command} {stage}"
            clock = f"$$(date +{date_format()})"
            return f"start={clock} && {command} {stage} && echo {stage} $$start {clock} >> {shlex.quote(str(times))}"

        target = {stage: chain[-1] for chain in chains for stage in chain}
        lines = [
            "# Written by `python -m pipeline.repro`; make schedules, DVC runs and records each stage.",
            ".PHONY: all " + " ".join(chain[-1] for chain in chains),
            "all: " + " ".join(chain[-1] for chain in chains),
            "",
        ]
        for chain in chains:
            waits_for = list(dict.fromkeys(target[d] for stage in chain for d in self.upstream[stage] if target[d] != chain[-1]))
            recipe = " && ".join(run(stage) for stage in chain)
            # `@`: make does not echo the recipe; DVC says "Running stage '<stage>'" itself
            lines += [f"{chain[-1]}: {' '.join(waits_for)}".rstrip(), f"\t@{recipe}", ""]
        return "\n".join(lines)


@functools.cache
def date_format() -> str:
    """GNU date's seconds with nanoseconds; another `date` prints no digits for %N, and whole seconds do then."""
    try:
        nanoseconds = subprocess.run(["date", "+%N"], capture_output=True, text=True).stdout.strip()
    except OSError:
        nanoseconds = ""
    return "%s.%N" if nanoseconds.isdigit() else "%s"


def plan(root: Path, targets: list[str], force: bool) -> Plan:
    """What a serial `dvc repro [targets]` would run, as a graph make can schedule.

    Selected: the targets and everything upstream of them (every stage when no target is
    given), like `dvc repro`. Of those, a stage runs if DVC reports it changed, or if
    anything upstream of it runs. With `force`, every selected stage runs.
    """
    from dvc.exceptions import DvcException

    try:
        return _plan(root, targets, force)
    except DvcException as error:  # a broken dvc.yaml or lock: DVC's own words, on one line
        raise PipelineError(f"dvc: {str(error).strip().splitlines()[0]}") from None


def _plan(root: Path, targets: list[str], force: bool) -> Plan:
    from dvc.repo import Repo, lock_repo
    from dvc.stage import PipelineStage

    # Stage names are relative to the working folder. Under the repository lock, `status` reuses the
    # index the graph was read from: taking the lock itself, it would drop it and parse dvc.yaml again.
    with contextlib.chdir(root), Repo(str(root)) as repo, lock_repo(repo):
        graph = repo.index.graph  # an edge goes from a stage to a stage it depends on
        stages = {stage.addressing: stage for stage in graph.nodes if isinstance(stage, PipelineStage)}
        upstream = {name: [d.addressing for d in graph.successors(stage) if d.addressing in stages] for name, stage in stages.items()}
        unknown = [target for target in targets if target not in stages]
        if unknown:
            raise PipelineError(f"dvc.yaml: no stage named {unknown[0]!r} (stages: `dvc stage list`)")
        selected = _closure(targets, upstream) if targets else set(stages)
        # One status of the whole pipeline: asking per target re-reads dvc.yaml for each.
        changed = set(selected) if force else set(repo.status()) & selected
        seconds = {name: expected_seconds(root, stage) for name, stage in stages.items()}

    downstream: dict[str, list[str]] = {name: [] for name in stages}
    for name, waits_for in upstream.items():
        for dependency in waits_for:
            downstream[dependency].append(name)
    to_run = _closure(sorted(changed), downstream) & selected
    for name in to_run:
        if not MAKE_SAFE.match(name):
            raise PipelineError(f"dvc.yaml: stage name {name!r} has characters make cannot take as a target")
    waits_for = {name: [d for d in upstream[name] if d in to_run] for name in to_run}
    return Plan({name: waits_for[name] for name in longest_path_first(waits_for, seconds)})


def _closure(start: list[str], edges: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(start)
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(edges[name])
    return seen


def longest_path_first(upstream: dict[str, list[str]], seconds: dict[str, float]) -> list[str]:
    """The stages ordered by the longest chain of work that starts with them, longest first.

    make starts ready targets in the order `all` lists them; listing first the stages that
    head the longest remaining chain (their own time plus the longest path through what waits
    for them) keeps both cores busy to the end instead of leaving one long stage alone at the
    tail. Every stage's time is positive, so a stage always ranks above everything downstream
    of it: the order is also a valid order to run them in one at a time.
    """
    downstream: dict[str, list[str]] = {name: [] for name in upstream}
    for name, dependencies in upstream.items():
        for dependency in dependencies:
            downstream[dependency].append(name)
    chain: dict[str, float] = {}

    def length(name: str) -> float:
        if name not in chain:
            chain[name] = max(seconds.get(name, 0.0), 1e-3) + max((length(d) for d in downstream[name]), default=0.0)
        return chain[name]

    return sorted(upstream, key=lambda name: (-length(name), name))


DEFAULT_SECONDS = 30.0  # a stage with no timings yet (data preparation, the report, a new stage)


def expected_seconds(root: Path, stage) -> float:
    """How long the stage's runs trained last time: the `train_seconds` in its timings/ outputs
    (in its metrics files, where results written before timings had their own files hold them)."""
    total = 0.0
    for out in stage.outs:
        path = Path(out.fs_path)
        if path.relative_to(root).parts[:1] not in (("timings",), ("metrics",)):
            continue
        files = sorted(path.rglob("*.json")) if path.is_dir() else [path] if path.is_file() else []
        for file in files:
            try:
                total += _train_seconds(json.loads(file.read_text()))
            except (OSError, ValueError):
                continue  # an unreadable hint only costs scheduling quality
    return total or DEFAULT_SECONDS


def _train_seconds(timings) -> float:
    if isinstance(timings, dict):
        return sum(float(v) if k == "train_seconds" and isinstance(v, (int, float)) else _train_seconds(v) for k, v in timings.items())
    return 0.0


def thread_environment(jobs: int, cores: int) -> dict[str, str]:
    threads = str(max(1, cores // jobs))
    return {name: threads for name in THREAD_VARIABLES}


def print_stage_times(times: Path, longest: int = 8) -> None:
    """The longest stages of the run just ended, by wall time (side by side with the others, so
    slower than alone); every stage's is in `times`."""
    try:
        rows = [line.split() for line in times.read_text().splitlines()]
        spans = sorted(((float(end) - float(start), stage) for stage, start, end in rows), reverse=True)
    except (OSError, ValueError):
        return  # no stage finished, or a `date` without seconds: nothing to say
    listed = ", ".join(f"{stage} {seconds:.0f} s" for seconds, stage in spans[:longest])
    print(f"{len(spans)} stage(s) done; the longest: {listed} (every stage's start and end: {STAGE_TIMES})", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.repro", description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", help="stages to bring up to date with what they need (default: all)")
    parser.add_argument("-j", "--jobs", type=int, default=available_cores(), help="stages at once (default: the cores, %(default)s)")
    parser.add_argument("-f", "--force", action="store_true", help="rerun the selected stages even if up to date")
    parser.add_argument("--dry-run", action="store_true", help="print the makefile and run nothing")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        raise PipelineError(f"--jobs: must be at least 1, got {args.jobs}")

    root = project_root()
    # DVC reads params.yaml first and answers a duplicate key or a YAML slip with a traceback;
    # the project's reader says which line, in one.
    if (root / PARAMS_FILE).exists():
        read_params(root / PARAMS_FILE)
    work = plan(root, args.targets, args.force)
    dvc = [sys.executable, "-m", "dvc"]
    times = root / STAGE_TIMES
    makefile = work.makefile(dvc, args.force, times)
    if args.dry_run:
        print(makefile)
        return 0
    if not work.stages:
        print("Data and pipelines are up to date.")
        return 0
    make = shutil.which("make")
    if make is None:
        raise PipelineError("GNU make is not installed (apt-get install make), or run the stages one at a time with `dvc repro`")

    cores = available_cores()
    # The stage commands say `python`: the interpreter running this command, not whichever comes
    # first on PATH (`.venv/bin/python -m pipeline.repro` without an activated environment).
    interpreter = {"PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    environment = os.environ | interpreter | thread_environment(args.jobs, cores)
    print(
        f"{len(work.stages)} stage(s) to run, {args.jobs} at a time, "
        f"{environment[THREAD_VARIABLES[0]]} thread(s) each: {' '.join(work.stages)}",
        flush=True,
    )
    (root / ".dvc" / "tmp").mkdir(parents=True, exist_ok=True)
    times.unlink(missing_ok=True)
    with tempfile.NamedTemporaryFile("w", prefix="repro-", suffix=".mk", dir=root / ".dvc" / "tmp", delete=False) as handle:
        handle.write(makefile)
    try:
        # make's own messages ("Entering directory", the jobserver's) add nothing here.
        result = subprocess.run([make, "--no-print-directory", "-k", f"-j{args.jobs}", "-f", handle.name, "all"], cwd=root, env=environment)
    finally:
        os.unlink(handle.name)
    print_stage_times(times)
    if result.returncode != 0:
        print("error: some stages failed (their `ERROR:` lines above); the stages that finished are recorded in dvc.lock", file=sys.stderr)
    return result.returncode


if __name__ == "__main__":
    run_cli(lambda: sys.exit(main()))
