"""DVC stage `train_nmt@<run>`: train one encoder-decoder transformer of the matrix.

    python -m stages.train_nmt --run h32-small
"""

from __future__ import annotations

import argparse

from pipeline.errors import PipelineError, run_cli
from pipeline.params import load_params
from pipeline.paths import nmt_curve_file, nmt_metrics_file, nmt_output_dir, project_root, resume_dir
from pipeline.translator_stage import config_fingerprint, prepared_data, stop_on_sigterm

EXPERIMENT = "nmt-transformer"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="run name from nmt.runs in params.yaml, e.g. h32-small")
    args = parser.parse_args()

    params = load_params()
    if args.run not in params.nmt.runs:
        raise PipelineError(f"params.yaml: nmt.runs.{args.run}: no such run (known: {', '.join(params.nmt.runs)})")
    run = params.nmt.runs[args.run]
    root = project_root()
    data_dir = prepared_data(root, run.dataset)

    # Heavy imports only once the inputs are known to be good.
    from pipeline.nmt import ENCODER_DECODER
    from pipeline.nmt_experiment import train_seq2seq_run

    stop_on_sigterm()
    fingerprint = config_fingerprint(root, params, run, data_dir, __file__)
    train_seq2seq_run(
        name=args.run,
        run=run,
        params=params,
        data_dir=data_dir,
        experiment=EXPERIMENT,
        output_dir=root / nmt_output_dir(args.run),
        metrics_file=root / nmt_metrics_file(args.run),
        curve_file=root / nmt_curve_file(args.run),
        state_dir=resume_dir("nmt", args.run, fingerprint),
        fingerprint=fingerprint,
        stage=f"train_nmt@{args.run}",
        architecture=ENCODER_DECODER,
    )


if __name__ == "__main__":
    run_cli(main)
