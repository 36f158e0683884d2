"""DVC stage `isoflop@<model>`: train one member of the IsoFLOP grid.

    python -m stages.isoflop --model h64

Every member is a decoder-only translator trained alike (params `isoflop.train`);
only the hidden size differs. FLOPs and tokens are accumulated per batch and logged
with every validation loss. The members are child runs of one MLflow parent run.
"""

from __future__ import annotations

import argparse
import sys

from pipeline.errors import PipelineError, run_cli
from pipeline.params import load_params
from pipeline.paths import project_root, resume_dir, run_curve_file, run_metrics_file, run_output_dir
from pipeline.translator_stage import config_fingerprint, prepared_data, stop_on_sigterm

EXPERIMENT = "isoflop"
STUDY = "isoflop"
PARENT_RUN_NAME = "isoflop-grid"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="grid member from isoflop.matrix.model, e.g. h64")
    args = parser.parse_args()

    params = load_params()
    grid = params.isoflop
    hidden_sizes = grid.matrix.hidden_sizes()
    if args.model not in hidden_sizes:
        raise PipelineError(f"params.yaml: isoflop.matrix.model: no member {args.model!r} (members: {', '.join(hidden_sizes)})")
    run = grid.train.run(hidden_sizes[args.model])
    root = project_root()
    data_dir = prepared_data(root, run.dataset)

    from pipeline.flops import FlopCounter
    from pipeline.nmt import DECODER_ONLY
    from pipeline.nmt_experiment import train_seq2seq_run
    from pipeline.tracking import git_commit, parent_run
    from pipeline.vocab import VOCAB

    stop_on_sigterm()
    shared = {"train": grid.train.model_dump(), "stop_at_flops": grid.stop_at_flops}
    fingerprint = config_fingerprint(root, params, run, data_dir, __file__, grid=shared)
    # Members trained from the same shared config and code belong to the same grid.
    grid_key = config_fingerprint(root, params, None, data_dir, __file__, grid=shared)
    commit, _ = git_commit()
    tags = {"git_commit": commit, "profile": params.profile, "dataset": f"piglatin-{run.dataset}"}
    try:
        parent = parent_run(EXPERIMENT, PARENT_RUN_NAME, key=grid_key, tags=tags)
    except Exception as error:  # noqa: BLE001 - tracking must not block training; the run logs unnested
        print(f"warning: could not find or create the MLflow parent run {PARENT_RUN_NAME!r}: {error}", file=sys.stderr)
        parent = None
    train_seq2seq_run(
        name=args.model,
        run=run,
        params=params,
        data_dir=data_dir,
        experiment=EXPERIMENT,
        output_dir=root / run_output_dir(STUDY, args.model),
        metrics_file=root / run_metrics_file(STUDY, args.model),
        curve_file=root / run_curve_file(STUDY, args.model),
        state_dir=resume_dir(STUDY, args.model, fingerprint),
        fingerprint=fingerprint,
        stage=f"isoflop@{args.model}",
        architecture=DECODER_ONLY,
        flop_counter=FlopCounter(run.hidden_size, run.num_layers, len(VOCAB), stop_at_flops=grid.stop_at_flops),
        parent_run_id=parent,
    )


if __name__ == "__main__":
    run_cli(main)
