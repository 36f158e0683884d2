"""The study's answer-sheet entries on made-up runs: limits, links, code, and sentences that follow the numbers."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from pipeline.answers.questions import BY_ID
from pipeline.answers.sentences import count_sentences
from pipeline.reporting import ReportContext
from pipeline.studies.turkish import STATISTICS, answers, params
from pipeline.studies.turkish.results import Paired, TurkishRun
from tests.params_helpers import PARAMS
from tests.studies.turkish.test_report import timing

EPOCHS = 30


def _run(name: str, cell: str, changes: dict, **metrics) -> TurkishRun:
    base = {
        "train_loss_at_best": 3.0,
        "final_train_loss": 2.5,
        "best_val_loss": 4.4,
        "final_val_loss": 4.9,
        "best_epoch": 25,
        "best_val_loss_epoch": 5,
        "val_chrf_at_best": 11.0,
        "val_bleu_at_best": 1.0,
        "val_loss_at_best": 4.8,
        "epochs_trained": EPOCHS,
        "stopped_early": 0.0,
        "bleu": 1.5,
        "train_bleu": 15.0,
        "train_pairs": 1000,
        "copy_bleu": 0.9,
        "copy_chrf": 9.1,
        "chrf": 11.5,
        "test_loss": 4.7,
        "parameters": 1_262_341,
        "reference_parameters": 20_014_916,
        "seconds_per_epoch": 0.9,
        "test_sentences": 100,
    }
    curve = pd.DataFrame({"epoch": range(1, EPOCHS + 1), "train_loss": [5.0 - 0.08 * e for e in range(EPOCHS)]})
    return TurkishRun(name, cell, changes, base | metrics, curve, pd.DataFrame(), run_id=f"id-{name}")


RUNS = [
    _run("rnn", "rnn", {"cell": "rnn"}, final_train_loss=3.0, best_val_loss=4.41, train_bleu=2.0),
    _run("lstm", "lstm", {}),
    _run("transformer", "transformer", {"cell": "transformer", "embedding_dim": 128}),
    _run("lstm_no_dropout", "lstm", {"dropout": 0.0}, final_train_loss=2.0, best_val_loss=4.41),  # +0.01: not credited
    _run("lstm_250_pairs", "lstm", {"train_pairs": 250}, final_train_loss=3.5, best_val_loss=4.9, train_pairs=250),
]


@pytest.fixture()
def ctx(tmp_path, monkeypatch) -> ReportContext:
    (tmp_path / STATISTICS).parent.mkdir(parents=True)
    (tmp_path / STATISTICS).write_text(json.dumps({"tokenizers": {"turkish": {"vocab_size": 1000}, "english": {"vocab_size": 901}}}))
    context = ReportContext(tmp_path, out=None)
    context.memo("turkish:params", lambda: params.load(PARAMS).config)
    monkeypatch.setattr(answers, "load_runs", lambda ctx, config: RUNS)
    monkeypatch.setattr(
        answers,
        "load_benchmark",
        lambda ctx: timing(
            {"lstm": (0.010, 0.080), "transformer": (0.020, 0.030)}, {"lstm": (0.005, 0.040), "transformer": (0.010, 0.200)}
        ),
    )
    monkeypatch.setattr(
        answers,
        "paired_scores",
        lambda ctx, base, other: {
            "chrF": Paired(base.name, other.name, "chrF", 11.5, 9.0, 0.02),
            "BLEU": Paired(base.name, other.name, "BLEU", 1.5, 1.0, 0.3),
        },
    )
    monkeypatch.setattr(
        answers,
        "paired_against_copy",
        lambda ctx, run: {
            "chrF": Paired("copy source", run.name, "chrF", 9.1, 11.5, 0.001),
            "BLEU": Paired("copy source", run.name, "BLEU", 0.9, 1.5, 0.2),
        },
    )
    return context


@pytest.mark.parametrize("question", sorted(answers.ANSWERS))
def test_every_answer_keeps_its_limit_links_and_shows_code_where_asked(ctx, question):
    answer = answers.ANSWERS[question](ctx)
    limits = BY_ID[question]
    sentences = count_sentences(answer.text)
    assert sentences >= (limits.min_sentences or 1) and sentences <= (limits.max_sentences or sentences)
    assert answer.link in {
        answers.LOSS_HEADING,
        answers.EFFECTS_HEADING,
        answers.FITTING_HEADING,
        answers.TRANSFORMER_HEADING,
        answers.INTERFACE_HEADING,
    }
    assert answer.numbers and (answer.code or not limits.asks_for_code)


def test_the_lstm_count_is_the_published_one(ctx):
    text = answers.lstm_translator(ctx).text
    assert "it has 20,014,916 parameters, exactly the published 20,014,916" in text and "(1,000 and 901) it has 1,262,341" in text


def test_loss_findings_rank_the_changes_and_leave_small_ones_uncredited(ctx):
    text = answers.loss_findings(ctx).text
    assert "the training loss at the last epoch moved most with train_pairs: 1000 -> 250 (+1.000" in text
    assert "The lowest validation loss moved most with train_pairs: 1000 -> 250 (+0.500" in text
    assert (
        "By less than 0.02 nats, which one seed per run cannot tell apart from noise: cell: rnn -> lstm (-0.010), dropout: 0.5 -> 0.0 (+0.010)."
        in text
    )
    assert "Avoiding underfitting needed cell: rnn -> lstm (-0.500), dropout: 0.5 -> 0.0 (-0.500) and epochs" in text
    # lstm: lowest validation loss at epoch 5, where the training loss was 5.0 - 0.08 * 4
    assert "was 4.680 at epoch 5, where the validation loss was lowest, and 2.500 at epoch 30" in text
    assert "still underfits" in text and "validation chrF went on rising to its best at epoch 25" in text


def test_the_transformer_answers_follow_the_benchmark(ctx):
    text = answers.transformer_advantage(ctx).text
    assert "`lstm` 10 ms to 80 ms (x8.0) and `transformer` 20 ms to 30 ms (x1.5), the Transformer's the flatter growth" in text
    assert "at 64 tokens the Transformer's step is 2.7x faster (`lstm` 1.28 s against `transformer` 0.48 s" in text
    text = answers.lstm_advantage(ctx).text
    assert "`lstm` 5 ms to 40 ms (x8.0) and `transformer` 10 ms to 200 ms (x20.0), the Transformer's the steeper growth" in text
    assert "`transformer`'s test chrF (9.0) is below `lstm`'s (11.5; paired bootstrap over the test sentences, p = 0.020)" in text


def test_overlapping_timings_cannot_be_told_apart(ctx, monkeypatch):
    monkeypatch.setattr(
        answers,
        "load_benchmark",
        lambda ctx: timing(
            {"lstm": (0.010, 0.031), "transformer": (0.020, 0.030)}, {"lstm": (0.005, 0.040), "transformer": (0.010, 0.200)}
        ),
    )
    assert "at 64 tokens the two steps cannot be told apart" in answers.transformer_advantage(ctx).text


def test_the_interface_answer_quotes_the_measured_shapes(ctx):
    answer = answers.encoder_decoder_inputs(ctx)
    numbers = dict(answer.numbers)
    assert numbers["`self.encoder` argument `source`, run `lstm` (measured with forward hooks at report time)"] == "(64, 10)"
    assert (
        numbers["`self.decoder` argument `tgt_mask`, run `transformer` (measured with forward hooks at report time)"] == "(8, 8)"
    )  # targets of 9: 8 steps
    assert "(B, S) = (64, 10)" in answer.text and "a causal mask (8, 8)" in answer.text and "is called once per batch" in answer.text
    assert "calls `self.decoder(token, state)` 8 times" in answer.text
