"""DVC stage `train_nmt@<run>`: train one encoder-decoder transformer of the matrix.

    python -m stages.train_nmt --run h32-small
"""

from __future__ import annotations

import argparse
import hashlib
import json
import signal

from pipeline.errors import PipelineError, run_cli
from pipeline.io import file_sha256
from pipeline.params import load_params
from pipeline.paths import PREPARED_PIGLATIN, nmt_curve_file, nmt_metrics_file, nmt_output_dir, project_root, resume_dir

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
    data_dir = root / PREPARED_PIGLATIN / run.dataset
    for split in ("train", "val"):
        if not (data_dir / f"{split}.txt").exists():
            raise PipelineError(f"{data_dir / split}.txt: missing; run `dvc repro prepare_piglatin` first")

    # Heavy imports only once the inputs are known to be good.
    from pipeline.nmt_experiment import train_seq2seq_run

    # `dvc` stops stages with SIGTERM; turn it into KeyboardInterrupt so the MLflow run
    # is closed as KILLED instead of being left RUNNING.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    # What a resume file must match: the run's params, the data, and the code (a killed run
    # rerun after a code change starts over rather than finishing old weights with new code).
    code = sorted((root / "pipeline").rglob("*.py")) + [root / "stages" / "train_nmt.py"]
    fingerprint_source = {
        "run": run.model_dump(),
        "seed": params.seed,
        "device": params.device,
        "data": file_sha256(data_dir / "train.txt", data_dir / "val.txt"),
        "code": file_sha256(*code),
    }
    fingerprint = hashlib.sha256(json.dumps(fingerprint_source, sort_keys=True).encode()).hexdigest()
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
    )


if __name__ == "__main__":
    run_cli(main)
