"""What the CLIP report section and its answers read from the MLflow runs behind the current
outputs, read once per report (`ctx.memo`), and the sentences computed from it. Light
imports only (no torch, no open_clip)."""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass

import pandas as pd

from pipeline.reporting import ReportContext, artifact_table
from pipeline.studies.clip import PIPELINE_WEIGHTS, PROMPT_RUN, STUDY, TRAIN_RUN
from pipeline.studies.clip.diagnostic import METRIC_PREFIX

SPREAD_SE = 2  # a measured accuracy within this many standard errors of a reference cannot be told apart from it


@dataclass(frozen=True)
class SearchSummary:
    """The caption search of the prompt run, as counted by the stage."""

    caption: str
    slots: int  # attributes the caption found names
    target_probability: float
    margin: float
    selects: bool
    scored: int
    truth_checked: bool  # the target's scene is known (synthetic gallery)
    true: int | None  # captions scored that are true of the target
    true_failing: int | None  # of those, how many leave another image the argmax
    false_selecting: int | None  # captions false of the target that select it anyway
    full_caption_rank: int | None = None  # the target's rank under its own full caption, where it was scored


@dataclass(frozen=True)
class ClipResults:
    train: object  # the MLflow run of clip_train
    prompt: object  # the MLflow run of clip_prompt
    twin: dict[str, float]  # attribute -> twin accuracy
    twin_trials: int  # trials per attribute
    goal: float
    captions: pd.DataFrame  # the prompt run's caption_scores table
    trace: pd.DataFrame  # every caption the search scored
    per_image: pd.DataFrame  # each gallery image's probability under each caption shown
    search: SearchSummary

    @property
    def pipeline_weights(self) -> bool:
        return self.prompt.data.params.get("pretrained") == PIPELINE_WEIGHTS

    @property
    def synthetic_gallery(self) -> bool:
        return self.prompt.data.params.get("gallery") == "None"

    def runner_up(self) -> pd.Series:
        """The gallery image with the highest probability under the caption found, the target left out."""
        others = self.per_image[~self.per_image["is_target"].astype(bool)]
        return others.loc[others[self.search.caption].idxmax()]


class OutdatedRuns(Exception):
    """The runs behind the current outputs predate the attribute diagnostic or the truth check."""


# What the current code records, by run: a run without them was made by older code.
RECORDED = {"clip_train": "twin_trials_per_attribute", "clip_prompt": "search_truth_checked"}


def load_results(ctx: ReportContext) -> ClipResults:
    """The results, read once per report; `OutdatedRuns` names the stages to rerun."""
    results = ctx.memo("clip-results", lambda: _load(ctx))
    if isinstance(results, OutdatedRuns):
        raise results
    return results


def _load(ctx: ReportContext) -> ClipResults | OutdatedRuns:
    client = ctx.client
    train = ctx.run_for(STUDY, TRAIN_RUN, "clip_train")
    prompt = ctx.run_for(STUDY, PROMPT_RUN, "clip_prompt", lineage=[STUDY.paths(PROMPT_RUN).metrics_file])
    m, p = train.data.metrics, prompt.data.metrics
    stale = [stage for stage, run in (("clip_train", train), ("clip_prompt", prompt)) if RECORDED[stage] not in run.data.metrics]
    if stale:
        return OutdatedRuns(
            f"the runs behind the current outputs predate the attribute diagnostic and the true-caption search; "
            f"`dvc repro {stale[-1]}` reruns {' and '.join(f'`{s}`' for s in stale)}"
        )
    attributes = ast.literal_eval(train.data.params["diagnostic.attributes"])  # in the params' order
    checked = bool(p["search_truth_checked"])
    captions = artifact_table(client, prompt.info.run_id, "tables/caption_scores.json")
    trace = artifact_table(client, prompt.info.run_id, "tables/search_trace.json")
    full = pd.concat([captions, trace])
    full = full[full["caption"] == prompt.data.params.get("target_scene")]  # the target's full caption (synthetic gallery)
    search = SearchSummary(
        caption=prompt.data.tags.get("search_caption", ""),
        slots=int(p["search_caption_slots"]),
        target_probability=p["search_target_probability"],
        margin=p["search_margin"],
        selects=bool(p["search_selects_target"]),
        scored=int(p["search_captions_scored"]),
        truth_checked=checked,
        true=int(p["search_true_captions"]) if checked else None,
        true_failing=int(p["search_true_captions_failing"]) if checked else None,
        false_selecting=int(p["search_false_captions_selecting"]) if checked else None,
        full_caption_rank=int(full["target_rank"].iloc[0]) if len(full) else None,
    )
    return ClipResults(
        train=train,
        prompt=prompt,
        twin={attribute: m[f"{METRIC_PREFIX}{attribute}"] for attribute in attributes},
        twin_trials=int(m["twin_trials_per_attribute"]),
        goal=float(train.data.params["diagnostic.goal"]),
        captions=captions,
        trace=trace,
        per_image=artifact_table(client, prompt.info.run_id, "tables/gallery_probabilities.json"),
        search=search,
    )


