"""DVC stage `prepare_piglatin`: validate the raw pairs, split them, write statistics."""

from __future__ import annotations

import sys

from pipeline.data.piglatin import dataset_statistics, read_pairs, split_pairs, write_pairs
from pipeline.errors import run_cli
from pipeline.io import staged_outputs, write_json
from pipeline.params import load_params
from pipeline.paths import DATA_METRICS, PREPARED_PIGLATIN, project_root
from pipeline.vocab import VOCAB


def main() -> None:
    params = load_params()
    config = params.data.piglatin
    root = project_root()
    datasets = {name: read_pairs(root / file) for name, file in config.files.items()}  # fail before writing

    with staged_outputs(root, clear=[PREPARED_PIGLATIN, DATA_METRICS]) as out:
        write_json(out.path(PREPARED_PIGLATIN / "vocab.json"), {"tokens": VOCAB.tokens})
        summary = {}
        for name, pairs in datasets.items():
            train, val = split_pairs(pairs, config.val_fraction, config.split_seed)
            write_pairs(out.path(PREPARED_PIGLATIN / name / "train.txt"), train)
            write_pairs(out.path(PREPARED_PIGLATIN / name / "val.txt"), val)
            stats = dataset_statistics(pairs, train, val)
            write_json(out.path(PREPARED_PIGLATIN / name / "stats.json"), stats)
            summary[name] = {
                key: stats[key] for key in ("pairs", "train_pairs", "val_pairs", "rule_violations", "train_length_buckets")
            } | {"max_source_length": stats["source_length"]["max"], "max_target_length": stats["target_length"]["max"]}
            broken = ", ".join(stats["rule_violation_pairs"]) or "none"
            print(
                f"{name}: {stats['pairs']} pairs -> {len(train)} train / {len(val)} val; "
                f"{stats['rule_violations']} break the Pig Latin rule ({broken})",
                file=sys.stderr,
            )
        write_json(out.path(DATA_METRICS), summary)


if __name__ == "__main__":
    run_cli(main)
