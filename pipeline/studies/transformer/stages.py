"""Transformer encoder-decoder: train one run of the matrix."""

from __future__ import annotations

from pipeline.core.errors import PipelineError, stop_on_sigterm
from pipeline.core.paths import project_root
from pipeline.studies.transformer import STUDY, params, stage_name


def train(*, run: str) -> None:
    """Stage train_transformer@<run>: one run of transformer.runs, e.g. h32-small."""
    setup = params.load()
    if run not in setup.transformer.runs:
        known = ", ".join(setup.transformer.runs)
        raise PipelineError(f"params.yaml: {STUDY.name}.runs.{run}: no such run (known: {known})")
    config = setup.transformer.runs[run]
    root = project_root()
    data = setup.piglatin.prepared(root, config.dataset)
    data.check()

    # Heavy imports only once the inputs are known to be good.
    from pipeline.translation.architectures import ENCODER_DECODER
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
        architecture=ENCODER_DECODER,
        fingerprint=config_fingerprint(root, setup.shared, config, data, train),
    )


STAGES = {"train": train}
