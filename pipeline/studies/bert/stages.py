"""BERT sentence classifiers: fine-tune one variant of bert.variants on verbal arithmetic."""

from __future__ import annotations

from pipeline.core.errors import PipelineError, stop_on_sigterm
from pipeline.core.io import require_inputs
from pipeline.core.paths import project_root
from pipeline.studies.arithmetic import PREPARE_STAGE, PREPARED, SPLITS
from pipeline.studies.bert import STUDY, params


def train(*, variant: str) -> None:
    """Stage train_bert@<variant>: outputs/bert/<variant>/, metrics/bert/<variant>.json, plots/bert/<variant>.csv."""
    loaded = params.load()
    config = loaded.bert
    if variant not in config.variants:
        raise PipelineError(
            f"params.yaml: {STUDY.name}.variants.{variant}: no such variant (known: {', '.join(config.variants)})"
        )
    root = project_root()
    data_dir = root / PREPARED
    require_inputs([data_dir / f"{split}.csv" for split in SPLITS], PREPARE_STAGE)

    # Resolve the checkpoint before the heavy imports: a bad name fails in a second, offline.
    from pipeline.studies.bert.checkpoints import resolve

    active = config.checkpoint_sets[config.checkpoint_set]
    checkpoint = resolve(
        config.checkpoint(variant), config.checkpoint_key(variant), active.download, root, config.variants[variant].pretrained
    )

    from pipeline.studies.bert.train import train_variant

    stop_on_sigterm()
    train_variant(variant, loaded, checkpoint, data_dir)


STAGES = {"train": train}
