"""DVC stage `prepare_arithmetic`: validate the verbal-arithmetic CSVs, split train/validation.

Writes `data/prepared/arithmetic/{train,val,test}.csv` and label counts to
`metrics/data/arithmetic.json`.
"""

from __future__ import annotations

import sys

from pipeline.data.arithmetic import check_disjoint, label_counts, read_examples, split_examples, write_examples
from pipeline.errors import run_cli
from pipeline.io import staged_outputs, write_json
from pipeline.params import load_params
from pipeline.paths import ARITHMETIC_METRICS, PREPARED_ARITHMETIC, project_root


def main() -> None:
    config = load_params().bert.data
    root = project_root()
    labelled = read_examples(root / config.train_file)  # fail before writing anything
    test = read_examples(root / config.test_file)
    check_disjoint(labelled, test, root / config.test_file)
    train, val = split_examples(labelled, config.val_fraction, config.split_seed)

    splits = {"train": train, "val": val, "test": test}
    with staged_outputs(root, clear=[PREPARED_ARITHMETIC, ARITHMETIC_METRICS]) as out:
        for split, examples in splits.items():
            write_examples(out.path(PREPARED_ARITHMETIC / f"{split}.csv"), examples)
        write_json(out.path(ARITHMETIC_METRICS), {split: {"rows": len(ex), **label_counts(ex)} for split, ex in splits.items()})
    counts = ", ".join(f"{len(ex)} {split}" for split, ex in splits.items())
    print(f"verbal arithmetic: {counts} (labels checked against the sign of every expression)", file=sys.stderr)


if __name__ == "__main__":
    run_cli(main)
