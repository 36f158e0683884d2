"""Training throughput of translators on this machine: what the studies' benchmark scripts share.

Each translator study's `benchmark.py` (transformer, recurrent, isoflop) reads the same
options (`parse_args`, `chosen`), times the real training loop on the real prepared data
after one untimed warm-up epoch (`time_training`) and prints one line per run, then a
table (`print_table`). They print figures and assert nothing. Heavy imports (torch) wait
until the options and params are known to be good, so `--help` and a typo answer at once.
"""

from __future__ import annotations

import argparse
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.core.errors import PipelineError
from pipeline.core.io import read_metrics
from pipeline.core.paths import Study


def parse_args(prog: str, doc: str, option: str, option_help: str, per: str = "run") -> argparse.Namespace:
    """`--epochs N`, the timed epochs per `per`, and `--<option> NAME ...`, what to time; `doc`'s first line describes it."""
    parser = argparse.ArgumentParser(prog=prog, description=doc.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2, choices=range(1, 101), metavar="N", help=f"timed epochs per {per} (1-100)")
    parser.add_argument(f"--{option}", nargs="*", help=option_help)
    return parser.parse_args()


def chosen(asked: Sequence[str] | None, default: Sequence[str], known: Collection[str], *, option: str, noun: str, key: str) -> list[str]:
    """The names `asked` for with `option` (none: `default`), each a `noun` of `known`, the params at `key`."""
    names = list(asked or default)
    for name in names:
        if name not in known:
            raise PipelineError(f"{option}: no {noun} {name!r} in {key}")
    return names


@dataclass(frozen=True)
class Timing:
    """`epochs` timed training epochs after one untimed warm-up: `history` holds them all, the warm-up first;
    then one timed pass over the validation set, as every epoch of a run ends with."""

    history: list  # the EpochRecord of each epoch
    epochs: int
    validation_seconds: float  # one validation pass

    @property
    def seconds(self) -> float:
        return sum(record.seconds for record in self.history[1:])

    @property
    def seconds_per_epoch(self) -> float:
        return self.seconds / self.epochs

    @property
    def tokens(self) -> int:
        """Target tokens trained on in the timed epochs."""
        return self.history[-1].tokens - self.history[0].tokens

    def counted(self, key: str) -> float:
        """How much a cumulative count that callbacks keep (`cumulative_flops`, ...) grew in the timed epochs."""
        return self.history[-1].extra[key] - self.history[0].extra[key]

    def figures(self, budget: int) -> dict[str, Any]:
        """Target tokens/s, seconds per epoch (the training steps, then with the validation pass) and the
        projected training time of `budget` epochs (a run's full budget; the steps only, like the issue's yardstick)."""
        return {
            "tokens/s": round(self.tokens / self.seconds),
            "s/epoch": round(self.seconds_per_epoch, 3),
            "s/epoch with val": round(self.seconds_per_epoch + self.validation_seconds, 3),
            "epochs": budget,
            "projected train s": round(self.seconds_per_epoch * budget, 1),
        }


def time_training(architecture, run, data, seed: int, epochs: int, device, name: str, callbacks=None) -> Timing:
    """Train a fresh `architecture` model with `run`'s settings on `data`'s training pairs with the real loop
    (`core.training.fit`, no validation): one untimed warm-up epoch, then `epochs` timed ones; then
    time one pass over the validation pairs, batched as the run batches them.

    The model and the batch order are seeded with `seed`, as in the run itself; `callbacks`
    count more per epoch (the IsoFLOP grid's FLOP counter).
    """
    import time

    import torch

    from pipeline.core.training import FitConfig, evaluate_loss, fit
    from pipeline.translators.batching import LengthBucketBatcher
    from pipeline.translators.pairs import read_pairs
    from pipeline.translators.vocab import VOCAB_FILE, Vocabulary

    data.check()
    vocab = Vocabulary.load(data.folder / VOCAB_FILE)
    buckets = LengthBucketBatcher(read_pairs(data.folder / "train.txt"), vocab, run.batch_size, seed=seed)
    torch.manual_seed(seed)
    model = architecture.build(len(vocab), run)

    def batches(epoch: int) -> list:
        return [architecture.as_batch(batch, vocab) for batch in buckets.batches(epoch)]

    config = FitConfig(epochs=epochs + 1, patience=epochs + 1, lr=run.lr, lr_decay=run.lr_decay)
    result = fit(model, batches, [], architecture.loss, config, callbacks=callbacks, device=device, description=name)
    val_buckets = LengthBucketBatcher(read_pairs(data.folder / "val.txt"), vocab, run.batch_size, seed=seed, shuffle=False)
    val_batches = [architecture.as_batch(batch, vocab) for batch in val_buckets.batches()]
    started = time.perf_counter()
    evaluate_loss(model, val_batches, architecture.loss, torch.device(device))
    return Timing(result.history, epochs, time.perf_counter() - started)


def last_repro(root: Path, study: Study, name: str) -> dict[str, Any]:
    """The metrics of run `name` from the last `dvc repro` ({} if none; its train_seconds are in the timings twin)."""
    measured = study.paths(name).metrics_file
    return read_metrics(root, measured) if (root / measured).exists() else {}


def repro_breakdown(name: str, timing: Timing, full_run: dict[str, Any]) -> dict[str, Any] | None:
    """Where run `name`'s time went in the last `dvc repro` (its `time_breakdown`, see
    `translators.train.time_breakdown`) beside this benchmark's projection of its training steps
    over the epochs it trained: `whole / projected` is what the run costs beyond its bare training steps.
    None when the last repro recorded no breakdown (it predates it, or never ran)."""
    breakdown = full_run.get("time_breakdown")
    if not breakdown or not full_run.get("epochs_trained"):
        return None
    projected = timing.seconds_per_epoch * full_run["epochs_trained"]
    whole = sum(breakdown.values())
    return (
        {"run": name, "projected s": round(projected, 1)}
        | {phase.removesuffix("_seconds"): seconds for phase, seconds in breakdown.items()}
        | {"whole s": round(whole, 1), "whole / projected": round(whole / projected, 2)}
    )


def print_breakdown(rows: list[dict[str, Any] | None]) -> None:
    """The last repro's time breakdown of the runs that have one, after the throughput table."""
    found = [row for row in rows if row is not None]
    if not found:
        print("\nno time breakdown in the last dvc repro's timings/ (rerun the stages to record one)")
        return
    print_table(
        found,
        "where each run's time went in the last dvc repro (seconds; startup: interpreter, imports, params; "
        "setup: data, model, MLflow run; step/validation/resume/epoch_bookkeeping: the training loop; "
        "evaluation: word accuracy and samples), against this benchmark's projection of the training steps alone over the same epochs",
    )


def print_table(rows: list[dict[str, Any]], header: str) -> pd.DataFrame:
    """After the lines printed per run: an empty line, `header` and the table of `rows`."""
    table = pd.DataFrame(rows)
    print()
    print(header)
    print(table.to_string(index=False))
    return table
