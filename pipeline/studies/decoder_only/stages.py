"""Decoder-only translator: train the one run with the reference settings."""

from __future__ import annotations

from pipeline.core.errors import stop_on_sigterm
from pipeline.core.paths import project_root
from pipeline.studies.decoder_only import STAGE, STUDY, params


def train() -> None:
    """Stage train_decoder_only: the decoder-only translator, FLOPs counted per batch."""
    setup = params.load()
    config, name = setup.decoder_only.run, setup.decoder_only.run_name
    root = project_root()
    data = setup.piglatin.prepared(root, config.dataset)
    data.check()

    from pipeline.translation.architectures import DECODER_ONLY
    from pipeline.translation.run import config_fingerprint, train_translator

    stop_on_sigterm()
    train_translator(
        study=STUDY,
        name=name,
        run=config,
        shared=setup.shared,
        evaluation=setup.piglatin.eval,
        data=data,
        stage=STAGE,
        architecture=DECODER_ONLY,
        fingerprint=config_fingerprint(root, setup.shared, config, data, train),
        count_flops=True,
    )


STAGES = {"train": train}
