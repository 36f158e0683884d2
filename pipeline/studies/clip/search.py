"""Automatic caption search: a short caption from the scene grammar that makes CLIP pick
the target image.

The grammar (pipeline/studies/clip/scenes.py) has five optional slots (count, colour, shape,
position, background). A candidate caption is a partial assignment {slot: value}. The
search is a beam search over caption length, i.e. over the number of slots named:

1. Length 0 is the bare caption "a shape".
2. From every caption kept at length k, build every caption of length k+1 that names one
   more slot, with every value of that slot's vocabulary (so the search also runs on a
   folder of real images, whose attributes it does not know).
3. Score all of them against the gallery (softmax over images of logit scale x cosine)
   by their margin: the target's probability minus the best other image's (> 0: the
   target is the argmax). If any reaches `min_margin` (and is positive) and is true of the
   target, stop: the answer is the one with the largest margin among them, so the caption
   found is the shortest the search could find.
4. Otherwise keep the `beam_width` captions with the largest margins (false ones left out)
   and go on. (The margin, not the target's probability, is what decides the argmax: a
   caption can raise the target's probability while raising a distractor's even more.)

A caption counts as found only if every slot it names is true of the target: a model that
ignores an attribute would otherwise "find" "two circles at the top right" for circles at
the top left. The target's scene is known for the synthetic gallery; for a folder of real
images it is not (`target_scene=None`) and the search accepts on the margin alone (the
trace's `true_of_target` is then empty).

If even five slots do not select the target, the (true) caption with the largest margin
seen is returned with `selects_target = False`. Every caption scored is recorded in the trace (one
row each), which the stage logs to MLflow as a table; `SearchCounts` sums it up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from pipeline.studies.clip.scenes import SLOTS, VOCABULARY, Scene, render_caption
from pipeline.studies.clip.scoring import CaptionScores

Scorer = Callable[[list[str]], CaptionScores]  # captions -> (T, N) probabilities over the gallery


@dataclass
class SearchResult:
    caption: str
    attributes: dict[str, object]  # the slots the caption names
    target_probability: float
    margin: float  # target probability minus the best other image's
    selects_target: bool  # the margin criterion holds and the caption is true of the target (where known)
    captions_scored: int
    trace: pd.DataFrame  # length, caption, true_of_target, target_probability, target_rank, margin, selects_target, kept


@dataclass(frozen=True)
class SearchCounts:
    """What the search met on its way, from its trace."""

    scored: int  # captions scored
    true: int  # of those, captions true of the target
    true_failing: int  # true captions under which the target is not the gallery's argmax
    false_selecting: int  # captions false of the target under which it is the argmax anyway

    @classmethod
    def of(cls, trace: pd.DataFrame) -> SearchCounts:
        true = trace["true_of_target"] == True  # noqa: E712 - None (unknown) is neither
        false = trace["true_of_target"] == False  # noqa: E712
        selected = trace["target_rank"] == 1
        return cls(len(trace), int(true.sum()), int((true & ~selected).sum()), int((false & selected).sum()))


def true_of(scene: Scene, attributes: dict[str, object]) -> bool:
    """Whether every slot a caption names has the scene's value."""
    return all(getattr(scene, slot) == value for slot, value in attributes.items())


def search_caption(score: Scorer, target: int, beam_width: int, min_margin: float, target_scene: Scene | None = None) -> SearchResult:
    beam: list[dict[str, object]] = [{}]
    rows: list[dict] = []
    best: dict | None = None
    for length in range(len(SLOTS) + 1):
        candidates = [{}] if length == 0 else _extensions(beam)
        captions = [render_caption(c) for c in candidates]
        scores = score(captions)
        probability, margin = scores.probabilities[:, target], scores.margin_of(target)
        rank = scores.rank_of(target)
        truth = [None if target_scene is None else true_of(target_scene, c) for c in candidates]
        step = [
            {
                "length": length,
                "caption": caption,
                "true_of_target": truth[i],
                "target_probability": float(probability[i]),
                "target_rank": int(rank[i]),
                "margin": float(margin[i]),
                "selects_target": bool(margin[i] > 0 and margin[i] >= min_margin and truth[i] is not False),
                "attributes": candidates[i],
            }
            for i, caption in enumerate(captions)
        ]
        # Largest margin first; ties broken by caption text so the search is deterministic.
        step.sort(key=lambda row: (-row["margin"], row["caption"]))
        # A caption false of the target is scored (and counted) but never kept nor returned:
        # naming one more slot cannot make it true.
        eligible = [row for row in step if row["true_of_target"] is not False]
        for row in step:
            row["kept"] = False
        for row in eligible[:beam_width]:
            row["kept"] = True
        rows += step
        if best is None or eligible[0]["margin"] > best["margin"]:
            best = eligible[0]
        winners = [row for row in eligible if row["selects_target"]]
        if winners:
            best = winners[0]
            break
        beam = [row["attributes"] for row in eligible[:beam_width]]

    trace = pd.DataFrame(rows).drop(columns="attributes")
    return SearchResult(
        caption=best["caption"],
        attributes=best["attributes"],
        target_probability=best["target_probability"],
        margin=best["margin"],
        selects_target=best["selects_target"],
        captions_scored=len(trace),
        trace=trace,
    )


def _extensions(beam: list[dict[str, object]]) -> list[dict[str, object]]:
    """Every caption naming one more slot than a caption in the beam (duplicates removed)."""
    seen: set[tuple] = set()
    out = []
    for partial in beam:
        for slot in SLOTS:
            if slot in partial:
                continue
            for value in VOCABULARY[slot]:
                extended = {s: v for s, v in {**partial, slot: value}.items()}
                key = tuple(sorted((s, str(v)) for s, v in extended.items()))
                if key not in seen:
                    seen.add(key)
                    out.append(extended)
    return out
