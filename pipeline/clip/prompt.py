"""The prompting task (stage `clip_prompt`): score the captions from params against a
gallery, search for a short caption that selects the target, write outputs, track.

Works the same with the in-pipeline model on the synthetic gallery and with a real CLIP
(e.g. ViT-B-32 with OpenAI weights) on a folder of images.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from pipeline.clip import PIPELINE_WEIGHTS
from pipeline.clip.gallery import Gallery
from pipeline.clip.models import CHECKPOINT_NAME, create
from pipeline.clip.scoring import CaptionScores, GalleryScorer
from pipeline.clip.search import SearchResult, search_caption
from pipeline.errors import PipelineError
from pipeline.io import staged_outputs, write_json
from pipeline.lineage import OUTPUTS_TAG, outputs_fingerprint
from pipeline.params import Params
from pipeline.paths import project_root
from pipeline.runtime import select_device
from pipeline.tracking import RunTracker, git_commit


def caption_table(scores: CaptionScores, gallery: Gallery) -> pd.DataFrame:
    """One row per caption: where the target lands and which image the caption selects."""
    chosen = scores.chosen()
    return pd.DataFrame(
        {
            "caption": scores.captions,
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


def run_prompting(*, params: Params, gallery: Gallery, checkpoint_dir: Path, experiment: str, output_dir: Path,
                  metrics_file: Path) -> None:
    started = time.perf_counter()
    clip = params.clip
    device = select_device(params.device)
    pretrained = str(checkpoint_dir / CHECKPOINT_NAME) if clip.pretrained == PIPELINE_WEIGHTS else clip.pretrained
    if clip.pretrained == PIPELINE_WEIGHTS and not Path(pretrained).is_file():
        raise PipelineError(f"{pretrained}: missing; run `dvc repro clip_train` first")
    logging.getLogger().setLevel(logging.ERROR)  # open_clip logs its loading steps on the root logger
    model, preprocess, tokenizer = create(clip.model, pretrained, clip.allow_download, device)

    images = torch.stack([preprocess(image) for image in gallery.images])  # (N, 3, H, W)
    scorer = GalleryScorer(model, tokenizer, images)
    given = caption_table(scorer(list(clip.captions)), gallery)
    result: SearchResult = search_caption(scorer, gallery.target, clip.search.beam_width, clip.search.min_margin)
    found_scores = scorer([result.caption])
    captions_shown = list(clip.captions) + [result.caption]
    per_image = pd.DataFrame({"file": gallery.files, "is_target": [i == gallery.target for i in range(len(gallery.files))]})
    for caption, row in zip(captions_shown, scorer(captions_shown).probabilities):
        per_image[caption] = row

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
        "captions": {
            row.caption: {"target_rank": int(row.target_rank), "target_probability": float(row.target_probability)}
            for row in given.itertuples()
        },
    }
    figure = gallery_figure(gallery, found_scores.probabilities[0], result.caption)

    commit, dirty = git_commit()
    tags = {
        "git_commit": commit,
        "git_dirty": str(dirty).lower(),
        "dvc_stage": os.environ.get("DVC_STAGE", "clip_prompt"),
        "dataset": "synthetic-gallery" if clip.gallery is None else f"folder:{gallery.folder.name}",
        "profile": params.profile,
        "model": f"{clip.model}/{clip.pretrained}",
    }
    with RunTracker(experiment, f"prompt-{clip.model}-{Path(clip.pretrained).name}", tags) as tracker:
        tracker.log_params(
            {"model": clip.model, "pretrained": clip.pretrained, "gallery": str(clip.gallery), "target": gallery.files[gallery.target]}
            | {"search": clip.search.model_dump(), "captions": " | ".join(clip.captions), "device": str(device)}
        )
        root = project_root()
        with staged_outputs(root, clear=[output_dir, metrics_file]) as out:
            folder = out.path(output_dir)
            folder.mkdir(parents=True)
            given.to_csv(folder / "caption_scores.csv", index=False, float_format="%.6g")
            per_image.to_csv(folder / "gallery_probabilities.csv", index=False, float_format="%.6g")
            result.trace.to_csv(folder / "search_trace.csv", index=False, float_format="%.6g")
            figure.savefig(folder / "gallery.png", dpi=110, metadata={"Software": None})
            write_json(out.path(metrics_file), metrics)

        numeric = {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float, bool))}
        tracker.log_metrics(numeric)
        tracker.set_tags({"search_caption": result.caption})
        tracker.log_table(given, "tables/caption_scores.json")
        tracker.log_table(per_image, "tables/gallery_probabilities.json")
        tracker.log_table(result.trace, "tables/search_trace.json")
        tracker.log_figure(figure, "figures/gallery.png")
        tracker.set_tags({OUTPUTS_TAG: outputs_fingerprint(metrics_file)})

    print(
        f"clip_prompt: {clip.model}/{clip.pretrained} on {len(gallery.files)} images; "
        f"{metrics['captions_selecting_target']}/{len(given)} given captions select the target; "
        f'search found "{result.caption}" (target p={result.target_probability:.3f}, margin {result.margin:.3f}, '
        f"selects target: {result.selects_target}, {result.captions_scored} captions scored); "
        f"{time.perf_counter() - started:.1f}s after imports",
        file=sys.stderr,
    )
    if tracker.failures:
        raise PipelineError(
            f"clip_prompt: outputs are written, but MLflow did not record everything ({tracker.failure_summary()}); rerun the stage"
        )
