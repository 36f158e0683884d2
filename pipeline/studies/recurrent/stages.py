"""Recurrent and single-block attention translators: train one run of recurrent.runs."""

from __future__ import annotations

from pipeline.core.errors import PipelineError, stop_on_sigterm
from pipeline.core.paths import project_root
from pipeline.studies.recurrent import STUDY, params, stage_name


def train(*, run: str) -> None:
    """Stage train_recurrent@<run>: one run of recurrent.runs, e.g. gru-small."""
    setup = params.load()
    if run not in setup.recurrent.runs:
        known = ", ".join(setup.recurrent.runs)
        raise PipelineError(f"params.yaml: {STUDY.name}.runs.{run}: no such run (known: {known})")
    config = setup.recurrent.runs[run]
    root = project_root()
    data = setup.piglatin.prepared(root, config.dataset)
    data.check()

    # Heavy imports only once the inputs are known to be good.
    from pipeline.translation.recurrent import BY_MODEL
    from pipeline.translation.run import config_fingerprint, train_translator

    stop_on_sigterm()
    train_translator(
        study=STUDY,
        name=run,
        run=config,
        shared=setup.shared,
        evaluation=setup.piglatin.eval,
        data=data,
        stage=stage_name(run),
        architecture=BY_MODEL[config.model],
        fingerprint=config_fingerprint(root, setup.shared, config, data, train),
    )


STAGES = {"train": train}
