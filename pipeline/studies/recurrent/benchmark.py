"""Training throughput of the recurrent runs on this machine (prints figures; asserts nothing).

    python -m pipeline.studies.recurrent.benchmark [--epochs 2] [--runs gru-small additive-attention]

For each run in params.yaml it times `--epochs` training epochs of the real model on the
real prepared data, with the run's own thread setting (after one untimed warm-up epoch),
and prints target tokens/s, seconds per epoch and the projected time for the run's full
epoch budget beside the last `dvc repro`'s figures; then where each run's time went in the last
`dvc repro` (start-up, set-up, training steps, validation, resume files, bookkeeping, final
evaluation) against that projection. The cells step in a Python loop over characters, so their
cost is per step, not per FLOP. Run `dvc repro prepare_piglatin` first.
"""

from __future__ import annotations

from pipeline.core.errors import run_cli
from pipeline.core.paths import project_root
from pipeline.studies.recurrent import STUDY, params
from pipeline.translators.benchmark import chosen, last_repro, parse_args, print_breakdown, print_table, repro_breakdown

PROG = "python -m pipeline.studies.recurrent.benchmark"


def main() -> None:
    args = parse_args(PROG, __doc__, "runs", "run names (default: every run)")
    setup = params.load()
    runs = setup.config.runs
    names = chosen(args.runs, list(runs), runs, option="--runs", noun="run", key=f"{STUDY.name}.runs")

    import torch

    from pipeline.core.runtime import select_device
    from pipeline.translators.benchmark import time_training
    from pipeline.translators.recurrent import BY_MODEL

    device = select_device(setup.shared.device)
    root = project_root()
    default_threads = torch.get_num_threads()
    rows, breakdowns = [], []
    for name in names:
        run = runs[name]
        torch.set_num_threads(run.threads or default_threads)
        data = setup.data.prepared(root, run.dataset)
        timing = time_training(BY_MODEL[run.model], run, data, setup.shared.seed, args.epochs, device, name)
        full_run = last_repro(root, STUDY, name)
        breakdowns.append(repro_breakdown(name, timing, full_run))
        rows.append(
            {"run": name, "threads": torch.get_num_threads()}
            | timing.figures(run.epochs)
            | {
                "last dvc repro train s": full_run.get("train_seconds", float("nan")),
                "last dvc repro epochs": full_run.get("epochs_trained", float("nan")),
            }
        )
        print(f"{name}: {rows[-1]['tokens/s']} tokens/s, {rows[-1]['s/epoch']} s/epoch", flush=True)
    table = print_table(rows, f"device: {device}, timed epochs per run: {args.epochs}")
    projected = table["projected train s"].sum()
    print(f"projected training time {projected:.0f} s for the full epoch budgets (no early stopping)")
    print_breakdown(breakdowns)


if __name__ == "__main__":
    run_cli(main)
