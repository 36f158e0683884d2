"""Files: writing outputs so that a failed stage never leaves half of them behind, and
checking that a stage's inputs exist."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator

from pipeline.core.errors import PipelineError


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


def file_sha256(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


class StagedOutputs:
    """Collects a stage's outputs in a scratch folder and moves them into place together.

    Usage::

        with staged_outputs() as out:
            write_json(out.path("metrics/transformer/h32-small.json"), metrics)
        # only now do the files appear at their real paths

    `clear` lists earlier outputs (files or folders) to delete at commit time, so a
    figure or file the new run no longer writes does not linger. If the block raises,
    nothing is moved or deleted: no mix of old and new outputs.
    """

    def __init__(self, root: Path, scratch: Path, clear: list[Path]):
        self.root = root
        self.scratch = scratch
        self.clear = [root / path for path in clear]
        self.targets: list[Path] = []

    def path(self, target: str | Path) -> Path:
        target = Path(target)
        relative = target.relative_to(self.root) if target.is_absolute() else target
        self.targets.append(self.root / relative)
        staged = self.scratch / relative
        staged.parent.mkdir(parents=True, exist_ok=True)
        return staged

    def commit(self) -> None:
        for stale in self.clear:
            remove(stale)
        for target in dict.fromkeys(self.targets):
            staged = self.scratch / target.relative_to(self.root)
            if not staged.exists():
                raise FileNotFoundError(f"stage declared output {target} but did not write it")
            remove(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, target)


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
