"""Add2Digits: RNN versus LSTM over sequence length (a sister course's homework).

A sequence of random digits 0-9 holds exactly one marker -1 (never in the last two
positions); the label is the digit right after the marker plus the last digit (a class in
0..18). Stage `prepare_add2digits` draws the seeded data sets, one per length for the
reference experiment and one per (length, seed) for the extended grid, into
`data/prepared/add2digits/L<length>/`, with their class histograms and majority-class
baselines in `metrics/add2digits/data.json`. Each entry of the matrix (cell x length) is
one DVC stage `train_add2digits@<cell>-L<length>`: the reference run (full-batch Adam, every
epoch trained; `outputs|metrics|plots/add2digits/<cell>-L<length>`) when `reference.lengths`
holds the length (otherwise those files say it was not run), and the extended grid's seeds
(more data, mini-batches, early stopping on a validation split;
`.../<cell>-L<length>-extended/s<seed>`), each one MLflow run in experiment `add2digits`.
Stage `measure_add2digits` then measures, on every trained model, the gradient of the loss
with respect to each input by its distance from the end (`gradients`, HW3-1.1; one MLflow
run `input-gradients`).

Modules: `params` (the section's schema), `data` (the generator, the files), `model`,
`train` (one matrix entry end to end), `gradients` (the input gradients), `figures`, `stages`,
`report` and `answers` (the homework's questions 1.1-1.3).
"""

from __future__ import annotations

from pathlib import Path

from pipeline.core import glossary
from pipeline.core.paths import Study

STUDY = Study(
    "add2digits",
    experiment="add2digits",
    description="Add2Digits (the sister course's homework): a digit sequence holds one marker -1 and the label is the "
    "digit after it plus the last digit; `torch.nn.RNN` versus `torch.nn.LSTM` over sequence length, in the reference "
    "protocol (tag `grid` = reference: 1,000 examples, full-batch Adam, no validation split) and an extended grid "
    "(`grid` = extended: more data, mini-batches, early stopping, several seeds).",
    metrics=glossary.fit_loop("sequences")
    | {
        "test_loss": "reference runs, per epoch: the loss on the test split, the protocol's only held-out set "
        "(extended runs log `val_loss` on their validation split instead)",
        "test_accuracy": "reference runs: per epoch, on the test split; extended runs: once, the kept weights on the test split",
        "train_accuracy": "per epoch, on the training batches as they were trained (full batch: before the epoch's step)",
        "first_epoch_train_accuracy_1": "reference runs: the first epoch whose training accuracy reached 1.0 (absent if none did)",
        "best_test_accuracy": "reference runs: the highest per-epoch `test_accuracy`, first reached at epoch "
        "`best_test_epoch` (the protocol keeps the last weights, not these)",
        "best_test_epoch": "see `best_test_accuracy`",
        "best_epoch": "extended runs: the epoch of lowest `val_loss`, whose weights are kept",
        "kept_*": "extended runs: the kept weights (epoch `best_epoch`) scored on the training (`kept_train_accuracy`) "
        "and validation (`kept_val_accuracy`) splits",
        "replicate": "the extended grid's seed (0 in the reference): offsets the data, initialisation and batch-order seed",
        "first_over_last.*": "run `input-gradients` (HW3-1.1): `first_over_last.<model>.<trained|initial>` is the mean norm "
        "of the loss's gradient with respect to the first input over that of the last input (test split), for a model's "
        "trained or initial weights",
        "gradient_norm*": "run `input-gradients`, its table: the norm of d loss / d x_t averaged over the test examples "
        "(`gradient_norm` the mean, `gradient_norm_median` the median), by `distance` = T-1-t from the end",
        "distance": "run `input-gradients`: how many steps before the last input the input sits (0: the last digit)",
        "model": "run `input-gradients`: the training run whose weights were measured (`rnn-L30`, `lstm-L5-extended-s1`)",
        "cell": "run `input-gradients`: rnn or lstm",
        "grid": "reference (the homework's protocol) or extended (tag of every training run too)",
        "weights": "run `input-gradients`: `trained` (the run's kept weights) or `initial` (its initialisation, same seed)",
        "models": "run `input-gradients`: how many trained models it measured",
    },
)
PREPARE_STAGE = "prepare_add2digits"
MEASURE_STAGE = "measure_add2digits"  # the input gradients of every trained model (HW3-1.1)
GRADIENTS_RUN = "input-gradients"  # its MLflow run and files: metrics|timings/add2digits/input-gradients.json, plots/...csv
PREPARED = Path("data/prepared/add2digits")  # L<length>/reference.csv, L<length>/extended-s<seed>.csv
STATISTICS = Path("metrics/add2digits/data.json")  # per data set: rows, class histogram, majority baseline
CELLS = ("rnn", "lstm")


def run_name(cell: str, length: str) -> str:
    """The reference run of one matrix entry, e.g. `rnn-L5` (also its files' name)."""
    return f"{cell}-{length}"


def extended_run(cell: str, length: str, seed: int) -> str:
    """An extended-grid run: its files live in `<cell>-L<length>-extended/s<seed>.*`."""
    return f"{cell}-{length}-extended/s{seed}"


def length_value(length: str) -> int:
    """`L30` -> 30 (the matrix names lengths so that stage names read `rnn-L30`)."""
    return int(length.removeprefix("L"))


def dataset_file(length: str, kind: str) -> Path:
    """`reference` or `extended-s<seed>`: the prepared CSV of one data set."""
    return PREPARED / length / f"{kind}.csv"
