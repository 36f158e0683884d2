"""Throughput of the IsoFLOP grid models against this machine's fp32 matmul peak.

    python -m pipeline.studies.isoflop.benchmark [--epochs 2] [--models h16 h128]

Measures the fp32 matmul peak first (best of several 2048 x 2048 products, in this same
process), then times `--epochs` training epochs of each grid model on the real data
(after one untimed warm-up epoch) with the shared training loop and prints tokens/s,
achieved FLOP/s (the assignment's FLOP formula over wall time) and its fraction of
the peak, and the projected time of the grid (every seed) and of the decoder-only run.
Prints figures; asserts nothing. Run `dvc repro prepare_piglatin` first.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from pipeline.core.errors import PipelineError, run_cli
from pipeline.core.paths import project_root
from pipeline.studies.decoder_only import params as decoder_only_params
from pipeline.studies.isoflop import STUDY, params


def matmul_peak(size: int = 2048, repeats: int = 10) -> float:
    """Best fp32 FLOP/s of one `size`^3 matrix product (2 size^3 FLOPs)."""
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - started)
    return 2 * size**3 / best


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m pipeline.studies.isoflop.benchmark", description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2, choices=range(1, 101), metavar="N", help="timed epochs per model (1-100)")
    parser.add_argument("--models", nargs="*", help="grid members (default: all of isoflop.matrix.model)")
    args = parser.parse_args()
    setup = params.load()
    sizes = setup.isoflop.matrix.hidden_sizes()
    names = args.models or list(sizes)
    for name in names:
        if name not in sizes:
            raise PipelineError(f"--models: no member {name!r} in {STUDY.name}.matrix.model")

    import torch

    from pipeline.core.runtime import select_device
    from pipeline.core.training import FitConfig, fit
    from pipeline.translation.architectures import DECODER_ONLY
    from pipeline.translation.batching import LengthBucketBatcher
    from pipeline.translation.flops import FlopCounter
    from pipeline.translation.models.transformer import TransformerConfig
    from pipeline.translation.pairs import read_pairs
    from pipeline.translation.vocab import VOCAB_FILE, Vocabulary

    device = select_device(setup.shared.device)
    peak = matmul_peak()
    print(f"fp32 matmul peak (2048^3, best of 10): {peak / 1e9:.1f} GFLOP/s", flush=True)
    train = setup.isoflop.train
    data = setup.piglatin.prepared(project_root(), train.dataset)
    data.check()
    vocab = Vocabulary.load(data.folder / VOCAB_FILE)
    buckets = LengthBucketBatcher(read_pairs(data.folder / "train.txt"), vocab, train.batch_size, seed=setup.shared.seed)
    rows = []
    for name in names:
        run = train.run(sizes[name])
        torch.manual_seed(setup.shared.seed)
        model = DECODER_ONLY.model_class(TransformerConfig(len(vocab), run.hidden_size, run.num_layers))
        counter = FlopCounter(run.hidden_size, run.num_layers, len(vocab))
        epochs = args.epochs + 1  # the first epoch is an untimed warm-up

        def batches(epoch: int) -> list:
            return [DECODER_ONLY.as_batch(b, vocab) for b in buckets.batches(epoch)]

        config = FitConfig(epochs=epochs, patience=epochs, lr=run.lr, lr_decay=run.lr_decay)
        history = fit(model, batches, [], DECODER_ONLY.loss, config, callbacks=counter, device=device, description=name).history
        seconds = sum(r.seconds for r in history[1:])
        flops = history[-1].extra["cumulative_flops"] - history[0].extra["cumulative_flops"]
        tokens = history[-1].extra["cumulative_tokens"] - history[0].extra["cumulative_tokens"]
        flops_per_epoch = history[0].extra["cumulative_flops"]
        stop = setup.isoflop.stop_at_flops
        grid_epochs = min(run.epochs, -(-stop // flops_per_epoch)) if stop else run.epochs
        rows.append({
            "model": name,
            "tokens/s": round(tokens / seconds),
            "GFLOP/s": round(flops / seconds / 1e9, 2),
            "of peak": f"{flops / seconds / peak:.0%}",
            "s/epoch": round(seconds / args.epochs, 2),
            "grid epochs": int(grid_epochs),
            "projected grid s": round(seconds / args.epochs * grid_epochs, 1),
        })
        print(f"{name}: {rows[-1]['tokens/s']} tokens/s, {rows[-1]['GFLOP/s']} GFLOP/s ({rows[-1]['of peak']} of peak)", flush=True)
    table = pd.DataFrame(rows)
    print()
    print(f"device: {device}, torch threads: {torch.get_num_threads()}, timed epochs per model: {args.epochs}")
    print(table.to_string(index=False))
    seeds = len(setup.isoflop.matrix.seed)
    print(f"projected grid training: {table['projected grid s'].sum():.0f} s per seed, "
          f"{seeds * table['projected grid s'].sum():.0f} s for the {seeds} seed(s) of isoflop.matrix.seed")
    reference = decoder_only_params.load().decoder_only.run
    match = table[table["model"] == f"h{reference.hidden_size}"]
    if reference.num_layers == train.num_layers and not match.empty:
        print(f"projected decoder-only training ({reference.epochs} epochs): {match['s/epoch'].item() * reference.epochs:.0f} s")


if __name__ == "__main__":
    run_cli(main)
