"""The prompting task (stage `clip_prompt`): score the captions from params against a
gallery, search for a short caption that selects the target, write outputs, track.

Works the same with the in-pipeline model on the synthetic gallery and with a real CLIP
(e.g. ViT-B-32 with OpenAI weights) on a folder of images.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from pipeline.core.errors import PipelineError
from pipeline.core.io import write_json
from pipeline.core.params import SharedParams
from pipeline.core.paths import project_root
from pipeline.core.runtime import select_device
from pipeline.core.tracked_run import TrackedRun
from pipeline.studies.clip import PIPELINE_WEIGHTS, PROMPT_RUN, STUDY, TRAIN_RUN
from pipeline.studies.clip.gallery import Gallery
from pipeline.studies.clip.models import CHECKPOINT_NAME, create
from pipeline.studies.clip.params import ClipParams
from pipeline.studies.clip.scenes import Scene, parse_caption
from pipeline.studies.clip.scoring import CaptionScores, GalleryScorer
from pipeline.studies.clip.search import SearchCounts, SearchResult, search_caption, true_of


def caption_truth(caption: str, target_scene: Scene | None) -> bool | None:
    """Whether a caption is true of the target; None where that cannot be told (real
    images, or a caption outside the scene grammar)."""
    attributes = parse_caption(caption)
    return None if target_scene is None or attributes is None else true_of(target_scene, attributes)


def caption_table(scores: CaptionScores, gallery: Gallery, target_scene: Scene | None) -> pd.DataFrame:
    """One row per caption: whether it is true of the target, where the target lands and
    which image the caption selects."""
    chosen = scores.chosen()
    return pd.DataFrame(
        {
            "caption": scores.captions,
            "true_of_target": [caption_truth(caption, target_scene) for caption in scores.captions],
            "target_rank": scores.rank_of(gallery.target),
            "target_probability": scores.probabilities[:, gallery.target],
            "margin": scores.margin_of(gallery.target),
            "chosen_image": [gallery.files[i] for i in chosen],
            "chosen_probability": scores.probabilities[np.arange(len(chosen)), chosen],
        }
    )


def gallery_figure(gallery: Gallery, probabilities: np.ndarray, caption: str):
    """The gallery, each image titled with its probability for `caption`; the target framed
    in green, the selected image (if another) in red."""
    import matplotlib.pyplot as plt

    columns = min(8, len(gallery.files))
    rows = -(-len(gallery.files) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(1.6 * columns, 1.9 * rows + 0.6), squeeze=False)
    chosen = int(probabilities.argmax())
    for axis in axes.flat:
        axis.axis("off")
    for i, (axis, name, image) in enumerate(zip(axes.flat, gallery.files, gallery.images)):
        axis.imshow(image, interpolation="nearest" if image.width < 96 else "antialiased")  # tiny scenes: crisp pixels
        label = "target" if i == gallery.target else name
        axis.set_title(f"{label}\np={probabilities[i]:.3f}", fontsize=8, fontweight="bold" if i == chosen else "normal")
        if i in (gallery.target, chosen):
            axis.axis("on")
            axis.set_xticks([])
            axis.set_yticks([])
            for spine in axis.spines.values():
                spine.set_color("green" if i == gallery.target else "red")
                spine.set_linewidth(3)
    figure.suptitle(f'"{caption}"', fontsize=10)
    figure.tight_layout()
    return figure


def run_prompting(*, shared: SharedParams, clip: ClipParams, gallery: Gallery, drawn: dict[str, Scene] | None) -> None:
    """`drawn`: the scene of every gallery file where the gallery is synthetic (None: real images)."""
    started = time.perf_counter()
    target_scene = drawn[gallery.files[gallery.target]] if drawn is not None else None
    root = project_root()
    device = select_device(shared.device)
    checkpoint_dir = root / STUDY.paths(TRAIN_RUN).output_dir
    pretrained = str(checkpoint_dir / CHECKPOINT_NAME) if clip.pretrained == PIPELINE_WEIGHTS else clip.pretrained
    if clip.pretrained == PIPELINE_WEIGHTS and not Path(pretrained).is_file():
        raise PipelineError(f"{pretrained}: missing; run `dvc repro clip_train` first")
    logging.getLogger().setLevel(logging.ERROR)  # open_clip logs its loading steps on the root logger
    model, preprocess, tokenizer = create(clip.model, pretrained, clip.allow_download, device)

    images = torch.stack([preprocess(image) for image in gallery.images])  # (N, 3, H, W)
    scorer = GalleryScorer(model, tokenizer, images)
    given = caption_table(scorer(list(clip.captions)), gallery, target_scene)
    result: SearchResult = search_caption(scorer, gallery.target, clip.search.beam_width, clip.search.min_margin, target_scene)
    counts = SearchCounts.of(result.trace)
    found_scores = scorer([result.caption])
    captions_shown = list(clip.captions) + [result.caption]
    per_image = pd.DataFrame({"file": gallery.files, "is_target": [i == gallery.target for i in range(len(gallery.files))]})
    if drawn is not None:
        per_image["scene"] = [drawn[file].caption() for file in gallery.files]
    for caption, row in zip(captions_shown, scorer(captions_shown).probabilities):
        per_image[caption] = row

    # Counted only where the target's scene is known (the synthetic gallery).
    truth_counts = {
        "search_true_captions": counts.true,
        "search_true_captions_failing": counts.true_failing,
        "search_false_captions_selecting": counts.false_selecting,
    }
    metrics = {
        "gallery_images": len(gallery.files),
        "logit_scale": scorer.scale,
        "captions_selecting_target": int((given["target_rank"] == 1).sum()),
        "captions_tried": len(given),
        "search_caption": result.caption,
        "search_caption_slots": len(result.attributes),
        "search_target_probability": result.target_probability,
        "search_margin": result.margin,
        "search_selects_target": result.selects_target,
        "search_captions_scored": result.captions_scored,
        "search_truth_checked": int(target_scene is not None),
        **(truth_counts if target_scene is not None else {}),
        "captions": {
            row.caption: {
                "true_of_target": row.true_of_target,
                "target_rank": int(row.target_rank),
                "target_probability": float(row.target_probability),
            }
            for row in given.itertuples()
        },
    }
    figure = gallery_figure(gallery, found_scores.probabilities[0], result.caption)

    paths = STUDY.paths(PROMPT_RUN)
    with TrackedRun(
        STUDY,
        PROMPT_RUN,
        stage="clip_prompt",
        shared=shared,
        dataset="synthetic-gallery" if clip.gallery is None else f"folder:{gallery.folder.name}",
        model=f"{clip.model}/{clip.pretrained}",
        lineage=[paths.metrics_file],
        run_name=f"{PROMPT_RUN}-{clip.model}-{Path(clip.pretrained).name}",
    ) as run:
        run.tracker.log_params(
            {"model": clip.model, "pretrained": clip.pretrained, "gallery": str(clip.gallery), "target": gallery.files[gallery.target]}
            | {"target_scene": target_scene.caption() if target_scene is not None else "unknown (real images)"}
            | {"search": clip.search.model_dump(), "captions": " | ".join(clip.captions), "device": str(device)}
        )
        with run.outputs(clear=[paths.output_dir, paths.metrics_file]) as out:
            folder = out.path(paths.output_dir)
            folder.mkdir(parents=True)
            given.to_csv(folder / "caption_scores.csv", index=False, float_format="%.6g")
            per_image.to_csv(folder / "gallery_probabilities.csv", index=False, float_format="%.6g")
            result.trace.to_csv(folder / "search_trace.csv", index=False, float_format="%.6g")
            figure.savefig(folder / "gallery.png", dpi=110, metadata={"Software": None})
            write_json(out.path(paths.metrics_file), metrics)

        run.log_summary(metrics)
        run.tracker.set_tags({"search_caption": result.caption})
        run.tracker.log_table(given, "tables/caption_scores.json")
        run.tracker.log_table(per_image, "tables/gallery_probabilities.json")
        run.tracker.log_table(result.trace, "tables/search_trace.json")
        run.log_figure(figure, "figures/gallery.png")
        print(
            f"clip_prompt: {clip.model}/{clip.pretrained} on {len(gallery.files)} images; "
            f"{metrics['captions_selecting_target']}/{len(given)} given captions select the target; "
            f'search found "{result.caption}" (target p={result.target_probability:.3f}, margin {result.margin:.3f}, '
            f"selects target: {result.selects_target}, {result.captions_scored} captions scored"
            + (
                f", {counts.true} of them true of the target, {counts.true_failing} of those not selecting it, "
                f"{counts.false_selecting} false ones selecting it"
                if target_scene is not None
                else ", truth not checked (real images)"
            )
            + "); "
            f"{time.perf_counter() - started:.1f}s after imports",
            file=sys.stderr,
        )
