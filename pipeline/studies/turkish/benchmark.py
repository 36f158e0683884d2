"""Time per batch against sequence length, for trained runs: stepping through time or not (homework 3.2).

Stage `benchmark_turkish` (`python -m stages turkish benchmark`). For each length L of
`turkish.benchmark.lengths`, random batches of sentence pairs whose sources and targets
are both L tokens ([CLS] ... [SEP], no padding) go through each run of
`turkish.benchmark.runs`, loaded from `outputs/turkish/<run>/`, at the run's own batch size:

- `train`: one training step as the run trains (forward with the run's teacher-forcing
  draw, cross-entropy, backward, clipping, Adam). The recurrent decoder computes the L-1
  target positions one after another; the Transformer's, fully teacher forced, in one pass.
- `decode`: free-running decoding of L-1 tokens without gradients (each step reads its own
  guess), step by step for both; the Transformer reruns its decoder over the whole prefix.

Each is timed over `batches` batches after one untimed warm-up, on `threads` CPU threads,
the runs taking turns so that a busy machine slows them alike. Kept per (run, mode, length): the median and the
spread (min, max) of the batch times, and for `train` the median times the batches of one
training epoch of the run (`epoch_seconds`). Written to MLflow run `benchmark` (that table,
a figure, every number at step 0) and, flat (`summary`), to `metrics/turkish/benchmark.json`
(the parameter counts) and its timings twin `timings/turkish/benchmark.json` (every time): being
all wall-clock times, none of it is a DVC plot or metric, which would change on every rerun.
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from pathlib import Path

import pandas as pd
import torch

from pipeline.core.io import write_metrics
from pipeline.core.runtime import select_device
from pipeline.core.tracked_run import TrackedRun
from pipeline.core.training import adam
from pipeline.studies.turkish import STUDY
from pipeline.studies.turkish.figures import timing_curves
from pipeline.studies.turkish.model import PairBatch, count_parameters, load, sequence_loss
from pipeline.studies.turkish.params import BENCHMARK_LINEAGE, BENCHMARK_RUN, Setup

STAGE = "benchmark_turkish"
MODES = ("train", "decode")
COLUMNS = ["run", "cell", "parameters", "mode", "length", "batch_size", "seconds", "min_seconds", "max_seconds", "epoch_seconds"]
FIRST_WORD_ID = 5  # after the five special tokens ([PAD], [UNK], [CLS], [SEP], [MASK])


def random_batch(config, length: int, batch_size: int, teacher_forcing: float, generator: torch.Generator) -> PairBatch:
    """`batch_size` pairs of random words, source and target both `length` tokens with [CLS] and [SEP]."""

    def sentences(vocab: int) -> torch.Tensor:
        words = torch.randint(FIRST_WORD_ID, vocab, (batch_size, length - 2), generator=generator)  # (B, L-2)
        start = torch.full((batch_size, 1), config.start_id)
        end = torch.full((batch_size, 1), config.end_id)
        return torch.cat([start, words, end], dim=1)  # (B, L)

    forcing = torch.rand(length - 1, generator=generator) < teacher_forcing  # (L-1,), drawn as TrainBatches draws it
    return PairBatch(sentences(config.source_vocab), torch.full((batch_size,), length), sentences(config.target_vocab), forcing)


class Timer:
    """One run's two timed operations on a batch, in seconds (on a GPU, until its queued work is done)."""

    def __init__(self, model: torch.nn.Module, lr: float, grad_clip: float, device: torch.device):
        self.model = model
        self.optimizer = adam(model, lr)  # the training loop's own optimizer
        self.grad_clip = grad_clip
        self.synchronize = torch.cuda.synchronize if device.type == "cuda" else lambda: None

    def train(self, batch: PairBatch) -> float:
        self.model.train()
        self.synchronize()
        started = time.perf_counter()
        loss, _ = sequence_loss(self.model, batch)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
        self.optimizer.step()
        self.synchronize()
        return time.perf_counter() - started

    @torch.no_grad()
    def decode(self, batch: PairBatch) -> float:
        self.model.eval()
        free_running = torch.zeros_like(batch.teacher_forcing)
        self.synchronize()
        started = time.perf_counter()
        self.model(batch.source, batch.source_lengths, batch.target, free_running)  # (B, L-1, V), discarded
        self.synchronize()
        return time.perf_counter() - started


