"""One matrix entry (cell, length) end to end: the reference run, then the extended grid's seeds.

The reference run follows the published protocol: full-batch Adam (one step per epoch),
every epoch trained and the last weights kept; its held-out set is the test split (the
reference has no validation set), so the loop's validation loss is the test loss there,
logged and written as `test_loss` (beside `test_accuracy`). An
extended run trains on mini-batches, stops early on a validation split, keeps the best
weights and is scored once on its test split.

The shared `fit()` loop runs both. Its loss function (`CountingLoss`) also counts right
answers, so the per-epoch train and held-out accuracies come from the loop's own forward
passes (the train accuracy of an epoch is measured on the batches as they were trained,
like its loss); a callback moves them into the epoch record (`on_evaluate`) and core's
`MlflowEpochLogger` logs them with the epoch's other metrics. Runs take at most a couple of
minutes, so there is no resume file: a killed run starts over (its MLflow run ends KILLED).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from pipeline.core.callbacks import CallbackList, Callbacks, EpochRecord
from pipeline.core.io import staged_outputs, write_metrics
from pipeline.core.params import SharedParams
from pipeline.core.runtime import seed_everything, select_device
from pipeline.core.tracked_run import TrackedRun
from pipeline.core.training import FitConfig, FitResult, fit
from pipeline.studies.add2digits import STUDY, dataset_file, extended_run, length_value, run_name
from pipeline.studies.add2digits.data import Sequences, read_sequences
from pipeline.studies.add2digits.figures import run_figure
from pipeline.studies.add2digits.model import Add2DigitsModel, Batch, CountingLoss, accuracy, encode, save_model
from pipeline.studies.add2digits.params import Add2DigitsParams

HELD_OUT = {"reference": "test", "extended": "val"}  # the split the loop evaluates each epoch


def curve_columns(held_out: str) -> list[str]:
    """The per-epoch curve's columns; `held_out` names the split the loop evaluates (test or val)."""
    return ["epoch", "iterations", "train_loss", f"{held_out}_loss", "train_accuracy", f"{held_out}_accuracy"]


@dataclass(frozen=True)
class RunSpec:
    name: str  # its files' name (`rnn-L5`, `rnn-L5-extended/s0`)
    label: str  # its MLflow run name (`rnn-L5`, `rnn-L5-extended-s0`)
    grid: str  # reference | extended
    cell: str
    length: str
    replicate: int  # the extended seed (0 for the reference): offsets the init and batch-order seed
    lr: float
    epochs: int
    patience: int
    batch_size: int | None  # None: full batch
    data_file: Path
    splits: dict[str, Sequences]  # train, [val,] test


class ShuffledBatches:
    """The training batches of an epoch; the order depends only on (seed, epoch). Full batch: one."""

    def __init__(self, data: Batch, batch_size: int | None, seed: int):
        self.data = data
        self.batch_size = batch_size
        self.seed = seed

    def __call__(self, epoch: int) -> list[Batch]:
        if self.batch_size is None or self.batch_size >= len(self.data):
            return [self.data]
        order = torch.randperm(len(self.data), generator=torch.Generator().manual_seed(self.seed * 1000 + epoch))
        return [Batch(self.data.x[rows], self.data.y[rows]) for rows in order.split(self.batch_size)]


class Accuracies(Callbacks):
    """After each epoch: the accuracies the loss counted, as `train_accuracy` and `<held_out>_accuracy`."""

    def __init__(self, loss: CountingLoss, held_out: str):
        self.loss = loss
        self.held_out = held_out

    def on_evaluate(self, record: EpochRecord) -> None:
        train, held_out = self.loss.take()
        record.extra["train_accuracy"] = train
        record.extra[f"{self.held_out}_accuracy"] = held_out


def curve_frame(history: list[EpochRecord], held_out: str) -> pd.DataFrame:
    """The per-epoch curve `plots/add2digits/<run>.csv`."""
    columns = curve_columns(held_out)
    rows = [
        {"epoch": r.epoch, "iterations": r.iterations, "train_loss": r.train_loss, f"{held_out}_loss": r.val_loss, **r.extra}
        for r in history
    ]
    return pd.DataFrame(rows)[columns]


