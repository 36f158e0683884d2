"""The shared report helpers, on runs made up here (`fakes`): recipes, collapse, inspection."""

from __future__ import annotations

import pytest

from pipeline.classification.report import (
    CLEAR_MARGIN,
    against_majority,
    inspection_lines,
    recipe_differences,
    recipe_text,
    timing_table,
    verdicts,
)
from tests.classification.fakes import REFERENCE, TEST, always, fake_run, right_except

NEGATIVE = [e.text for e in TEST if e.label == 0]
ZERO = [e.text for e in TEST if e.label == 1]


def test_recipes_are_compared_value_by_value_as_logged():
    a = fake_run("gpt", "finetune", right_except())
    b = fake_run("bert", "same", right_except(), recipe={**REFERENCE, "lr": "5.0e-05"})  # the same number, written otherwise
    assert recipe_differences(a, b) == []
    c = fake_run(
        "bert",
        "other",
        right_except(),
        recipe={**REFERENCE, "epochs": "4"},
        split={"source": "train CSV", "val_fraction": "0.2", "seed": "2021", "stratify": "False"},
    )
    assert recipe_differences(a, c) == [
        "epochs 3 vs 4",
        "split source prepared vs train CSV",
        "split val_fraction 0.3 vs 0.2",
        "split seed 42 vs 2021",
        "split stratify True vs False",
    ]
    assert recipe_text(a) == (
        "AdamW lr 5e-05 (eps 1e-08, weight decay 0.01), linear warm-up over 10% of the steps, then "
        "linear decay, clipping 1, batch 32, 3 epochs (42 steps)"
    )


def test_a_collapsed_run_is_called_the_majority_baseline():
    constant = fake_run("bert", "scratch", always("positive"))
    assert constant.collapsed and constant.only_class == "positive"
    assert against_majority(constant) == "the majority baseline itself (it collapsed to one class)"
    # 111 of 160 test sentences are positive; a run wrong on 5 of the others is 44 above, counted by hand.
    good = fake_run("bert", "good", right_except(*NEGATIVE[:5]))
    assert not good.collapsed
    assert against_majority(good) == f"{160 - 5 - 111} test sentences above always answering the majority class"


def test_one_model_clearly_beats_the_others_only_alone_and_by_the_margin():
    hard = NEGATIVE[0]
    alone = fake_run("bert", "alone", right_except(*ZERO), confidence=0.9)  # right on `hard`, wrong on every zero
    others = [fake_run("bert", f"other{i}", right_except(hard, *ZERO)) for i in range(2)]
    table = verdicts([alone, *others], "test").set_index("sentence")
    assert table.loc[hard, "clear_winner"] == "bert/alone"
    assert (table["clear_winner"] == "bert/alone").sum() == 1
    assert table.loc[ZERO, "all_wrong"].all() and table["all_wrong"].sum() == len(ZERO)
    # The others, wrong, give the true class (1 - 0.9) / 2 = 0.05: a lone right answer at 0.34 wins by 0.29, clearly.
    barely = fake_run("bert", "barely", right_except(*ZERO), confidence=0.34)
    assert verdicts([barely, *others], "test").set_index("sentence").loc[hard, "clear_winner"] == "bert/barely"
    # Others that hesitate give it (1 - 0.5) / 2 = 0.25: 0.34 is then right alone but only 0.09 ahead, not clearly.
    hesitant = [fake_run("bert", f"hesitant{i}", right_except(hard, *ZERO), confidence=0.5) for i in range(2)]
    assert CLEAR_MARGIN > 0.34 - 0.25
    assert verdicts([barely, *hesitant], "test").set_index("sentence").loc[hard, "clear_winner"] == ""
    lines = inspection_lines(table.reset_index(), [alone, *others], "test sentences")
    assert lines[0].startswith(
        f"- `bert/alone` alone is right, by at least {CLEAR_MARGIN:g} in the true class's probability, "
        f"on 1 of the 160 test sentences: `{hard}` (negative)."
    )
    assert lines[-1].startswith(f"- Every model is wrong on {len(ZERO)} of the 160 test sentences: ")


def test_timing_table_adds_the_phases_into_a_step():
    table = timing_table([fake_run("bert", "frozen", right_except(), frozen=True)]).iloc[0]
    assert table["step s/batch"] == pytest.approx(0.1 + 0.001 + 0.0001)
    assert table["seconds per epoch"] == pytest.approx(4.0 / 3, abs=0.01)