# --------------------------------------------------------------------- sentences


def standard_error(accuracy: float, trials: int) -> float:
    """Binomial standard error of an accuracy measured on `trials` trials."""
    return math.sqrt(max(accuracy * (1 - accuracy), 1 / trials) / trials)  # never 0: 400/400 is not certainty


def twin_verdict(accuracy: float, trials: int, goal: float) -> str:
    """Where one attribute's twin accuracy stands: against chance (0.5) and against the goal."""
    spread = SPREAD_SE * standard_error(accuracy, trials)
    if abs(accuracy - 0.5) <= spread:
        return "cannot be told apart from 0.5: the model ignores it"
    if abs(accuracy - goal) <= spread:
        return f"cannot be told apart from the goal {goal:g} (within {SPREAD_SE} standard errors)"
    return f"reaches the goal {goal:g}" if accuracy > goal else f"below the goal {goal:g}"


def twin_summary(results: ClipResults) -> str:
    """One sentence on the diagnostic as a whole, from the per-attribute accuracies."""
    below = {a: v for a, v in results.twin.items() if v < results.goal}
    if not below:
        weakest = min(results.twin, key=results.twin.get)
        return (
            f"Every attribute reaches the goal of {results.goal:g}; the weakest is {weakest} "
            f"({results.twin[weakest]:.3f} over {results.twin_trials} trials)."
        )
    listed = ", ".join(f"{a} ({v:.3f})" for a, v in below.items())
    return f"Below the goal of {results.goal:g} ({results.twin_trials} trials per attribute): {listed}."


def search_comment(search: SearchSummary, attributes: int) -> str:
    """The one-sentence account of the caption search (A25-4.2b), computed from its counts."""
    found = f'"{search.caption}" ({search.slots} of {attributes} attributes)'
    if not search.truth_checked:
        outcome = f"found {found}, which selects the target" if search.selects else "found no caption that selects the target"
        return f"The search scored {search.scored} captions and {outcome}; whether they are true of the target cannot be checked on real images."
    confusion = (
        f"and {search.false_selecting} captions false of the target selected it anyway, so the model still misreads an attribute"
        if search.false_selecting
        else "and no caption false of the target selected it"
    )
    if not search.selects:
        return f"Hard: none of the {search.true} true captions the search scored (of {search.scored}) made the model pick the target, {confusion}."
    if search.true_failing == 0:
        return f"Straightforward: all {search.true} true captions the search scored (of {search.scored}) selected the target, {confusion}; it kept {found}."
    verdict = "Hard" if 2 * search.true_failing > search.true else "Fairly straightforward"
    misread = (
        f" (even the full caption leaves it at rank {search.full_caption_rank})"
        if search.full_caption_rank is not None and search.full_caption_rank > 1
        else ""
    )
    return (
        f"{verdict}: {search.true_failing} of the {search.true} true captions the search scored (of {search.scored}) "
        f"left a distractor on top{misread}, since each distractor differs from the target in one attribute and a caption "
        f"that leaves that attribute out fits it as well, {confusion}; the shortest true caption that selects it is {found}."
    )
