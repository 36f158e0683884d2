"""Files: writing outputs so that a failed stage never leaves half of them behind, keeping
timings out of the metrics files, and checking that a stage's inputs exist."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pipeline.core.errors import PipelineError
from pipeline.core.paths import METRICS_DIR, timings_file


def read_text(path: Path) -> str:
    """A UTF-8 text file; missing or undecodable is a one-line error naming the file."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PipelineError(f"{path}: file not found") from None
    except UnicodeDecodeError as error:
        raise PipelineError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None


def write_json(path: Path, data: Any) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, sort_keys=False) + "\n"
    _atomic_write_text(path, text)


def write_text(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write_text(path, text)


def _atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ------------------------------------------------------------------ results and timings
#
# A metrics file holds results only: DVC declares it a metric, and a wall-clock time
# changes on every run, so it would make `dvc metrics diff` show a difference after a
# rerun of unchanged code. Timings go to the twin file timings/<same path> instead (a
# plain output); MLflow still gets the whole dict.

# "seconds" as a word of a key (train_seconds, seconds_per_epoch, step_seconds_ratio) or a
# rate per second (tokens_per_second); not the ordinal "second" (a second checkpoint).
_TIMING_KEY = re.compile(r"(?:^|_)seconds(?:_|$)|(?:^|_)per_second(?:_|$)")


def is_timing_key(key: str) -> bool:
    return bool(_TIMING_KEY.search(key))


def split_timings(metrics: dict) -> tuple[dict, dict]:
    """(results, timings): the timing keys of `metrics`, nested dicts too, moved to their own dict.

    Both keep the nesting of `metrics`; a nested dict holding only timings leaves no empty
    dict behind in the results. Lists (tables of records) stay whole in the results: DVC
    reads no metric from a list.
    """
    results: dict = {}
    timings: dict = {}
    for key, value in metrics.items():
        if is_timing_key(key):
            timings[key] = value
        elif isinstance(value, dict) and value:
            inner_results, inner_timings = split_timings(value)
            if inner_results:
                results[key] = inner_results
            if inner_timings:
                timings[key] = inner_timings
        else:
            results[key] = value
    return results, timings


def merge_timings(results: dict, timings: dict) -> dict:
    """The inverse of `split_timings`: one dict, for readers that want both."""
    merged = dict(results)
    for key, value in timings.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_timings(merged[key], value)
        else:
            merged[key] = value
    return merged


def timing_keys(metrics: dict, prefix: str = "") -> list[str]:
    """The dotted paths of the timing keys in `metrics` (how DVC names nested metrics)."""
    found = []
    for key, value in metrics.items():
        if is_timing_key(key):
            found.append(f"{prefix}{key}")
        elif isinstance(value, dict):
            found += timing_keys(value, f"{prefix}{key}.")
    return found


def write_metrics(out: StagedOutputs, metrics_file: Path, metrics: dict) -> None:
    """Stage `metrics`: its results to `metrics_file`, its timings to the timings twin.

    The twin is written even when there is no timing (`{}`): dvc.yaml declares it for
    every run of the stage, and the run's lineage hashes it.
    """
    relative = out.relative(metrics_file)
    results, timings = split_timings(metrics)
    write_json(out.path(relative), results)
    write_json(out.path(timings_file(relative)), timings)


def read_metrics(root: Path, metrics_file: Path) -> dict:
    """`metrics_file` (relative to `root`) merged with its timings twin, if there is one:
    everything the run measured, for readers that want a result beside its timing."""
    results = json.loads(read_text(Path(root) / metrics_file))
    twin = Path(root) / timings_file(metrics_file)
    return merge_timings(results, json.loads(read_text(twin)) if twin.exists() else {})


def file_sha256(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


class StagedOutputs:
    """Collects a stage's outputs in a scratch folder and moves them into place together.

    Usage::

        with staged_outputs(root) as out:
            write_metrics(out, "metrics/transformer/h32-small.json", metrics)  # + timings/transformer/h32-small.json
            write_json(out.path("outputs/transformer/h32-small/config.json"), config)
        # only now do the files appear at their real paths

    `clear` lists earlier outputs (files or folders) to delete at commit time, so a
    figure or file the new run no longer writes does not linger. If the block raises,
    nothing is moved or deleted: no mix of old and new outputs. Nor if a JSON file under
    metrics/ holds a timing key (write those with `write_metrics`).
    """

    def __init__(self, root: Path, scratch: Path, clear: list[Path]):
        self.root = root
        self.scratch = scratch
        self.clear = [root / path for path in clear]
        self.targets: list[Path] = []

    def relative(self, target: str | Path) -> Path:
        """`target` relative to the project root (it may be given either way)."""
        target = Path(target)
        return target.relative_to(self.root) if target.is_absolute() else target

    def path(self, target: str | Path) -> Path:
        relative = self.relative(target)
        self.targets.append(self.root / relative)
        staged = self.scratch / relative
        staged.parent.mkdir(parents=True, exist_ok=True)
        return staged

    def commit(self) -> None:
        self._refuse_timings_in_metrics()
        for stale in self.clear:
            remove(stale)
        for target in dict.fromkeys(self.targets):
            staged = self.scratch / target.relative_to(self.root)
            if not staged.exists():
                raise FileNotFoundError(f"stage declared output {target} but did not write it")
            remove(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, target)

    def _refuse_timings_in_metrics(self) -> None:
        """Before anything moves: a timing that reached a metrics file another way than
        `write_metrics` would show up in every `dvc metrics diff`."""
        for target in dict.fromkeys(self.targets):
            relative = target.relative_to(self.root)
            if relative.parts[:1] != METRICS_DIR.parts:
                continue
            for file in _json_files(self.scratch / relative):
                data = json.loads(file.read_text(encoding="utf-8"))
                found = timing_keys(data) if isinstance(data, dict) else []
                if found:
                    raise PipelineError(
                        f"{self.root / file.relative_to(self.scratch)}: timing key(s) {found} in a metrics file; "
                        "write it with pipeline.core.io.write_metrics, which moves them to timings/"
                    )


def _json_files(path: Path) -> list[Path]:
    """`path` if it is a JSON file, the JSON files under it if it is a folder."""
    if path.is_dir():
        return sorted(path.rglob("*.json"))
    return [path] if path.suffix == ".json" and path.is_file() else []


@contextlib.contextmanager
def staged_outputs(root: Path, clear: list[Path] = ()) -> Iterator[StagedOutputs]:
    """Stage new outputs; on success remove `clear` (stale outputs) and move them in."""
    root = Path(root).resolve()
    scratch_parent = root / ".cache" / "staging"
    scratch_parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=scratch_parent))
    try:
        outputs = StagedOutputs(root, scratch, list(clear))
        yield outputs
        outputs.commit()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def remove(path: Path) -> None:
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def require_inputs(paths: Iterable[Path], stage: str) -> None:
    """Fail in one line, naming the first missing file and the stage that writes it."""
    for path in paths:
        if not Path(path).exists():
            raise PipelineError(f"{path}: missing; run `dvc repro {stage}` first")
