"""The `decoder_only` section of params.yaml: one run's hyperparameters and the published loss."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.core.params import (
    PARAMS_FILE,
    Range,
    Section,
    SharedParams,
    load_section,
    load_shared,
    section_checks,
)
from pipeline.studies.decoder_only import STUDY
from pipeline.datasets.piglatin.params import PigLatinParams
from pipeline.datasets.piglatin.params import load as load_piglatin
from pipeline.translation.params import TranslatorRun


class DecoderOnlyParams(Section):
    """The decoder-only translator; its run name is `h<hidden>-<dataset>`."""

    run: TranslatorRun
    published_best_val_loss: Range  # lowest validation loss of published runs of the assignment

    @property
    def run_name(self) -> str:
        return f"h{self.run.hidden_size}-{self.run.dataset}"


@dataclass(frozen=True)
class Setup:
    shared: SharedParams
    piglatin: PigLatinParams
    decoder_only: DecoderOnlyParams


def load(path: str | Path = PARAMS_FILE) -> Setup:
    setup = Setup(load_shared(path), load_piglatin(path), load_section(STUDY.name, DecoderOnlyParams, path))
    with section_checks(path):
        setup.piglatin.check_dataset(setup.decoder_only.run.dataset, f"{STUDY.name}.run.dataset")
    return setup