def run_specs(cell: str, length: str, config: Add2DigitsParams, root: Path) -> list[RunSpec]:
    """The reference run of (cell, length) if `reference.lengths` holds the length, then one extended run per seed."""
    reference = config.reference
    specs = []
    if config.runs_reference(length):
        data_file = dataset_file(length, "reference")
        data = read_sequences(root / data_file)
        specs.append(
            RunSpec(
                name=run_name(cell, length),
                label=run_name(cell, length),
                grid="reference",
                cell=cell,
                length=length,
                replicate=0,
                lr=getattr(reference.lr, cell),
                epochs=reference.epochs,
                patience=reference.epochs,
                batch_size=None,
                data_file=data_file,
                splits={"train": data.take(0, reference.train_examples), "test": data.take(reference.train_examples, len(data))},
            )
        )
    grid = config.extended.active
    for seed in grid.seeds:
        data_file = dataset_file(length, f"extended-s{seed}")
        data = read_sequences(root / data_file)
        train, val = grid.train_examples, grid.train_examples + grid.val_examples
        specs.append(
            RunSpec(
                name=extended_run(cell, length, seed),
                label=extended_run(cell, length, seed).replace("/", "-"),
                grid="extended",
                cell=cell,
                length=length,
                replicate=seed,
                lr=getattr(grid.lr, cell),
                epochs=grid.epochs,
                patience=grid.patience,
                batch_size=grid.batch_size,
                data_file=data_file,
                splits={"train": data.take(0, train), "val": data.take(train, val), "test": data.take(val, len(data))},
            )
        )
    return specs


def train_entry(cell: str, length: str, shared: SharedParams, config: Add2DigitsParams, root: Path) -> None:
    """Stage train_add2digits@<cell>-<length>: every run of the entry, one after the other."""
    device = select_device(shared.device)
    if not config.runs_reference(length):
        write_reference_not_run(cell, length, config, root)
    for spec in run_specs(cell, length, config, root):
        train_run(spec, shared, config, device, root)


def write_reference_not_run(cell: str, length: str, config: Add2DigitsParams, root: Path) -> None:
    """The reference files of an entry whose length `reference.lengths` leaves out: they say so.

    DVC declares one set of outputs for every matrix entry, so the files exist either way;
    the metrics file states why there is no run, its timings twin is empty, and the curve
    has its columns but no epochs.
    """
    paths = STUDY.paths(run_name(cell, length))
    reason = f"not run: {STUDY.name}.reference.lengths is {config.reference.lengths}"
    stale = [paths.output_dir, paths.metrics_file, paths.timings_file, paths.curve_file]
    with staged_outputs(root, clear=[root / path for path in stale]) as out:
        out.path(paths.output_dir).mkdir(parents=True)
        (out.path(paths.output_dir) / "NOT_RUN.txt").write_text(f"The reference protocol at {length}: {reason}.\n")
        write_metrics(out, paths.metrics_file, {"reference_protocol": reason})
        pd.DataFrame(columns=curve_columns("test")).to_csv(out.path(paths.curve_file), index=False)
    print(f"{run_name(cell, length)}: reference protocol {reason}", file=sys.stderr)


