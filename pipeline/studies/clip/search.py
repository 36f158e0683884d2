"""Automatic caption search: a short caption from the scene grammar that makes CLIP pick
the target image.

The grammar (pipeline/studies/clip/scenes.py) has five optional slots (count, colour, shape,
position, background). A candidate caption is a partial assignment {slot: value}. The
search is a beam search over caption length, i.e. over the number of slots named:

1. Length 0 is the bare caption "a shape".
2. From every caption kept at length k, build every caption of length k+1 that names one
   more slot, with every value of that slot's vocabulary (the target's attributes are not
   assumed known, so this also works on a folder of real images).
3. Score all of them against the gallery (softmax over images of logit scale x cosine)
   by their margin: the target's probability minus the best other image's (> 0: the
   target is the argmax). If any reaches `min_margin` (and is positive), stop: the answer
   is the one with the largest margin among them, so the caption found is the shortest
   the search could find.
4. Otherwise keep the `beam_width` captions with the largest margins and go on. (The
   margin, not the target's probability, is what decides the argmax: a caption can raise
   the target's probability while raising a distractor's even more.)

If even five slots do not select the target, the caption with the largest margin seen is
returned with `selects_target = False`. Every caption scored is
recorded in the trace (one row each), which the stage logs to MLflow as a table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from pipeline.studies.clip.scenes import SLOTS, VOCABULARY, render_caption
from pipeline.studies.clip.scoring import CaptionScores

Scorer = Callable[[list[str]], CaptionScores]  # captions -> (T, N) probabilities over the gallery


@dataclass
class SearchResult:
    caption: str
    attributes: dict[str, object]  # the slots the caption names
    target_probability: float
    margin: float  # target probability minus the best other image's
    selects_target: bool
    captions_scored: int
    trace: pd.DataFrame  # length, caption, target_probability, target_rank, margin, selects_target, kept


def search_caption(score: Scorer, target: int, beam_width: int, min_margin: float) -> SearchResult:
    beam: list[dict[str, object]] = [{}]
    rows: list[dict] = []
    best: dict | None = None
    for length in range(len(SLOTS) + 1):
        candidates = [{}] if length == 0 else _extensions(beam)
        captions = [render_caption(c) for c in candidates]
        scores = score(captions)
        probability, margin = scores.probabilities[:, target], scores.margin_of(target)
        rank = scores.rank_of(target)
        step = [
            {
                "length": length,
                "caption": caption,
                "target_probability": float(probability[i]),
                "target_rank": int(rank[i]),
                "margin": float(margin[i]),
                "selects_target": bool(margin[i] > 0 and margin[i] >= min_margin),
                "attributes": candidates[i],
            }
            for i, caption in enumerate(captions)
        ]
        # Largest margin first; ties broken by caption text so the search is deterministic.
        step.sort(key=lambda row: (-row["margin"], row["caption"]))
        for i, row in enumerate(step):
            row["kept"] = i < beam_width
        rows += step
        if best is None or step[0]["margin"] > best["margin"]:
            best = step[0]
        winners = [row for row in step if row["selects_target"]]
        if winners:
            best = winners[0]
            break
        beam = [row["attributes"] for row in step[:beam_width]]

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
