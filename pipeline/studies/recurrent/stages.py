"""Recurrent and single-block attention translators: train one run of recurrent.runs."""

from __future__ import annotations

from pipeline.core.params import require_known, section_checks
from pipeline.core.paths import project_root
from pipeline.studies.recurrent import STUDY, params


def train(*, run: str) -> None:
    """Stage train_recurrent@<run>: one run of recurrent.runs, e.g. gru-small."""
    setup = params.load()
    with section_checks():
        require_known(f"{STUDY.name}.runs", run, setup.config.runs, "run")
    config = setup.config.runs[run]
    data = setup.data.prepared(project_root(), config.dataset)
    data.check()

    # Heavy imports only once the inputs are known to be good.
    from pipeline.translators.recurrent import BY_MODEL
    from pipeline.translators.train import train_stage

    train_stage(train, setup, STUDY, STUDY.stage_name(run), run, config, BY_MODEL[config.model], data)


STAGES = {"train": train}
