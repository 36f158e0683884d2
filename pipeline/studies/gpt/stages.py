"""GPT-style (decoder-only) sentence classifiers on verbal arithmetic."""

from __future__ import annotations

from pipeline.core.errors import PipelineError, stop_on_sigterm
from pipeline.core.paths import project_root
from pipeline.studies.gpt import STUDY, params


def train(*, variant: str) -> None:
    """Stage train_gpt@<variant>: outputs/gpt/<variant>/, metrics/gpt/<variant>.json, plots/gpt/<variant>.csv."""
    loaded = params.load()
    config = loaded.gpt
    if variant not in config.variants:
        raise PipelineError(f"params.yaml: {STUDY.name}.variants.{variant}: no such variant (known: {', '.join(config.variants)})")
    root = project_root()

    # Data and checkpoint are checked before the heavy imports: a bad row or name fails in seconds.
    from pipeline.studies.gpt.checkpoints import resolve
    from pipeline.studies.gpt.data import load_splits

    files = {"train": root / loaded.arithmetic.train_file, "test": root / loaded.arithmetic.test_file}
    splits = load_splits(files["train"], files["test"], config.split)
    checkpoint = resolve(config.checkpoint.source, config.checkpoint_key, config.checkpoint.download, root)

    from pipeline.studies.gpt.train import train_variant

    stop_on_sigterm()
    train_variant(variant, loaded, checkpoint, splits, {**files, "val": files["train"]})


STAGES = {"train": train}
