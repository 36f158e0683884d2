"""The `decoder_only` section of params.yaml: one run's hyperparameters and the published loss."""

from __future__ import annotations

from pathlib import Path

from pipeline.core.params import PARAMS_FILE, Range, Schema, StudySetup, load_study
from pipeline.datasets.piglatin.params import PigLatinParams
from pipeline.datasets.piglatin.params import load as load_piglatin
from pipeline.studies.decoder_only import STUDY
from pipeline.translators.params import TranslatorRun


class DecoderOnlyPublished(Schema):
    best_val_loss: Range  # lowest validation loss of published runs of the assignment


class DecoderOnlyParams(Schema):
    """The decoder-only translator; its run name is `h<hidden>-<dataset>`."""

    run: TranslatorRun
    published: DecoderOnlyPublished

    @property
    def run_name(self) -> str:
        return f"h{self.run.hidden_size}-{self.run.dataset}"


Setup = StudySetup[DecoderOnlyParams, PigLatinParams]


def load(path: str | Path = PARAMS_FILE) -> Setup:
    return load_study(STUDY.name, DecoderOnlyParams, path, data=load_piglatin, checks=_check)


def _check(setup: Setup) -> None:
    setup.data.check_dataset(setup.config.run.dataset, f"{STUDY.name}.run.dataset")
