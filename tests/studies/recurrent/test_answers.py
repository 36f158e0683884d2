"""The recurrent study's findings on synthetic runs: kinds of error, the failure mode, the attention example."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import pipeline.studies.recurrent.answers as answers
from pipeline.reporting import ReportContext, TranslatorResult
from pipeline.translators.pairs import Pair

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("target", "prediction", "kind"),
    [
        ("ickquay", "iqckuay", "the right letters in the wrong order"),
        ("ickquay", "ickay", "a word too short (letters dropped)"),
        ("ickquay", "ickquayay", "a word too long (letters added or repeated)"),
        ("ickquay", "ickqubb", "the right length with wrong letters"),
    ],
)
def test_error_kinds(target, prediction, kind):
    assert answers.error_kind(target, prediction) == kind


def test_repeats_finds_a_character_three_times_in_a_row():
    assert answers.repeats("oppppaigs") and not answers.repeats("oppaigs")


def _run(name: str, accuracy: float, translations: list[tuple[str, str]] = ()) -> TranslatorResult:
    return TranslatorResult(
        name,
        f"id-{name}",
        {},
        {"val_word_accuracy": accuracy},
        pd.DataFrame(),
        pd.DataFrame(translations, columns=["sentence", "translation"]),
    )


@pytest.fixture
def context(monkeypatch) -> ReportContext:
    monkeypatch.chdir(ROOT)  # the real params.yaml: which runs are plain GRU/LSTM and which has attention
    return ReportContext(ROOT, out=None)


def test_failure_mode_takes_the_best_plain_decoder_and_its_commonest_error(context, monkeypatch):
    runs = {"gru-small": _run("gru-small", 0.1), "gru-large": _run("gru-large", 0.3)}
    table = pd.DataFrame(
        {
            "source": ["dog", "quick", "street", "strong", "fox"],
            "target": ["ogday", "ickquay", "eetstray", "ongstray", "oxfay"],
            "prediction": ["ogday", "ickay", "eetsray", "ongtsray", "oxfay"],  # wrong: two too short, one anagram
            "correct": [True, False, False, False, True],
        }
    )
    monkeypatch.setattr(answers, "runs", lambda ctx: runs)
    monkeypatch.setattr(answers, "predictions", lambda ctx, run: table)
    mode = answers.failure_mode(context, "gru")
    assert (mode.run, mode.errors, mode.words) == ("gru-large", 3, 5)
    assert (mode.kind, mode.share) == ("a word too short (letters dropped)", pytest.approx(2 / 3))
    assert set(mode.examples["source"]) == {"quick", "street"}
    assert mode.by_length == {"length 1-3": 1.0, "length 4-6": 0.0}  # dog, fox right; quick, street, strong wrong


def test_attention_example_is_a_training_word_attention_gets_right_and_the_plain_decoder_does_not(context, monkeypatch):
    sentence = "the quick street"
    runs = {
        "additive-attention": _run("additive-attention", 0.8, [(sentence, "ethay ickquay eetstray")]),
        "gru-small": _run("gru-small", 0.1, [(sentence, "ethay ickay eetstray")]),
        "lstm-small": _run("lstm-small", 0.3, [(sentence, "ethay ickquay eetstray")]),
    }
    monkeypatch.setattr(answers, "runs", lambda ctx: runs)
    monkeypatch.setattr(answers, "read_pairs", lambda path: [Pair("quick", "ickquay"), Pair("the", "ethay")])  # "street" is not
    example = answers.attention_example(context, "gru")
    assert (example.source, example.with_attention, example.without_attention, example.where) == (
        "quick",
        "ickquay",
        "ickay",
        "training word",
    )
    # The LSTM decoder gets every training word right: the validation words are searched instead.
    monkeypatch.setattr(
        answers,
        "predictions",
        lambda ctx, run: pd.DataFrame(
            {
                "source": ["fox"],
                "target": ["oxfay"],
                "prediction": ["oxfay" if run.name == "additive-attention" else "foxay"],
                "correct": [run.name == "additive-attention"],
            }
        ),
    )
    example = answers.attention_example(context, "lstm")
    assert (example.source, example.without_attention, example.where) == ("fox", "foxay", "validation word")
