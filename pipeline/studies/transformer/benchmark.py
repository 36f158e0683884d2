"""Training throughput of the transformer runs on this machine (prints figures; asserts nothing).

    python -m pipeline.studies.transformer.benchmark [--epochs 2] [--runs h32-small h64-large]

For each run in params.yaml it times `--epochs` training epochs of the real model on
the real prepared data (after one untimed warm-up epoch) and prints target tokens/s,
seconds per epoch and the projected time for the run's full epoch budget. The last
line gives the totals. Run `dvc repro prepare_piglatin` first.
"""

from __future__ import annotations

import argparse

import pandas as pd

from pipeline.core.errors import PipelineError, run_cli
from pipeline.core.paths import project_root
from pipeline.studies.transformer import STUDY, params


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m pipeline.studies.transformer.benchmark", description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2, choices=range(1, 101), metavar="N", help="timed epochs per run (1-100)")
    parser.add_argument("--runs", nargs="*", help="run names (default: every run in the matrix)")
    args = parser.parse_args()
    setup = params.load()
    names = args.runs or setup.transformer.matrix.run_names()
    for name in names:
        if name not in setup.transformer.runs:
            raise PipelineError(f"--runs: no run {name!r} in {STUDY.name}.runs")

    import torch

    from pipeline.core.io import read_metrics
    from pipeline.core.runtime import select_device
    from pipeline.core.training import FitConfig, fit
    from pipeline.translation.batching import LengthBucketBatcher
    from pipeline.translation.encoder_decoder import seq2seq_loss
    from pipeline.translation.models.transformer import (
        Seq2SeqTransformer,
        TransformerConfig,
    )
    from pipeline.translation.pairs import read_pairs
    from pipeline.translation.vocab import VOCAB_FILE, Vocabulary

    device = select_device(setup.shared.device)
    root = project_root()
    rows = []
    for name in names:
        run = setup.transformer.runs[name]
        data = setup.piglatin.prepared(root, run.dataset)
        data.check()
        vocab = Vocabulary.load(data.folder / VOCAB_FILE)
        pairs = read_pairs(data.folder / "train.txt")
        batcher = LengthBucketBatcher(pairs, vocab, run.batch_size, seed=setup.shared.seed)
        torch.manual_seed(setup.shared.seed)
        model = Seq2SeqTransformer(TransformerConfig(len(vocab), run.hidden_size, run.num_layers))
        # The real training loop, without validation; the first epoch is an untimed warm-up.
        epochs = args.epochs + 1
        config = FitConfig(epochs=epochs, patience=epochs, lr=run.lr, lr_decay=run.lr_decay)
        history = fit(model, batcher.batches, [], seq2seq_loss, config, device=device, description=name).history
        seconds = sum(r.seconds for r in history[1:])
        tokens = history[-1].tokens - history[0].tokens
        measured = STUDY.paths(name).metrics_file  # its train_seconds are in the timings twin
        full_run = read_metrics(root, measured) if (root / measured).exists() else {}
        rows.append(
            {
                "run": name,
                "tokens/s": round(tokens / seconds),
                "s/epoch": round(seconds / args.epochs, 3),
                "epochs": run.epochs,
                "projected train s": round(seconds / args.epochs * run.epochs, 1),
                "last dvc repro train s": full_run.get("train_seconds", float("nan")),
                "last dvc repro tokens/s": full_run.get("tokens_per_second", float("nan")),
            }
        )
        print(f"{name}: {rows[-1]['tokens/s']} tokens/s, {rows[-1]['s/epoch']} s/epoch", flush=True)
    table = pd.DataFrame(rows)
    print()
    print(f"device: {device}, torch threads: {torch.get_num_threads()}, timed epochs per run: {args.epochs}")
    print(table.to_string(index=False))
    total_tokens_per_s = sum(r["tokens/s"] * r["s/epoch"] for r in rows) / sum(r["s/epoch"] for r in rows)
    print(
        f"total: {round(total_tokens_per_s)} tokens/s over all runs, "
        f"projected training time {table['projected train s'].sum():.0f} s for the full epoch budgets"
    )


if __name__ == "__main__":
    run_cli(main)
