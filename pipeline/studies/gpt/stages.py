"""GPT-style (decoder-only) sentence classifiers on verbal arithmetic."""

from __future__ import annotations

from pipeline.core.errors import stop_on_sigterm
from pipeline.core.params import require_known, section_checks
from pipeline.core.paths import project_root
from pipeline.studies.gpt import STUDY, params


def train(*, variant: str) -> None:
    """Stage train_gpt@<variant>: outputs/gpt/<variant>/, metrics/gpt/<variant>.json, plots/gpt/<variant>.csv."""
    loaded = params.load()
    config = loaded.config
    with section_checks():
        require_known(f"{STUDY.name}.variants", variant, config.variants, "variant")
    root = project_root()

    # Data and checkpoint are checked before the heavy imports: a bad row or name fails in seconds.
    from pipeline.classification.data import load_splits
    from pipeline.studies.gpt.checkpoints import resolve

    files = {"train": root / loaded.data.train_file, "test": root / loaded.data.test_file}
    splits = load_splits(files["train"], files["test"], config.split, f"params.yaml: {STUDY.name}.split")
    checkpoint = resolve(config.checkpoint.source, config.checkpoint_key, config.checkpoint.download, root)

    from pipeline.studies.gpt.train import train_variant

    stop_on_sigterm()
    train_variant(variant, loaded, checkpoint, splits, {**files, "val": files["train"]})


def generate() -> None:
    """Stage generate_gpt: metrics/gpt/generation.json, the pretrained causal LM's greedy continuations of gpt.generation.prompts."""
    loaded = params.load()
    config = loaded.config
    from pipeline.studies.gpt.checkpoints import resolve

    checkpoint = resolve(config.checkpoint.source, config.checkpoint_key, config.checkpoint.download, project_root())

    from pipeline.studies.gpt.generate import generate_continuations

    stop_on_sigterm()
    generate_continuations(loaded, checkpoint)


STAGES = {"train": train, "generate": generate}
