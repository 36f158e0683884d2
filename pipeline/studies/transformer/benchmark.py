"""Training throughput of the transformer runs on this machine (prints figures; asserts nothing).

    python -m pipeline.studies.transformer.benchmark [--epochs 2] [--runs h32-small h64-large]

For each run in params.yaml it times `--epochs` training epochs of the real model on
the real prepared data (after one untimed warm-up epoch) and prints target tokens/s,
seconds per epoch (the steps, then with a validation pass) and the projected time of the
steps for the run's full epoch budget, then the totals; then where each run's time went in the
last `dvc repro` (start-up, set-up, training steps, validation, resume files, bookkeeping, final
evaluation) against that projection. Run `dvc repro prepare_piglatin` first.
"""

from __future__ import annotations

from pipeline.core.errors import run_cli
from pipeline.core.paths import project_root
from pipeline.studies.transformer import STUDY, params
from pipeline.translators.benchmark import chosen, last_repro, parse_args, print_breakdown, print_table, repro_breakdown

PROG = "python -m pipeline.studies.transformer.benchmark"


def main() -> None:
    args = parse_args(PROG, __doc__, "runs", "run names (default: every run in the matrix)")
    setup = params.load()
    runs, default = setup.config.runs, setup.config.matrix.run_names()
    names = chosen(args.runs, default, runs, option="--runs", noun="run", key=f"{STUDY.name}.runs")

    import torch

    from pipeline.core.runtime import select_device
    from pipeline.translators.architectures import ENCODER_DECODER
    from pipeline.translators.benchmark import time_training

    device = select_device(setup.shared.device)
    root = project_root()
    rows, breakdowns = [], []
    for name in names:
        run = runs[name]
        data = setup.data.prepared(root, run.dataset)
        timing = time_training(ENCODER_DECODER, run, data, setup.shared.seed, args.epochs, device, name)
        full_run = last_repro(root, STUDY, name)
        breakdowns.append(repro_breakdown(name, timing, full_run))
        rows.append(
            {"run": name}
            | timing.figures(run.epochs)
            | {
                "last dvc repro train s": full_run.get("train_seconds", float("nan")),
                "last dvc repro tokens/s": full_run.get("tokens_per_second", float("nan")),
            }
        )
        print(f"{name}: {rows[-1]['tokens/s']} tokens/s, {rows[-1]['s/epoch']} s/epoch", flush=True)
    header = f"device: {device}, torch threads: {torch.get_num_threads()}, timed epochs per run: {args.epochs}"
    table = print_table(rows, header)
    total_tokens_per_s = sum(r["tokens/s"] * r["s/epoch"] for r in rows) / sum(r["s/epoch"] for r in rows)
    print(
        f"total: {round(total_tokens_per_s)} tokens/s over all runs, "
        f"projected training time {table['projected train s'].sum():.0f} s for the full epoch budgets"
    )
    print_breakdown(breakdowns)


if __name__ == "__main__":
    run_cli(main)
