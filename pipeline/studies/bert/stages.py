"""BERT sentence classifiers: fine-tune one variant of bert.variants on verbal arithmetic."""

from __future__ import annotations

from pipeline.core.errors import stop_on_sigterm
from pipeline.core.io import require_inputs
from pipeline.core.params import require_known, section_checks
from pipeline.core.paths import project_root
from pipeline.datasets.arithmetic import PREPARE_STAGE, PREPARED, SPLITS
from pipeline.datasets.arithmetic.data import read_examples
from pipeline.studies.bert import STUDY, params


def train(*, variant: str) -> None:
    """Stage train_bert@<variant>: outputs/bert/<variant>/, metrics/bert/<variant>.json, plots/bert/<variant>.csv."""
    loaded = params.load()
    config = loaded.config
    with section_checks():
        require_known(f"{STUDY.name}.variants", variant, config.variants, "variant")
    root = project_root()
    split = config.variants[variant].split
    if split is None:  # the arithmetic study's prepared split
        data_dir = root / PREPARED
        files = {name: data_dir / f"{name}.csv" for name in SPLITS}
        require_inputs(list(files.values()), PREPARE_STAGE)
        splits = {name: read_examples(path) for name, path in files.items()}
    else:  # its own split of the shipped train CSV (a bad row fails here, before the heavy imports)
        from pipeline.classification.data import load_splits

        files = {"train": root / loaded.data.train_file, "test": root / loaded.data.test_file}
        splits = load_splits(files["train"], files["test"], split, f"params.yaml: {STUDY.name}.variants.{variant}.split")
        files["val"] = files["train"]

    # Resolve the checkpoint before the heavy imports: a bad name fails in a second, offline.
    from pipeline.studies.bert.checkpoints import resolve

    active = config.checkpoint_sets[config.checkpoint_set]
    checkpoint = resolve(
        config.checkpoint(variant), config.checkpoint_key(variant), active.download, root, config.variants[variant].pretrained
    )

    from pipeline.studies.bert.train import train_variant

    stop_on_sigterm()
    train_variant(variant, loaded, checkpoint, splits, files)


STAGES = {"train": train}
