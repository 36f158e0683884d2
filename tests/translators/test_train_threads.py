"""The README's thread rule for translators: a run's `threads` param (`recurrent.runs.<run>.threads`) caps the
torch threads the stage was given (`cores // jobs`) further, and never raises them.

The real `train_translator` on the real recurrent params and prepared data, with an architecture that
records the thread count the model would be built and trained under, then stops: no training.
"""

from __future__ import annotations

import pytest
import torch

from pipeline.studies.recurrent import STUDY, params
from pipeline.translators.train import train_translator


class Built(Exception):
    """Raised by the recording architecture once the run has set its threads."""


class RecordingArchitecture:
    def __init__(self):
        self.threads: int | None = None

    def build(self, vocab_size, run):
        self.threads = torch.get_num_threads()
        raise Built


@pytest.fixture
def given_four_threads():
    """The stage's share of the cores, as `python -m pipeline.repro` would set it."""
    previous = torch.get_num_threads()
    torch.set_num_threads(4)
    yield 4
    torch.set_num_threads(previous)


@pytest.mark.parametrize(("cap", "expected"), [(1, 1), (3, 3), (8, 4), (None, 4)])
def test_a_run_s_threads_cap_the_stage_s_threads(prepared_piglatin, given_four_threads, cap, expected):
    setup = params.load(prepared_piglatin / "params.yaml")
    run = setup.config.runs["gru-small"].model_copy(update={"threads": cap})
    architecture = RecordingArchitecture()
    with pytest.raises(Built):
        train_translator(
            study=STUDY,
            name="gru-small",
            run=run,
            shared=setup.shared,
            evaluation=setup.data.eval,
            data=setup.data.prepared(prepared_piglatin, run.dataset),
            stage="train_recurrent@gru-small",
            architecture=architecture,
            fingerprint="f" * 64,
        )
    assert architecture.threads == expected == min(cap or given_four_threads, given_four_threads)
