"""Answers to the CLIP questions (A25-4.x, A22-P4.x), computed from the runs behind the
current outputs (`results.load_results`, shared with the report section). Light imports only."""

from __future__ import annotations

import functools
from collections.abc import Callable

from pipeline.reporting import Answer, AnswerFunction, ReportContext
from pipeline.studies.clip.results import ClipResults, OutdatedRuns, load_results, search_comment
from pipeline.studies.clip.scenes import SLOTS

HEADING = "CLIP prompting (MLflow experiment `clip`)"  # report.md headings the answers rest on
SEARCH_HEADING = "Caption found by the search"
HUB_OVERRIDE = (
    "`clip.model: ViT-B-32`, `clip.pretrained: openai` (with `clip.allow_download: true` or cached weights), "
    "`clip.gallery: <folder of the candidate images>` and `clip.target: <the target's file>`"
)


def _setting(results: ClipResults) -> str:
    p = results.prompt.data.params
    model = f"`{p.get('model')}`/`{p.get('pretrained')}`"
    if results.pipeline_weights:
        model += " (the small CLIP `clip_train` trains offline, not OpenAI's ViT-B/32)"
    gallery = "the synthetic gallery" if results.synthetic_gallery else f"the gallery `{p.get('gallery')}`"
    return f"{model} on {gallery} of {int(results.prompt.data.metrics['gallery_images'])} images"


def _run(results: ClipResults) -> str:
    return f"run `{results.prompt.info.run_name}`"


def introduction(ctx: ReportContext) -> Answer:
    """A25-4.1 (run only; A22-P4.1 repeats it): the notebook's scoring, run by `clip_prompt`."""
    results = load_results(ctx)
    m = results.prompt.data.metrics
    selecting, tried = int(m["captions_selecting_target"]), int(m["captions_tried"])
    text = (
        f"Run by the `clip_prompt` stage with the notebook's scoring (L2-normalised features, softmax over the gallery of "
        f"{m['logit_scale']:.1f} x cosine similarity, argmax) on {_setting(results)}: {selecting} of the {tried} captions "
        f"of `clip.captions` select the target."
    )
    numbers = (
        (f"logit scale, {_run(results)}", f"{m['logit_scale']:.1f}"),
        (f"captions of `clip.captions` selecting the target, {_run(results)}", f"{selecting}/{tried}"),
    )
    return Answer(text, numbers, link=HEADING)


def _evidence(results: ClipResults) -> tuple[str, tuple[tuple[str, str], ...]]:
    search = results.search
    runner_up = results.runner_up()
    name = f"`{runner_up['file']}`" + (f" ({runner_up['scene']})" if "scene" in runner_up else "")
    truth = f", and it is true of the target ({results.prompt.data.params.get('target_scene')})" if search.truth_checked else ""
    if search.selects:
        evidence = (
            f'Caption "{search.caption}": on {_setting(results)} the target gets probability {search.target_probability:.3f} '
            f"against {runner_up[search.caption]:.3f} for the runner-up {name} (margin {search.margin:.3f}){truth}."
        )
    else:
        evidence = (
            f'No caption the search scored selects the target; the best true one, "{search.caption}", leaves it at '
            f"{search.target_probability:.3f} against {runner_up[search.caption]:.3f} for {name}."
        )
    numbers = (
        (f"target probability under the caption found, {_run(results)}", f"{search.target_probability:.4f}"),
        (f"runner-up probability ({runner_up['file']}), {_run(results)}", f"{runner_up[search.caption]:.4f}"),
        (f"margin, {_run(results)}", f"{search.margin:.4f}"),
    )
    return evidence, numbers


def caption(absent: str, target_note: str = "") -> AnswerFunction:
    """A25-4.2a / A22-P4.2a: the caption and the evidence that CLIP selects the target. The versions differ only
    in their target: `absent` says that it is not in this offline project (the default, synthetic run) and how to
    run on it; `target_note` follows the target's file when the run prompts for a real one."""

    def answer(ctx: ReportContext) -> Answer:
        results = load_results(ctx)
        evidence, numbers = _evidence(results)
        if results.synthetic_gallery:
            where = f" {absent}"
        else:
            where = f" Target: `{results.prompt.data.params.get('target')}`{target_note}."
        return Answer(evidence + where, numbers, link=SEARCH_HEADING)

    return answer


caption_2025 = caption(
    "The handout's target (Figure 7, a coral-reef photo) is not in this offline project, so the default run "
    f"prompts for a synthetic target; {HUB_OVERRIDE} run the same stage on the handout's images."
)
caption_2022 = caption(
    "The 2022 target (Figure 8, a butterfly on a flower) is not in this offline project either: the pipeline "
    f"prompts for a synthetic target by default, and {HUB_OVERRIDE} point it at the 2022 images.",
    target_note=" (the 2022 target is Figure 8, a butterfly on a flower)",
)


def search_account(ctx: ReportContext) -> Answer:
    """A25-4.2b (A22-P4.2b repeats it): one sentence on how the search went, from its counts."""
    results = load_results(ctx)
    search = results.search
    numbers = ((f"captions scored, {_run(results)}", str(search.scored)),)
    if search.truth_checked:
        numbers += (
            (f"of those, true of the target, {_run(results)}", str(search.true)),
            (f"true captions not selecting the target, {_run(results)}", str(search.true_failing)),
            (f"false captions selecting the target, {_run(results)}", str(search.false_selecting)),
        )
    return Answer(search_comment(search, len(SLOTS)), numbers, link=SEARCH_HEADING)


def _unless_outdated(answer: Callable[[ReportContext], Answer]) -> Callable[[ReportContext], Answer]:
    """`answer`, or a line naming the stages to rerun when the current runs predate what it reads
    (the section then shows only its heading and that line)."""

    @functools.wraps(answer)
    def guarded(ctx: ReportContext) -> Answer:
        try:
            return answer(ctx)
        except OutdatedRuns as outdated:
            return Answer(f"Not answered: {outdated}.", link=HEADING)

    return guarded


# A22-P4.1 and A22-P4.2b are "same as" A25-4.1 and A25-4.2b: the answer sheet repeats those.
ANSWERS = {
    "A25-4.1": _unless_outdated(introduction),
    "A25-4.2a": _unless_outdated(caption_2025),
    "A25-4.2b": _unless_outdated(search_account),
    "A22-P4.2a": _unless_outdated(caption_2022),
}
