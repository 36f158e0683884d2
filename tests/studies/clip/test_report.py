"""The CLIP section's computed sentences and its answers, on results whose numbers are known
(a fake context: the runs are stand-ins, no MLflow store)."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from pipeline.answers.sentences import count_sentences
from pipeline.reporting import ReportContext
from pipeline.studies.clip.answers import ANSWERS, HEADING, SEARCH_HEADING
from pipeline.studies.clip.results import ClipResults, SearchSummary, search_comment, twin_summary, twin_verdict

TARGET = "two red circles at the top left on a white background"


@pytest.mark.parametrize(
    "accuracy, expected",
    [
        (0.5, "cannot be told apart from 0.5"),
        (0.54, "cannot be told apart from 0.5"),  # 2 standard errors at 400 trials: 0.0498
        (0.56, "below the goal"),
        (0.93, "cannot be told apart from the goal"),  # 2 x sqrt(0.93 x 0.07 / 400) = 0.0255 > 0.02
        (0.90, "below the goal"),  # 2 x 0.015 = 0.03 < 0.05
        (0.99, "reaches the goal"),  # 2 x 0.005 = 0.01 < 0.04
        (1.0, "reaches the goal"),  # the standard error never drops below sqrt(1/400) / sqrt(400) = 0.0025
    ],
)
def test_twin_verdict(accuracy, expected):
    assert twin_verdict(accuracy, 400, 0.95).startswith(expected)


def _search(**changes) -> SearchSummary:
    values = dict(
        caption="a red shape at the top left on a white background",
        slots=4,
        target_probability=0.49,
        margin=0.2,
        selects=True,
        scored=96,
        truth_checked=True,
        true=22,
        true_failing=21,
        false_selecting=0,
    )
    return SearchSummary(**(values | changes))


def _one_sentence(text: str) -> bool:
    return count_sentences(text) == 1


@pytest.mark.parametrize(
    "changes, words",
    [
        ({}, ["Hard:", "21 of the 22 true captions", "(of 96)", "no caption false of the target selected it", "(4 of 5 attributes)"]),
        ({"true_failing": 3}, ["Fairly straightforward:", "3 of the 22"]),
        ({"full_caption_rank": 3}, ["left a distractor on top (even the full caption leaves it at rank 3), since"]),
        ({"full_caption_rank": 1}, ["left a distractor on top, since"]),
        ({"true_failing": 0}, ["Straightforward: all 22 true captions"]),
        ({"false_selecting": 5}, ["and 5 captions false of the target selected it anyway"]),
        ({"selects": False, "true_failing": 22, "false_selecting": 7}, ["Hard: none of the 22 true captions", "and 7 captions false of"]),
        (
            {"truth_checked": False, "true": None, "true_failing": None, "false_selecting": None},
            ["scored 96 captions", "cannot be checked"],
        ),
    ],
)
def test_search_comment_is_one_sentence_from_the_counts(changes, words):
    text = search_comment(_search(**changes), 5)
    assert _one_sentence(text), text
    for word in words:
        assert word in text, (word, text)


def _results(twin: dict[str, float], search: SearchSummary | None = None, synthetic: bool = True) -> ClipResults:
    per_image = pd.DataFrame(
        {
            "file": ["00.png", "01.png", "02.png"],
            "is_target": [True, False, False],
            "scene": [
                TARGET,
                "one red circle at the top left on a white background",
                "two red circles at the top right on a white background",
            ],
        }
    )
    search = search or _search()
    per_image[search.caption] = [0.49, 0.29, 0.22]
    params = {
        "model": "attn-clip-tiny",
        "pretrained": "pipeline",
        "gallery": "None" if synthetic else "photos",
        "target": "00.png",
        "target_scene": TARGET,
    }
    prompt = SimpleNamespace(
        info=SimpleNamespace(run_name="prompt-attn-clip-tiny-pipeline"),
        data=SimpleNamespace(
            params=params, metrics={"gallery_images": 3, "logit_scale": 42.5, "captions_selecting_target": 1, "captions_tried": 4}
        ),
    )
    return ClipResults(
        train=None,
        prompt=prompt,
        twin=twin,
        twin_trials=400,
        goal=0.95,
        captions=pd.DataFrame(),
        trace=pd.DataFrame(),
        per_image=per_image,
        search=search,
    )


def test_twin_summary_names_what_falls_short():
    assert twin_summary(_results({"count": 0.97, "position": 0.99})) == (
        "Every attribute reaches the goal of 0.95; the weakest is count (0.970 over 400 trials)."
    )
    assert (
        twin_summary(_results({"count": 0.97, "position": 0.5})) == "Below the goal of 0.95 (400 trials per attribute): position (0.500)."
    )


def _context(results: ClipResults) -> ReportContext:
    context = ReportContext(root=None, out=None)
    context.memo("clip-results", lambda: results)  # what load_results would have read from MLflow
    return context


def test_answers_from_the_results():
    context = _context(_results({"count": 0.97}))
    assert set(ANSWERS) == {"A25-4.1", "A25-4.2a", "A25-4.2b", "A22-P4.2a"}  # A22-P4.1 and P4.2b repeat 4.1 and 4.2b

    intro = ANSWERS["A25-4.1"](context)
    assert "42.5 x cosine" in intro.text and "1 of the 4 captions" in intro.text and intro.link == HEADING
    assert "not OpenAI's ViT-B/32" in intro.text  # the offline model, said plainly

    caption = ANSWERS["A25-4.2a"](context)
    assert caption.text.startswith('Caption "a red shape at the top left on a white background": ')
    assert "probability 0.490 against 0.290 for the runner-up `01.png`" in caption.text  # 01 beats 02 (0.29 > 0.22)
    assert f"true of the target ({TARGET})" in caption.text
    assert "coral-reef" in caption.text and "`clip.model: ViT-B-32`" in caption.text and caption.link == SEARCH_HEADING
    assert dict(caption.numbers)["margin, run `prompt-attn-clip-tiny-pipeline`"] == "0.2000"

    butterfly = ANSWERS["A22-P4.2a"](context)
    assert "butterfly" in butterfly.text and "synthetic target by default" in butterfly.text

    account = ANSWERS["A25-4.2b"](context)
    assert account.text == search_comment(_search(), 5) and _one_sentence(account.text)
    assert dict(account.numbers) == {
        "captions scored, run `prompt-attn-clip-tiny-pipeline`": "96",
        "of those, true of the target, run `prompt-attn-clip-tiny-pipeline`": "22",
        "true captions not selecting the target, run `prompt-attn-clip-tiny-pipeline`": "21",
        "false captions selecting the target, run `prompt-attn-clip-tiny-pipeline`": "0",
    }


def test_answers_on_real_images_do_not_claim_the_synthetic_setting():
    search = _search(truth_checked=False, true=None, true_failing=None, false_selecting=None)
    context = _context(_results({"count": 0.97}, search, synthetic=False))
    caption = ANSWERS["A25-4.2a"](context)
    assert "Target: `00.png`" in caption.text and "synthetic" not in caption.text and "true of the target" not in caption.text
    assert "cannot be checked on real images" in ANSWERS["A25-4.2b"](context).text


def test_runs_from_before_the_diagnostic_are_named_not_misread():
    from pipeline.studies.clip.report import render
    from pipeline.studies.clip.results import OutdatedRuns

    context = ReportContext(root=None, out=None)
    context.memo("clip-results", lambda: OutdatedRuns("the runs predate it; `dvc repro clip_prompt` reruns `clip_train`"))
    assert render(context) == [f"## {HEADING}", "", "Not shown: the runs predate it; `dvc repro clip_prompt` reruns `clip_train`.", ""]
    for answer in ANSWERS.values():
        assert answer(context).text == "Not answered: the runs predate it; `dvc repro clip_prompt` reruns `clip_train`."
        assert answer(context).link == HEADING
