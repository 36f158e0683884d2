"""Training throughput of the recurrent runs on this machine (prints figures; asserts nothing).

    python -m pipeline.studies.recurrent.benchmark [--epochs 2] [--runs gru-small additive-attention]

For each run in params.yaml it times `--epochs` training epochs of the real model on the
real prepared data, with the run's own thread setting (after one untimed warm-up epoch),
and prints target tokens/s, seconds per epoch and the projected time for the run's full
epoch budget beside the last `dvc repro`'s figures. The cells step in a Python loop over
characters, so their cost is per step, not per FLOP. Run `dvc repro prepare_piglatin` first.
"""

from __future__ import annotations

import argparse

import pandas as pd

from pipeline.core.errors import PipelineError, run_cli
from pipeline.core.paths import project_root
from pipeline.studies.recurrent import STUDY, params


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m pipeline.studies.recurrent.benchmark", description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2, choices=range(1, 101), metavar="N", help="timed epochs per run (1-100)")
    parser.add_argument("--runs", nargs="*", help="run names (default: every run)")
    args = parser.parse_args()
    setup = params.load()
    names = args.runs or list(setup.recurrent.runs)
    for name in names:
        if name not in setup.recurrent.runs:
            raise PipelineError(f"--runs: no run {name!r} in {STUDY.name}.runs")

    import torch

    from pipeline.core.io import read_metrics
    from pipeline.core.runtime import select_device
    from pipeline.core.training import FitConfig, fit
    from pipeline.translation.recurrent import BY_MODEL
    from pipeline.translation.batching import LengthBucketBatcher
    from pipeline.translation.pairs import read_pairs
    from pipeline.translation.vocab import VOCAB_FILE, Vocabulary

    device = select_device(setup.shared.device)
    root = project_root()
    default_threads = torch.get_num_threads()
    rows = []
    for name in names:
        run = setup.recurrent.runs[name]
        torch.set_num_threads(run.threads or default_threads)
        data = setup.piglatin.prepared(root, run.dataset)
        data.check()
        vocab = Vocabulary.load(data.folder / VOCAB_FILE)
        batcher = LengthBucketBatcher(read_pairs(data.folder / "train.txt"), vocab, run.batch_size, seed=setup.shared.seed)
        torch.manual_seed(setup.shared.seed)
        architecture = BY_MODEL[run.model]
        model = architecture.build(len(vocab), run)
        # The real training loop, without validation; the first epoch is an untimed warm-up.
        epochs = args.epochs + 1
        config = FitConfig(epochs=epochs, patience=epochs, lr=run.lr, lr_decay=run.lr_decay)
        history = fit(model, batcher.batches, [], architecture.loss, config, device=device, description=name).history
        seconds = sum(r.seconds for r in history[1:])
        tokens = history[-1].tokens - history[0].tokens
        measured = STUDY.paths(name).metrics_file  # its train_seconds are in the timings twin
        full_run = read_metrics(root, measured) if (root / measured).exists() else {}
        rows.append({
            "run": name,
            "threads": torch.get_num_threads(),
            "tokens/s": round(tokens / seconds),
            "s/epoch": round(seconds / args.epochs, 3),
            "epochs": run.epochs,
            "projected train s": round(seconds / args.epochs * run.epochs, 1),
            "last dvc repro train s": full_run.get("train_seconds", float("nan")),
            "last dvc repro epochs": full_run.get("epochs_trained", float("nan")),
        })
        print(f"{name}: {rows[-1]['tokens/s']} tokens/s, {rows[-1]['s/epoch']} s/epoch", flush=True)
    table = pd.DataFrame(rows)
    print()
    print(f"device: {device}, timed epochs per run: {args.epochs}")
    print(table.to_string(index=False))
    print(f"projected training time {table['projected train s'].sum():.0f} s for the full epoch budgets (no early stopping)")


if __name__ == "__main__":
    run_cli(main)
