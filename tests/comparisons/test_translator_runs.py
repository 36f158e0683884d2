"""What the translator comparisons compute, on synthetic runs with known answers."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from pipeline.comparisons.translator_runs import (
    TRANSLATOR_STUDIES,
    Contender,
    Translator,
    at_budget,
    every_translator_table,
    grid_member_runs,
    matched_flops,
    matched_size,
    nearest_in_size,
    sentence_score,
    words_right,
)
from pipeline.reporting import TranslatorResult
from tests.comparisons.curves import curve

# An encoder-decoder spending 100 FLOPs an epoch for 4 epochs (two seeds), a small decoder-only that stops at 300
# FLOPs, and a large decoder-only at 50 FLOPs an epoch: the budget 400 is reached by the first and the last only.
ENCODER = Contender(
    "encoder-decoder e",
    "encoder-decoder",
    1000,
    (curve(100, [4, 3, 2, 1.5], [2, 1.5, 1, 0.75]), curve(100, [4, 3, 2.2, 1.6], [2, 1.5, 1.1, 0.8])),
)
SMALL = Contender("decoder-only s", "decoder-only", 400, (curve(100, [5, 4, 3], [2.5, 2, 1.5]),))
LARGE = Contender("decoder-only l", "decoder-only", 1500, (curve(50, [6, 5, 4, 3, 2.5, 2, 1.9, 1.4, 1.2, 1.1], [3] * 10),))


def test_at_budget_reads_each_seed_and_their_spread():
    reached = at_budget(ENCODER, 400)
    assert reached["notebooks"] == (1.5, pytest.approx(0.1))  # first seed's value; max - min over seeds
    assert reached["ours"] == (0.75, pytest.approx(0.05))
    assert at_budget(SMALL, 400) is None  # its training ended at 300 FLOPs
    assert at_budget(LARGE, 400)["notebooks"] == (1.4, None)  # epoch 8 of 10; one seed: no spread


def test_matched_flops_lists_who_reached_each_encoder_decoder_budget():
    table = matched_flops([ENCODER, SMALL, LARGE])
    assert list(table["model"]) == ["encoder-decoder e", "decoder-only l"]
    assert list(table["epochs within"]) == [4, 8]
    assert list(table["lowest val loss (notebooks)"]) == [1.5, 1.4]


def test_nearest_in_size_uses_the_parameter_ratio():
    assert nearest_in_size([ENCODER, SMALL, LARGE]) == [(ENCODER, LARGE)]  # 1500/1000 beats 400/1000 in log ratio
    row = matched_size([ENCODER, SMALL, LARGE]).iloc[0]
    assert row["common budget (FLOPs)"] == "400"  # the smaller of the two whole budgets (400, 500)
    assert (row["encoder-decoder (notebooks)"], row["decoder-only (notebooks)"]) == (1.5, 1.4)


def test_grid_members_come_from_the_grids_params_with_or_without_seeds():
    with_seeds = SimpleNamespace(
        matrix=SimpleNamespace(
            model=["h16", "h64"], runs=lambda: {"h16-s0": ("h16", 0), "h16-s1": ("h16", 1), "h64-s0": ("h64", 0), "h64-s1": ("h64", 1)}
        )
    )
    assert grid_member_runs(with_seeds) == {"h16": ["h16-s0", "h16-s1"], "h64": ["h64-s0", "h64-s1"]}
    one_seed = SimpleNamespace(matrix=SimpleNamespace(model=["h16", "h64"]))
    assert grid_member_runs(one_seed) == {"h16": ["h16"], "h64": ["h64"]}


def test_words_right_follows_the_rule_and_keeps_empty_translations_aligned():
    assert words_right("ethay airway", "the air") == (2, 2)
    assert words_right("ethay  isway", "the air is") == (2, 3)  # "air" came out empty: "is" still meets "isway"
    run = SimpleNamespace(
        translations=pd.DataFrame({"sentence": ["the air", "quiet yet"], "translation": ["ethay airway", "ietquay etyay"]})
    )
    assert sentence_score(run) == (3, 4)


def test_every_translator_table_has_the_notebooks_loss_first_and_the_seeds_spread():
    seeds = tuple(
        TranslatorResult(
            name="h8-small",
            run_id=str(i),
            params={"run.dataset": "small"},
            metrics={
                "best_val_loss_batch_mean": value,
                "best_val_loss": value / 2,
                "parameters": 10.0,
                "val_word_accuracy": 0.5,
                "train_seconds": 20.0,
                "epochs_trained": 10.0,
            },
            curve=pd.DataFrame(),
            translations=pd.DataFrame(),
        )
        for i, value in enumerate((0.80, 0.86))
    )
    row = every_translator_table([Translator("transformer", "encoder-decoder", seeds, (0.7, 0.9))]).iloc[0]
    assert (row["lowest val loss (notebooks)"], row["spread (notebooks)"], row["seeds"]) == (0.8, pytest.approx(0.06), 2)
    assert (row["vs published"], row["s/epoch"]) == ("inside", 2.0)
    columns = list(every_translator_table([Translator("transformer", "encoder-decoder", seeds)]).columns)
    assert columns.index("lowest val loss (notebooks)") < columns.index("lowest val loss (ours)")


def test_the_registry_holds_every_translator_study_once():
    names = [entry.study.name for entry in TRANSLATOR_STUDIES]
    assert sorted(names) == ["decoder_only", "isoflop", "recurrent", "transformer"]
    from pipeline.translate import TRANSLATOR_STUDIES as CLI

    assert list(CLI) == names  # python -m pipeline.translate --study offers the same list