def measure(loaded: Setup, root: Path, device: torch.device) -> pd.DataFrame:
    """The table of batch times: one row per (run, mode, length)."""
    config = loaded.config
    settings = {run: config.recipe_for(run) for run in config.benchmark.runs}
    models = {run: load(root / STUDY.paths(run).output_dir, device) for run in settings}
    parameters = {run: count_parameters(model) for run, model in models.items()}
    timers = {run: Timer(model, settings[run].lr, settings[run].grad_clip, device) for run, model in models.items()}
    generator = torch.Generator().manual_seed(loaded.shared.seed)
    rows = []
    for length in config.benchmark.lengths:
        times = {(run, mode): [] for run in settings for mode in MODES}
        for repeat in range(config.benchmark.batches + 1):  # repeat 0 warms up allocators and kernels
            for run, recipe in settings.items():  # the runs take turns
                batch = random_batch(models[run].config, length, recipe.batch_size, recipe.teacher_forcing, generator).to(device)
                for mode in MODES:
                    seconds = getattr(timers[run], mode)(batch)
                    if repeat:
                        times[(run, mode)].append(seconds)
        for (run, mode), seconds in times.items():
            recipe = settings[run]
            batches_per_epoch = math.ceil((recipe.train_pairs or config.split.train_pairs) / recipe.batch_size)
            median = statistics.median(seconds)
            rows.append(
                {
                    "run": run,
                    "cell": recipe.cell,
                    "parameters": parameters[run],
                    "mode": mode,
                    "length": length,
                    "batch_size": recipe.batch_size,
                    "seconds": median,
                    "min_seconds": min(seconds),
                    "max_seconds": max(seconds),
                    "epoch_seconds": median * batches_per_epoch if mode == "train" else math.nan,
                }
            )
    return pd.DataFrame(rows, columns=COLUMNS)


def summary(table: pd.DataFrame) -> dict[str, float]:
    """Flat metrics: `<run>_parameters`, `<run>_<mode>_seconds_L<length>` (median per batch) with its
    `_min`/`_max`, and `<run>_epoch_seconds_L<length>`."""
    metrics: dict[str, float] = {f"{run}_parameters": int(count) for run, count in zip(table["run"], table["parameters"])}
    for row in table.itertuples():
        key = f"{row.run}_{row.mode}_seconds_L{row.length}"
        metrics |= {key: row.seconds, f"{key}_min": row.min_seconds, f"{key}_max": row.max_seconds}
        if row.mode == "train":
            metrics[f"{row.run}_epoch_seconds_L{row.length}"] = row.epoch_seconds
    return metrics


def benchmark_runs(loaded: Setup, root: Path) -> pd.DataFrame:
    started = time.perf_counter()
    config = loaded.config
    device = select_device(loaded.shared.device)
    torch.set_num_threads(min(config.benchmark.threads, torch.get_num_threads()))
    table = measure(loaded, root, device)
    metrics = summary(table)

    with TrackedRun(
        STUDY,
        BENCHMARK_RUN,
        stage=STAGE,
        shared=loaded.shared,
        dataset="random-token-batches",
        lineage=BENCHMARK_LINEAGE,
        model="+".join(f"{run}:{config.recipe_for(run).cell}" for run in config.benchmark.runs),
        description="Time per batch of the trained runs "
        + ", ".join(f"`{r}`" for r in config.benchmark.runs)
        + " against sequence length: a training step and free-running decoding on random batches (DVC stage "
        f"`{STAGE}`); the table `tables/benchmark.json` and the figure hold every length.",
    ) as run:
        run.tracker.log_params(config.benchmark.model_dump() | {"device": str(device), "threads_used": torch.get_num_threads()})
        with run.outputs(clear=BENCHMARK_LINEAGE) as out:
            write_metrics(out, run.paths.metrics_file, metrics)
        run.log_summary(metrics)
        run.tracker.log_table(table, "tables/benchmark.json")
        run.log_figure(timing_curves(table), "figures/benchmark.png")

    longest = max(config.benchmark.lengths)
    at_longest = table[(table["length"] == longest) & (table["mode"] == "train")]
    print(
        f"{STAGE}: training step at {longest} tokens: "
        + ", ".join(f"{row.run} {row.seconds * 1000:.0f} ms" for row in at_longest.itertuples())
        + f"; {time.perf_counter() - started:.1f}s after imports",
        file=sys.stderr,
    )
    return table
