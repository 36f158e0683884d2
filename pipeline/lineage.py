"""The link between DVC outputs and the MLflow run that produced them.

A run is tagged with the SHA-256 of its small, git-tracked outputs (metrics JSON and
per-epoch curve). The report recomputes that hash from the files it depends on and
asks MLflow for the run carrying it: exactly the run that produced the current
outputs, with no run id written into any DVC-tracked file.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.io import file_sha256

OUTPUTS_TAG = "dvc_outputs_sha256"


def outputs_fingerprint(*files: Path) -> str:
    return file_sha256(*files)


def find_run(mlflow_client, experiment_name: str, fingerprint: str, label: str):
    """The newest finished run of `experiment_name` tagged with `fingerprint`."""
    experiment = mlflow_client.get_experiment_by_name(experiment_name)
    if experiment is None:
        raise PipelineError(f"MLflow has no experiment {experiment_name!r}; run `dvc repro` to train {label}")
    runs = mlflow_client.search_runs(
        [experiment.experiment_id],
        filter_string=f"tags.{OUTPUTS_TAG} = '{fingerprint}' and attributes.status = 'FINISHED'",
        order_by=["attributes.end_time DESC"],
        max_results=1,
    )
    if not runs:
        raise PipelineError(
            f"no finished MLflow run in {experiment_name!r} produced the current outputs of {label} "
            f"(tag {OUTPUTS_TAG}={fingerprint[:12]}...); rerun its stage with `dvc repro -f -s <stage>` to log it"
        )
    return runs[0]
