"""Pig Latin data: validate the raw pairs, split them, write vocabularies and statistics."""

from __future__ import annotations

import sys

from pipeline.core.io import staged_outputs, write_json
from pipeline.core.params import section_checks
from pipeline.core.paths import project_root
from pipeline.datasets.piglatin import PREPARED, STATISTICS, params, prepared_dir
from pipeline.datasets.piglatin.data import dataset_statistics, read_pairs, split_pairs, vocabulary
from pipeline.translators.pairs import write_pairs
from pipeline.translators.vocab import VOCAB_FILE


def prepare() -> None:
    """Stage prepare_piglatin: data/prepared/piglatin/<dataset>/ and metrics/data/piglatin.json."""
    config = params.load()
    root = project_root()
    datasets = {name: read_pairs(root / file) for name, file in config.files.items()}  # fail before writing
    with section_checks():  # the split sizes depend on the data: checked here, still before writing
        for name, pairs in datasets.items():
            config.check_split(name, len(pairs))

    with staged_outputs(root, clear=[root / PREPARED, root / STATISTICS]) as out:
        summary = {}
        for name, pairs in datasets.items():
            folder = prepared_dir(name)
            train, val = split_pairs(pairs, config.val_fraction, config.split_seed)
            write_pairs(out.path(folder / "train.txt"), train)
            write_pairs(out.path(folder / "val.txt"), val)
            vocabulary().save(out.path(folder / VOCAB_FILE))
            stats = dataset_statistics(pairs, train, val)
            write_json(out.path(folder / "stats.json"), stats)
            summary[name] = {
                key: stats[key] for key in ("pairs", "train_pairs", "val_pairs", "rule_violations", "train_length_buckets")
            } | {"max_source_length": stats["source_length"]["max"], "max_target_length": stats["target_length"]["max"]}
            broken = ", ".join(stats["rule_violation_pairs"]) or "none"
            print(
                f"{name}: {stats['pairs']} pairs -> {len(train)} train / {len(val)} val; "
                f"{stats['rule_violations']} break the Pig Latin rule ({broken})",
                file=sys.stderr,
            )
        write_json(out.path(STATISTICS), summary)


STAGES = {"prepare": prepare}
