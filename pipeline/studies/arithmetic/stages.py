"""Verbal arithmetic data: validate the shipped CSVs, split train/validation, keep test held out."""

from __future__ import annotations

import sys

from pipeline.core.io import staged_outputs, write_json
from pipeline.core.paths import project_root
from pipeline.datasets.arithmetic import PREPARED, STATISTICS, params
from pipeline.datasets.arithmetic.data import check_disjoint, label_counts, read_examples, split_examples, write_examples


def prepare() -> None:
    """Stage prepare_arithmetic: data/prepared/arithmetic/{train,val,test}.csv and metrics/data/arithmetic.json."""
    config = params.load()
    root = project_root()
    labelled = read_examples(root / config.train_file)  # fail before writing anything
    test = read_examples(root / config.test_file)
    check_disjoint(labelled, test, root / config.test_file)
    train, val = split_examples(labelled, config.val_fraction, config.split_seed)

    splits = {"train": train, "val": val, "test": test}
    with staged_outputs(root, clear=[root / PREPARED, root / STATISTICS]) as out:
        for split, examples in splits.items():
            write_examples(out.path(PREPARED / f"{split}.csv"), examples)
        write_json(out.path(STATISTICS), {split: {"rows": len(ex), **label_counts(ex)} for split, ex in splits.items()})
    counts = ", ".join(f"{len(ex)} {split}" for split, ex in splits.items())
    print(f"verbal arithmetic: {counts} (labels checked against the sign of every expression)", file=sys.stderr)


STAGES = {"prepare": prepare}
