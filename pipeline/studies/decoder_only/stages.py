"""Decoder-only translator: train the one run with the reference settings."""

from __future__ import annotations

from pipeline.core.paths import project_root
from pipeline.studies.decoder_only import STAGE, STUDY, params


def train() -> None:
    """Stage train_decoder_only: the decoder-only translator, FLOPs counted per batch."""
    setup = params.load()
    config, name = setup.config.run, setup.config.run_name
    data = setup.data.prepared(project_root(), config.dataset)
    data.check()

    from pipeline.translators.architectures import DECODER_ONLY
    from pipeline.translators.train import train_stage

    train_stage(train, setup, STUDY, STAGE, name, config, DECODER_ONLY, data, count_flops=True)


STAGES = {"train": train}
