"""Report section for CLIP prompting, read from the MLflow runs (experiment `clip`) that
produced the current metrics files. Light imports only (no torch, no open_clip)."""

from __future__ import annotations

import shutil
import tempfile

import pandas as pd

from pipeline.core import figures
from pipeline.reporting import (
    FIGURES,
    TABLES,
    ReportContext,
    Section,
    artifact_table,
    metric_curve,
)
from pipeline.studies.clip import PROMPT_RUN, STUDY, TRAIN_RUN
from pipeline.studies.clip.figures import training_figure


def render(ctx: ReportContext) -> list[str]:
    client, out = ctx.client, ctx.out
    train = ctx.run_for(STUDY, TRAIN_RUN, "clip_train")
    prompt = ctx.run_for(STUDY, PROMPT_RUN, "clip_prompt", lineage=[STUDY.paths(PROMPT_RUN).metrics_file])

    curve = metric_curve(client, train.info.run_id, ("train_loss", "val_loss", "val_retrieval_top1"))
    figures.save(training_figure(curve), out.path(FIGURES / "clip_training.png"))
    with tempfile.TemporaryDirectory() as scratch:
        gallery_png = client.download_artifacts(prompt.info.run_id, "figures/gallery.png", scratch)
        shutil.copyfile(gallery_png, out.path(FIGURES / "clip_gallery.png"))

    m = train.data.metrics
    training = pd.DataFrame(
        [
            {
                "validation retrieval top-1": round(m["val_retrieval_top1"], 3),
                "chance": round(m["chance_top1"], 3),
                "candidates per image": int(m["retrieval_candidates"]),
                "validation images": int(m["validation_images"]),
                "final val loss": round(m["final_val_loss"], 4),
                "epochs": int(m["epochs_trained"]),
                "train images": int(m["train_images"]),
                "parameters": f"{int(m['parameters']):,}",
                "train seconds": round(m["train_seconds"], 1),
            }
        ]
    )
    captions = artifact_table(client, prompt.info.run_id, "tables/caption_scores.json")
    captions = captions.assign(
        target_probability=captions["target_probability"].round(4), margin=captions["margin"].round(4),
        chosen_probability=captions["chosen_probability"].round(4),
    )
    trace = artifact_table(client, prompt.info.run_id, "tables/search_trace.json")
    kept = trace[trace["kept"].astype(bool)].drop(columns="kept")
    kept = kept.assign(target_probability=kept["target_probability"].round(4), margin=kept["margin"].round(4))
    training.to_csv(out.path(TABLES / "clip_training.csv"), index=False)
    captions.to_csv(out.path(TABLES / "clip_captions.csv"), index=False)
    trace.to_csv(out.path(TABLES / "clip_search_trace.csv"), index=False)

    p = prompt.data
    found = p.tags.get("search_caption", "")
    selects = bool(p.metrics["search_selects_target"])
    return [
        "## CLIP prompting (MLflow experiment `clip`)",
        "",
        "Task: write a caption that makes CLIP choose a given target image out of a gallery. Probabilities are",
        "softmax over the gallery images of logit scale x cosine similarity of L2-normalised features; the",
        "chosen image is the argmax (the reference used OpenAI's ViT-B/32, whose logit scale is 100).",
        "",
        f"Model: `{p.params.get('model')}`, weights: `{p.params.get('pretrained')}`"
        + (" (the small CLIP trained by `clip_train`)" if p.params.get("pretrained") == "pipeline" else "")
        + f"; gallery: {int(p.metrics['gallery_images'])} images"
        + (" (synthetic: the target and 14 distractors that each differ from it in exactly one attribute)" if p.params.get("gallery") == "None" else f" from `{p.params.get('gallery')}`")
        + f"; logit scale {p.metrics['logit_scale']:.1f}.",
        "",
        "Synthetic scenes: 1-3 shapes (circle, square, triangle) of one colour (red, green, blue, yellow, purple)",
        "placed at the top left/top right/bottom left/bottom right or in the middle of a white, black or gray",
        "32x32 image. Captions name any subset of the slots in the order count, colour, shape, position, background,",
        "e.g. `two red circles at the top left on a white background` or `a red shape`.",
        "",
        "### The small CLIP trained in the pipeline",
        "",
        training.to_markdown(index=False),
        "",
        "Retrieval: each validation image must pick its own full caption among the 100 captions of its block of",
        "100 distinct scenes (chance 1/100).",
        "",
        "![CLIP training](figures/clip_training.png)",
        "",
        "### Captions tried (from `clip.captions`)",
        "",
        captions.to_markdown(index=False),
        "",
        "`target_rank` 1 means the caption selects the target; `margin` is the target's probability minus the",
        "best other image's.",
        "",
        "### Caption found by the search",
        "",
        f"**`{found}`**: target probability {p.metrics['search_target_probability']:.4f}, margin over the runner-up "
        f"{p.metrics['search_margin']:.4f}, " + ("selects the target" if selects else "does NOT select the target")
        + f" ({int(p.metrics['search_captions_scored'])} captions scored; beam search over caption length, see",
        "`pipeline/studies/clip/search.py`). The gallery with each image's probability for this caption (target framed",
        "green; the selected image in bold, framed red if it is not the target):",
        "",
        "![gallery](figures/clip_gallery.png)",
        "",
        "Search trace (the beam kept at each caption length; every caption scored is in `tables/clip_search_trace.csv`):",
        "",
        kept.to_markdown(index=False),
        "",
    ]


SECTION = Section(STUDY.name, render)