def train_run(spec: RunSpec, shared: SharedParams, config: Add2DigitsParams, device: torch.device, root: Path) -> dict:
    """Train one run, write its weights, metrics and curve, log it to MLflow; returns its metrics."""
    seed = shared.seed + spec.replicate
    seed_everything(seed)
    model = Add2DigitsModel(spec.cell, config.model.hidden_size, config.model.num_layers)
    encoded = {split: encode(data) for split, data in spec.splits.items()}
    held_out = HELD_OUT[spec.grid]
    loss = CountingLoss()
    parameters = sum(p.numel() for p in model.parameters())

    with TrackedRun(
        STUDY,
        spec.name,
        stage=STUDY.stage_name(spec.cell, spec.length),
        shared=shared,
        dataset=f"add2digits-{spec.data_file.parent.name}-{spec.data_file.stem}",
        model=f"{spec.cell}-h{config.model.hidden_size}x{config.model.num_layers}",
        extra_tags={"grid": spec.grid, "cell": spec.cell, "length": str(length_value(spec.length))},
        run_name=spec.label,
        description=run_description(spec, config),
    ) as run:
        run.tracker.log_params(
            {
                "cell": spec.cell,
                "length": length_value(spec.length),
                "grid": spec.grid,
                "replicate": spec.replicate,
                "model": config.model.model_dump(),
                "protocol": {
                    "lr": spec.lr,
                    "epochs": spec.epochs,
                    "patience": spec.patience,
                    "batch_size": spec.batch_size or "full",
                    **{f"{k}_examples": len(v) for k, v in spec.splits.items()},
                },
                "seed": seed,
                "device": str(device),
                "parameters": parameters,
                "data_file": str(spec.data_file),
            }
        )
        run.tracker.log_dataset(
            pd.read_csv(root / spec.data_file, dtype=str),
            f"add2digits-{spec.length}-{spec.data_file.stem}",
            str(spec.data_file),
            "+".join(spec.splits),
        )
        result = fit(
            model,
            train_batches=ShuffledBatches(encoded["train"], spec.batch_size, seed),
            val_batches=[encoded[held_out]],
            loss_fn=loss,
            config=FitConfig(epochs=spec.epochs, patience=spec.patience, lr=spec.lr, restore_best=spec.grid == "extended"),
            # The loop's `val_loss` is measured on the held-out split: the test split in the reference.
            callbacks=CallbackList(Accuracies(loss, held_out), run.epoch_logger(rename={"val_loss": f"{held_out}_loss"})),
            device=device,
            description=f"add2digits {spec.label}",
        )
        curve = curve_frame(result.history, held_out)
        metrics = {
            "cell": spec.cell,
            "length": length_value(spec.length),
            "grid": spec.grid,
            "replicate": spec.replicate,
            **{f"{split}_examples": len(data) for split, data in spec.splits.items()},
            **(reference_metrics(curve) if spec.grid == "reference" else extended_metrics(result, model, encoded, device)),
            "epochs_trained": len(result.history),
            "parameters": parameters,
            "train_seconds": round(result.train_seconds, 2),
            "seconds_per_epoch": round(result.train_seconds / len(result.history), 4),
        }

        with run.outputs() as out:
            save_model(out.path(run.paths.output_dir), model, {"grid": spec.grid, "length": length_value(spec.length)})
            write_metrics(out, run.paths.metrics_file, metrics)
            curve.to_csv(out.path(run.paths.curve_file), index=False, float_format="%.6g")

        # At step 0 like every study's summary, leaving out what the epochs logged: one value per (metric, step).
        run.log_summary(metrics, skip=curve_columns(held_out))
        if spec.grid == "reference":  # a seed's curves are in its metrics; drawing costs ~1 s a figure
            run.log_figure(run_figure(curve, held_out, f"{spec.label} ({spec.grid})"), "figures/curves.png")
        held = f"{held_out} accuracy final {curve[f'{held_out}_accuracy'].iloc[-1]:.3f}"
        tested = f", test accuracy {metrics['test_accuracy']:.3f} at epoch {result.best_epoch}" if spec.grid == "extended" else ""
        print(
            f"{spec.label}: {held}{tested}; {len(result.history)} epochs, {metrics['seconds_per_epoch'] * 1000:.0f} ms per epoch",
            file=sys.stderr,
        )
    return metrics


def run_description(spec: RunSpec, config: Add2DigitsParams) -> str:
    """The MLflow run's one-line Description: which protocol, cell, length, data and seed."""
    model = f"{spec.cell.upper()} (hidden {config.model.hidden_size} x {config.model.num_layers} layers)"
    data = f"length {length_value(spec.length)}, {len(spec.splits['train']):,} training examples"
    if spec.grid == "reference":
        return (
            f"Add2Digits reference protocol: {model}, {data}, full-batch Adam for {spec.epochs} epochs, last weights kept; "
            "the held-out split is the test split (`test_loss`, `test_accuracy` per epoch)."
        )
    return (
        f"Add2Digits extended grid, seed {spec.replicate}: {model}, {data}, mini-batches of {spec.batch_size}, early "
        "stopping on the validation split; `kept_*` and `test_accuracy` score the kept (lowest validation loss) weights."
    )


def reference_metrics(curve: pd.DataFrame) -> dict:
    """Final and best test accuracy, and the first epoch whose training batch was all right."""
    best = curve.loc[curve["test_accuracy"].idxmax()]  # the first epoch reaching the maximum
    perfect = curve.loc[curve["train_accuracy"] >= 1.0, "epoch"]
    return {
        "final_test_accuracy": float(curve["test_accuracy"].iloc[-1]),
        "best_test_accuracy": float(best["test_accuracy"]),
        "best_test_epoch": int(best["epoch"]),
        "final_train_accuracy": float(curve["train_accuracy"].iloc[-1]),
        "final_train_loss": float(curve["train_loss"].iloc[-1]),
        "final_test_loss": float(curve["test_loss"].iloc[-1]),
        "first_epoch_train_accuracy_1": int(perfect.iloc[0]) if len(perfect) else None,
    }


def extended_metrics(result: FitResult, model: Add2DigitsModel, encoded: dict[str, Batch], device) -> dict:
    """The kept (lowest validation loss) weights scored on every split; the test split only here."""
    return {
        "best_epoch": result.best_epoch,
        "stopped_early": result.stopped_early,
        # Not `train_accuracy`/`val_accuracy`: those name the per-epoch curves.
        "kept_train_accuracy": accuracy(model, encoded["train"], device),
        "kept_val_accuracy": accuracy(model, encoded["val"], device),
        "test_accuracy": accuracy(model, encoded["test"], device),
    }
