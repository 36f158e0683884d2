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

import time

from pipeline.core.errors import run_cli
from pipeline.core.paths import project_root
from pipeline.studies.decoder_only import params as decoder_only_params
from pipeline.studies.isoflop import STUDY, params
from pipeline.translators.benchmark import chosen, parse_args, print_table

PROG = "python -m pipeline.studies.isoflop.benchmark"


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
    args = parse_args(PROG, __doc__, "models", "grid members (default: all of isoflop.matrix.model)", per="model")
    setup = params.load()
    sizes = setup.config.matrix.hidden_sizes()
    names = chosen(args.models, list(sizes), sizes, option="--models", noun="member", key=f"{STUDY.name}.matrix.model")

    import torch

    from pipeline.core.runtime import select_device
    from pipeline.translators.architectures import DECODER_ONLY
    from pipeline.translators.benchmark import time_training
    from pipeline.translators.flops import FlopCounter
    from pipeline.translators.vocab import VOCAB_FILE, Vocabulary

    device = select_device(setup.shared.device)
    peak = matmul_peak()
    print(f"fp32 matmul peak (2048^3, best of 10): {peak / 1e9:.1f} GFLOP/s", flush=True)
    train = setup.config.train
    data = setup.data.prepared(project_root(), train.dataset)
    data.check()
    vocab_size = len(Vocabulary.load(data.folder / VOCAB_FILE))
    rows = []
    for name in names:
        run = train.run(sizes[name])
        counter = FlopCounter(run.hidden_size, run.num_layers, vocab_size)
        timing = time_training(DECODER_ONLY, run, data, setup.shared.seed, args.epochs, device, name, callbacks=counter)
        seconds, flops = timing.seconds, timing.counted("cumulative_flops")
        flops_per_epoch = timing.history[0].extra["cumulative_flops"]
        stop = setup.config.stop_at_flops
        grid_epochs = min(run.epochs, -(-stop // flops_per_epoch)) if stop else run.epochs
        rows.append(
            {
                "model": name,
                "tokens/s": round(timing.counted("cumulative_tokens") / seconds),
                "GFLOP/s": round(flops / seconds / 1e9, 2),
                "of peak": f"{flops / seconds / peak:.0%}",
                "s/epoch": round(seconds / args.epochs, 2),
                "grid epochs": int(grid_epochs),
                "projected grid s": round(seconds / args.epochs * grid_epochs, 1),
            }
        )
        row = rows[-1]
        print(f"{name}: {row['tokens/s']} tokens/s, {row['GFLOP/s']} GFLOP/s ({row['of peak']} of peak)", flush=True)
    header = f"device: {device}, torch threads: {torch.get_num_threads()}, timed epochs per model: {args.epochs}"
    table = print_table(rows, header)
    seeds = len(setup.config.matrix.seed)
    print(
        f"projected grid training: {table['projected grid s'].sum():.0f} s per seed, "
        f"{seeds * table['projected grid s'].sum():.0f} s for the {seeds} seed(s) of isoflop.matrix.seed"
    )
    reference = decoder_only_params.load().config.run
    match = table[table["model"] == f"h{reference.hidden_size}"]
    if reference.num_layers == train.num_layers and not match.empty:
        print(f"projected decoder-only training ({reference.epochs} epochs): {match['s/epoch'].item() * reference.epochs:.0f} s")


if __name__ == "__main__":
    run_cli(main)
