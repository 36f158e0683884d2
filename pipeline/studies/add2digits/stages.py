"""Add2Digits: the seeded data sets, then RNN and LSTM per sequence length (reference and extended grid).

python -m stages add2digits prepare             # DVC stage prepare_add2digits
python -m stages add2digits train --run rnn-L5  # DVC stage train_add2digits@rnn-L5
python -m stages add2digits measure             # DVC stage measure_add2digits (input gradients, HW3-1.1)
"""

from __future__ import annotations

import sys

from pipeline.core.errors import stop_on_sigterm
from pipeline.core.io import require_inputs, staged_outputs, write_json
from pipeline.core.params import section_checks
from pipeline.core.paths import project_root
from pipeline.studies.add2digits import (
    PREPARE_STAGE,
    PREPARED,
    STATISTICS,
    STUDY,
    dataset_file,
    extended_run,
    length_value,
    params,
    run_name,
)
from pipeline.studies.add2digits.data import EXTENDED, NUM_CLASSES, REFERENCE, generate, rng_for, statistics, write_sequences


def prepare() -> None:
    """Stage prepare_add2digits: data/prepared/add2digits/L<n>/*.csv and metrics/add2digits/data.json."""
    config = params.load().config
    root = project_root()
    reference, extended = config.reference, config.extended
    grid = extended.active
    stats: dict = {"label_distribution_majority": expected_majority_baseline()}
    with staged_outputs(root, clear=[root / PREPARED, root / STATISTICS]) as out:
        for length in config.matrix.length:
            n = length_value(length)
            data = generate(reference.examples, n, rng_for(reference.data_seed, n, REFERENCE))
            write_sequences(out.path(dataset_file(length, "reference")), data)
            stats[f"{length}/reference"] = statistics(
                {"train": data.take(0, reference.train_examples), "test": data.take(reference.train_examples, len(data))}
            )
            for seed in grid.seeds:
                data = generate(grid.examples, n, rng_for(extended.data_seed, n, EXTENDED, seed))
                write_sequences(out.path(dataset_file(length, f"extended-s{seed}")), data)
                train, val = grid.train_examples, grid.train_examples + grid.val_examples
                stats[f"{length}/extended-s{seed}"] = statistics(
                    {"train": data.take(0, train), "val": data.take(train, val), "test": data.take(val, len(data))}
                )
        write_json(out.path(STATISTICS), stats)
    sets = len(config.matrix.length) * (1 + len(grid.seeds))
    print(f"add2digits: {sets} data sets for lengths {', '.join(config.matrix.length)} in {PREPARED}", file=sys.stderr)


def expected_majority_baseline() -> float:
    """The commonest label's probability under uniform digits: P(a + b = 9) = 10/100."""
    counts = [sum(1 for a in range(10) for b in range(10) if a + b == k) for k in range(NUM_CLASSES)]
    return max(counts) / 100


def train(*, run: str) -> None:
    """Stage train_add2digits@<cell>-L<length>: the reference run and the extended grid's seeds."""
    setup = params.load()
    shared, config = setup.shared, setup.config
    with section_checks():
        cell, length = config.check_run(run)
    root = project_root()
    files = [dataset_file(length, "reference")] + [dataset_file(length, f"extended-s{s}") for s in config.extended.active.seeds]
    require_inputs([root / f for f in files], PREPARE_STAGE)
    from pipeline.studies.add2digits.train import train_entry  # torch, mlflow: only once the params are good

    stop_on_sigterm()
    train_entry(cell, length, shared, config, root)


def measure() -> None:
    """Stage measure_add2digits: the gradient of the loss with respect to each input of every trained model."""
    setup = params.load()
    shared, config = setup.shared, setup.config
    root = project_root()
    for cell in config.matrix.cell:
        for length in config.matrix.length:
            runs = [run_name(cell, length)] if config.runs_reference(length) else []
            runs += [extended_run(cell, length, seed) for seed in config.extended.active.seeds]
            require_inputs([root / STUDY.paths(run).output_dir for run in runs], STUDY.stage_name(cell, length))
    from pipeline.studies.add2digits.gradients import measure_gradients  # torch, mlflow: only once the inputs are there

    stop_on_sigterm()
    measure_gradients(shared, config, root)


STAGES = {"prepare": prepare, "train": train, "measure": measure}
