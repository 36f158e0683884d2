"""The benchmark scripts' shared part: the names they time, the timed epochs and the figures."""

from __future__ import annotations

import pytest

from pipeline.core.callbacks import EpochRecord
from pipeline.core.errors import PipelineError
from pipeline.translators.architectures import DECODER_ONLY, ENCODER_DECODER
from pipeline.translators.benchmark import Timing, chosen, repro_breakdown, time_training
from pipeline.translators.flops import FlopCounter
from pipeline.translators.pairs import Pair, TranslatorData, write_pairs
from pipeline.translators.params import TranslatorRun
from pipeline.translators.train import time_breakdown
from pipeline.translators.vocab import Vocabulary

PAIRS = [Pair("the", "ethay"), Pair("air", "airway"), Pair("is", "isway"), Pair("dog", "ogday"), Pair("a", "away")]
RUN = TranslatorRun(dataset="tiny", num_layers=1, epochs=7, patience=7, batch_size=2, lr=0.01, lr_decay=1, hidden_size=8)


@pytest.fixture
def data(tmp_path) -> TranslatorData:
    write_pairs(tmp_path / "train.txt", PAIRS)
    write_pairs(tmp_path / "val.txt", PAIRS[:1])
    vocab = Vocabulary("abcdeghilnorstwy")
    vocab.save(tmp_path / "vocab.json")
    return TranslatorData(folder=tmp_path, name="tiny", data_params={}, prepare_stage="prepare_tiny")


def test_the_timed_epochs_follow_one_warm_up_and_count_every_target_token(data, one_torch_thread):
    timing = time_training(ENCODER_DECODER, RUN, data, seed=0, epochs=2, device="cpu", name="tiny")
    assert [record.epoch for record in timing.history] == [1, 2, 3]  # the warm-up first
    assert timing.seconds == sum(record.seconds for record in timing.history[1:])
    assert timing.tokens == 2 * sum(len(pair.target) + 1 for pair in PAIRS)  # with <EOS>, two timed epochs
    assert 0 < timing.validation_seconds < timing.seconds  # one pass over one pair, after two epochs of five


def test_callbacks_count_alongside(data, one_torch_thread):
    counter = FlopCounter(RUN.hidden_size, RUN.num_layers, vocab_size=len(Vocabulary("abcdeghilnorstwy")))
    timing = time_training(DECODER_ONLY, RUN, data, seed=0, epochs=1, device="cpu", name="tiny", callbacks=counter)
    # The decoder reads `<SOS> source <EOP> target` per pair; every epoch the same batches, so the same FLOPs.
    assert timing.counted("cumulative_tokens") == sum(len(pair.source) + len(pair.target) + 2 for pair in PAIRS)
    assert timing.counted("cumulative_flops") == timing.history[0].extra["cumulative_flops"] > 0


def test_figures_per_second_per_epoch_and_projected_over_the_budget():
    records = [EpochRecord(e, 0.0, 0.0, 0.01, e, 100 * e, s) for e, s in [(1, 9.0), (2, 2.0), (3, 3.0)]]
    assert Timing(records, epochs=2, validation_seconds=0.5).figures(budget=10) == {
        "tokens/s": 40,  # 200 tokens in 5 s; the warm-up's 9 s and 100 tokens left out
        "s/epoch": 2.5,
        "s/epoch with val": 3.0,
        "epochs": 10,
        "projected train s": 25.0,  # the steps alone: what a run costs beyond them is the breakdown's
    }


def test_the_breakdown_sets_the_last_repro_beside_the_projection_over_the_epochs_it_trained():
    records = [EpochRecord(e, 0.0, 0.0, 0.01, e, 100 * e, 2.0) for e in (1, 2, 3)]
    timing = Timing(records, epochs=2, validation_seconds=0.5)  # 2 s of steps per epoch
    phases = {"startup_seconds": 2.0, "setup_seconds": 1.0, "step_seconds": 8.5, "validation_seconds": 1.0, "evaluation_seconds": 0.5}
    row = repro_breakdown("h8", timing, {"epochs_trained": 4, "time_breakdown": phases})
    assert row == {
        "run": "h8",
        "projected s": 8.0,  # 4 epochs trained (early stopping would make it fewer than the budget) x 2 s
        "startup": 2.0,
        "setup": 1.0,
        "step": 8.5,
        "validation": 1.0,
        "evaluation": 0.5,
        "whole s": 13.0,
        "whole / projected": 1.62,
    }
    assert repro_breakdown("h8", timing, {"epochs_trained": 4}) is None  # a repro from before the breakdown


def test_a_run_s_breakdown_adds_up_to_its_phases_and_leaves_out_a_missing_start_up():
    phases = {"step_seconds": 10.004, "validation_seconds": 1.0, "resume_seconds": 0.1, "epoch_bookkeeping_seconds": 0.2}
    breakdown = time_breakdown(None, 1.5, phases, 0.25)
    assert list(breakdown) == ["setup_seconds", *phases, "evaluation_seconds"]  # in the order the time was spent
    assert breakdown["step_seconds"] == 10.0 and breakdown["evaluation_seconds"] == 0.25
    assert time_breakdown(2.0, 1.5, phases, 0.25)["startup_seconds"] == 2.0


def test_chosen_names_default_to_all_and_an_unknown_one_fails_in_one_line():
    known = {"h32-small": 1, "h64-large": 2}
    assert chosen(None, ["h32-small"], known, option="--runs", noun="run", key="transformer.runs") == ["h32-small"]
    assert chosen(["h64-large"], ["h32-small"], known, option="--runs", noun="run", key="x") == ["h64-large"]
    with pytest.raises(PipelineError, match=r"^--models: no member 'h7' in isoflop.matrix.model$"):
        chosen(["h64-large", "h7"], [], known, option="--models", noun="member", key="isoflop.matrix.model")
