"""Written questions: every pen-and-paper answer of the assignment as a numeric check.

python -m stages written check    # DVC stage written_checks
"""

from __future__ import annotations

from pipeline.core.errors import stop_on_sigterm
from pipeline.studies.written import params


def check() -> None:
    """Stage written_checks: run the checks, write metrics/plots/figures, log one MLflow run."""
    setup = params.load()
    shared, config = setup.shared, setup.config
    from pipeline.studies.written.checks import run_checks  # torch, mlflow: only once the params are good

    stop_on_sigterm()
    run_checks(shared, config)


STAGES = {"check": check}
