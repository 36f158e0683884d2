"""Report section for CLIP prompting, read from the MLflow runs (experiment `clip`) that
produced the current metrics files (`results.py`). Light imports only (no torch, no open_clip)."""

from __future__ import annotations

import shutil
import tempfile

import pandas as pd

from pipeline.core import figures
from pipeline.reporting import FIGURES, TABLES, ReportContext, Section, metric_curve
from pipeline.studies.clip import STUDY
from pipeline.studies.clip.answers import ANSWERS, HEADING, SEARCH_HEADING
from pipeline.studies.clip.diagnostic import METRIC_PREFIX
from pipeline.studies.clip.figures import training_figure
from pipeline.studies.clip.results import SPREAD_SE, OutdatedRuns, load_results, search_comment, twin_summary, twin_verdict
from pipeline.studies.clip.scenes import SLOTS

DIAGNOSTIC_HEADING = "Attribute diagnostic"


def render(ctx: ReportContext) -> list[str]:
    client, out = ctx.client, ctx.out
    try:
        results = load_results(ctx)
    except OutdatedRuns as outdated:
        return [f"## {HEADING}", "", f"Not shown: {outdated}.", ""]
    train, prompt = results.train, results.prompt

    twin_keys = tuple(f"{METRIC_PREFIX}{attribute}" for attribute in results.twin)
    curve = metric_curve(client, train.info.run_id, ("train_loss", "val_loss", "val_retrieval_top1", *twin_keys))
    figures.save(training_figure(curve, results.goal), out.path(FIGURES / "clip_training.png"))
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
    diagnostic = pd.DataFrame(
        [
            {
                "attribute": attribute,
                "twin accuracy": round(value, 3),
                "trials": results.twin_trials,
                "verdict": twin_verdict(value, results.twin_trials, results.goal),
            }
            for attribute, value in results.twin.items()
        ]
    )
    captions = results.captions.assign(
        target_probability=results.captions["target_probability"].round(4),
        margin=results.captions["margin"].round(4),
        chosen_probability=results.captions["chosen_probability"].round(4),
    )
    kept = results.trace[results.trace["kept"].astype(bool)].drop(columns="kept")
    kept = kept.assign(target_probability=kept["target_probability"].round(4), margin=kept["margin"].round(4))
    training.to_csv(out.path(TABLES / "clip_training.csv"), index=False)
    diagnostic.to_csv(out.path(TABLES / "clip_attribute_diagnostic.csv"), index=False)
    captions.to_csv(out.path(TABLES / "clip_captions.csv"), index=False)
    results.trace.to_csv(out.path(TABLES / "clip_search_trace.csv"), index=False)

    p = prompt.data
    search = results.search
    runner_up = results.runner_up()
    runner_up_name = f"`{runner_up['file']}`" + (f" ({runner_up['scene']})" if "scene" in runner_up else "")
    truth = (
        f"The search accepts a caption only if every attribute it names is true of the target ({p.params.get('target_scene')}): "
        f"it scored {search.scored} captions, {search.true} of them true of the target; {search.true_failing} of those true "
        f"captions did not select the target, and {search.false_selecting} false ones did."
        if search.truth_checked
        else f"The search scored {search.scored} captions; on real images it cannot check them against the target, so it accepts on the margin alone."
    )
    return [
        f"## {HEADING}",
        "",
        "Task: write a caption that makes CLIP choose a given target image out of a gallery. Probabilities are",
        "softmax over the gallery images of logit scale x cosine similarity of L2-normalised features; the",
        "chosen image is the argmax (the reference used OpenAI's ViT-B/32, whose logit scale is 100).",
        "",
        f"Model: `{p.params.get('model')}`, weights: `{p.params.get('pretrained')}`"
        + (" (the small CLIP trained by `clip_train`)" if results.pipeline_weights else "")
        + f"; gallery: {int(p.metrics['gallery_images'])} images"
        + (
            f" (synthetic: the target and {int(p.metrics['gallery_images']) - 1} distractors that each differ from it in exactly one attribute)"
            if results.synthetic_gallery
            else f" from `{p.params.get('gallery')}`"
        )
        + f"; logit scale {p.metrics['logit_scale']:.1f}.",
        "",
        "Synthetic scenes: 1-3 shapes (circle, square, triangle) of one colour (red, green, blue, yellow, purple)",
        "placed at the top left/top right/bottom left/bottom right or in the middle of a white, black or gray",
        "32x32 image. Captions name any subset of the slots in the order count, colour, shape, position, background,",
        "e.g. `two red circles at the top left on a white background` or `a red shape`; a slot left out means any value.",
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
        f"### {DIAGNOSTIC_HEADING}",
        "",
        "For each attribute, held-out twin pairs: two scenes equal in everything but that attribute, drawn from the",
        "same placement draws (held-out drawings: every combination of attributes also occurs in training, in other",
        "placements). A caption naming the attribute (and a random subset of the others) should score its own",
        "image above the twin; each pair gives two trials (each caption against both images), a tie counts 1/2, so a",
        f"model blind to an attribute scores 0.5 on it. Verdicts allow {SPREAD_SE} binomial standard errors of spread",
        "(`pipeline/studies/clip/diagnostic.py`).",
        "",
        diagnostic.to_markdown(index=False),
        "",
        twin_summary(results),
        "",
        "### Captions tried (from `clip.captions`)",
        "",
        captions.to_markdown(index=False),
        "",
        "`true_of_target`: every attribute the caption names is the target's; `target_rank` 1 means the caption",
        "selects the target; `margin` is the target's probability minus the best other image's.",
        "",
        f"### {SEARCH_HEADING}",
        "",
        f"**`{search.caption}`**: target probability {search.target_probability:.4f}, runner-up {runner_up_name} "
        f"{runner_up[search.caption]:.4f}, margin {search.margin:.4f}, "
        + ("selects the target" if search.selects else "does NOT select the target")
        + " (beam search over caption length, see `pipeline/studies/clip/search.py`).",
        "",
        truth,
        "",
        search_comment(search, len(SLOTS)),
        "",
        "The gallery with each image's probability for this caption (target framed green; the selected image in bold,",
        "framed red if it is not the target):",
        "",
        "![gallery](figures/clip_gallery.png)",
        "",
        "Search trace (the beam kept at each caption length; every caption scored is in `tables/clip_search_trace.csv`):",
        "",
        kept.to_markdown(index=False),
        "",
    ]


SECTION = Section(STUDY.name, render, answers=ANSWERS)
