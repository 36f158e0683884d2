"""The report's tables and homework sentences on made-up runs: the numbers they quote and the claims they choose."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.studies.turkish import params, report
from tests.params_helpers import PARAMS


def _run(name: str, cell: str, changes: dict, **metrics) -> report.TurkishRun:
    base = {
        "train_loss_at_best": 4.0,
        "final_train_loss": 3.5,
        "best_val_loss": 4.4,
        "final_val_loss": 4.6,
        "best_epoch": 9,
        "best_val_loss_epoch": 5,
        "val_chrf_at_best": 10.0,
        "val_bleu_at_best": 1.0,
        "val_loss_at_best": 4.5,
        "epochs_trained": 11,
        "stopped_early": 1.0,
        "bleu": 0.3,
        "train_bleu": 2.0,
        "train_pairs": 1000,
        "copy_bleu": 0.9,
        "copy_chrf": 9.1,
        "chrf": 4.0,
        "test_loss": 4.5,
        "parameters": 1000,
        "seconds_per_epoch": 2.0,
        "test_sentences": 100,
    }
    curve = pd.DataFrame({"epoch": [1, 2], "train_loss": [5.0, 4.0], "val_loss": [4.8, 4.4]})
    samples = pd.DataFrame({"turkish": ["Merhaba."], "reference": ["Hello."], "translation": [f"hi from {name}"]})
    return report.TurkishRun(name, cell, changes, base | metrics, curve, samples)


@pytest.fixture()
def runs():
    return {
        "rnn": _run("rnn", "rnn", {"cell": "rnn"}, best_val_loss=4.5),
        "lstm": _run("lstm", "lstm", {}),
        "lstm_no_dropout": _run(
            "lstm_no_dropout",
            "lstm",
            {"dropout": 0.0},
            best_val_loss=4.45,
            final_train_loss=3.2,
            best_epoch=8,
            best_val_loss_epoch=4,
            val_chrf_at_best=8.5,
        ),  # +0.05: clear
        "lstm_250_pairs": _run("lstm_250_pairs", "lstm", {"train_pairs": 250}, best_val_loss=4.9, train_pairs=250),
    }


def test_effects_are_differences_against_the_base_run(runs):
    config = params.load(PARAMS).config
    effects = report.effects_table(config, [runs["rnn"], runs["lstm"]], [runs["lstm_no_dropout"], runs["lstm_250_pairs"]])
    assert effects["change"].tolist() == ["cell: rnn -> lstm", "dropout: 0.5 -> 0.0", "train_pairs: 1000 -> 250"]
    assert effects["Δ best val loss"].tolist() == [pytest.approx(-0.1), pytest.approx(0.05), pytest.approx(0.5)]
    assert effects["Δ final train loss"].tolist() == [0.0, pytest.approx(-0.3), 0.0]
    assert effects["Δ kept epoch"].tolist() == [0, -1, 0]
    assert effects["Δ val chrF at kept"].tolist() == [0.0, -1.5, 0.0]
    sentences = report.effect_sentences(effects)
    assert "lowered the final training loss (-0.300) and raised the best validation loss (+0.050); validation chrF -1.50" in sentences[1]


def test_fitting_sentences_follow_the_numbers(runs):
    lines = report.fitting_sentences(list(runs.values()), [runs["rnn"], runs["lstm"]], [runs["lstm_no_dropout"], runs["lstm_250_pairs"]])
    text = "\n".join(lines)
    assert (
        "`lstm`: the validation loss was lowest at epoch 5 (4.400) and ended +0.200 higher at epoch 11, while the training loss "
        "kept falling (overfitting, as the loss sees it); the epoch-9 weights were kept (validation chrF 10.0, validation loss 4.500), "
        "after which the training loss changed by -0.500 in 2 more epochs"
    ) in text
    assert "reached at epoch 4 instead of 5; the kept epoch's validation chrF is -1.50; dropout held overfitting back" in text
    assert "with 250 instead of 1000 training pairs (`lstm_250_pairs`) the lowest validation loss is +0.500" in text
    assert "neither fits the training set" in text
    runs["lstm"].metrics.update(final_val_loss=4.4, best_val_loss_epoch=11)
    assert "`lstm`: the validation loss was still falling at the last epoch (11)" in "\n".join(
        report.fitting_sentences([runs["lstm"]], [runs["lstm"]], [])
    )


def test_scores_and_samples_tables(runs):
    scores = report.scores_table(list(runs.values()))
    assert scores["run"].tolist()[-1] == "copy source" and scores["BLEU"].tolist()[-1] == 0.9
    assert scores.loc[scores["run"] == "lstm_250_pairs", "changes"].item() == "train_pairs=250"
    samples = report.samples_table([runs["rnn"], runs["lstm"]])
    assert samples.columns.tolist() == ["turkish", "reference", "rnn", "lstm"] and samples["lstm"].item() == "hi from lstm"


def test_a_small_dropout_effect_is_not_credited(runs):
    runs["lstm_no_dropout"].metrics["best_val_loss"] = 4.41
    text = "\n".join(report.fitting_sentences(list(runs.values()), [runs["rnn"], runs["lstm"]], [runs["lstm_no_dropout"]]))
    assert "too small to credit dropout" in text and "held overfitting back" not in text


# ------------------------------------------------------------------ question 3.2


def timing(train: dict[str, tuple[float, float]], decode: dict[str, tuple[float, float]], spread: float = 0.1) -> pd.DataFrame:
    """A benchmark table: run -> (seconds at 8 tokens, at 64), min/max `spread` around each, batches of 64, 16 per epoch."""
    rows = []
    for mode, runs in (("train", train), ("decode", decode)):
        for run, (short, long) in runs.items():
            for length, seconds in ((8, short), (64, long)):
                rows.append(
                    {
                        "run": run,
                        "cell": "transformer" if run == "transformer" else "lstm",
                        "parameters": 1,
                        "mode": mode,
                        "length": length,
                        "batch_size": 64,
                        "seconds": seconds,
                        "min_seconds": seconds * (1 - spread),
                        "max_seconds": seconds * (1 + spread),
                        "epoch_seconds": seconds * 16 if mode == "train" else float("nan"),
                    }
                )
    return pd.DataFrame(rows)


def test_timing_table_one_row_per_length():
    table = report.timing_table(
        timing({"lstm": (0.01, 0.08), "transformer": (0.02, 0.03)}, {"lstm": (0.005, 0.04), "transformer": (0.01, 0.2)})
    )
    assert table["tokens"].tolist() == [8, 64]
    assert table.columns.tolist() == [
        "tokens",
        "lstm train ms",
        "lstm epoch s",
        "transformer train ms",
        "transformer epoch s",
        "lstm decode ms",
        "transformer decode ms",
    ]
    assert table["lstm train ms"].tolist() == ["10.0 (9.0-11.0)", "80.0 (72.0-88.0)"]
    assert table["transformer epoch s"].tolist() == [0.32, 0.48]


def test_timing_sentences_say_which_is_faster_only_outside_the_spread():
    lines = report.timing_sentences(
        timing({"lstm": (0.01, 0.08), "transformer": (0.02, 0.03)}, {"lstm": (0.005, 0.04), "transformer": (0.01, 0.043)})
    )
    assert lines[0] == (
        "- A training step grows from 8 to 64 tokens (x8 the length) by `lstm` 8.0x (10.0 to 80.0 ms), "
        "`transformer` 1.5x (20.0 to 30.0 ms); at 64 tokens `transformer` is 2.7x faster than `lstm`."
    )
    assert lines[1].endswith("at 64 tokens the runs cannot be told apart (their min-max spreads overlap).")


def test_the_comparison_table_asks_the_paired_bootstrap(runs, monkeypatch):
    from pipeline.studies.turkish.results import Paired

    def fake(ctx, base, other):
        return {
            "BLEU": Paired(base.name, other.name, "BLEU", 1.0, 1.5, 0.4),
            "chrF": Paired(base.name, other.name, "chrF", 10.0, 14.0, 0.01),
        }

    monkeypatch.setattr(report, "paired_scores", fake)
    table = report.comparison_table(None, [runs["rnn"], runs["lstm"], runs["lstm_250_pairs"]])
    assert table[["base", "other"]].drop_duplicates().values.tolist() == [
        ["rnn", "lstm"],
        ["rnn", "lstm_250_pairs"],
        ["lstm", "lstm_250_pairs"],
    ]
    assert table["verdict"].tolist()[:2] == ["cannot be told apart", "differ"] and table["Δ (other - base)"].tolist()[:2] == [0.5, 4.0]


def test_paired_scores_are_sacrebleus_and_tell_a_better_system_apart():
    from sacrebleu.metrics import CHRF

    from pipeline.studies.turkish.results import paired

    references = [f"Tom saw {n} red birds near the old house." for n in range(40)]
    weak = [f"Tom {n} birds." for n in range(40)]
    strong = [f"Tom saw {n} red birds near the house." for n in range(40)]
    result = paired("weak", weak, "strong", strong, references)["chrF"]
    assert result.base_score == pytest.approx(CHRF().corpus_score(weak, [references]).score)
    assert result.other_score == pytest.approx(CHRF().corpus_score(strong, [references]).score)
    assert result.distinct and result.delta > 0
    same = paired("a", strong, "b", list(strong), references)["chrF"]
    assert not same.distinct and same.delta == 0
