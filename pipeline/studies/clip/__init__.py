"""CLIP prompting: synthetic captioned scenes, a small CLIP trained with open_clip, gallery
scoring and an automatic caption search.

Stages (`python -m stages clip <stage>`): `data` draws the scenes (train, validation, the
prompting gallery), `train` trains the in-pipeline CLIP on them, `prompt` scores the
captions of `clip.captions` against a gallery and searches for a short caption that
selects the target (with the trained model, or a pretrained open_clip model on a folder
of images).

Light on purpose: importing the package must not import torch or open_clip (params.py
reads the constants below).
"""

from __future__ import annotations

from pathlib import Path

from pipeline.core import glossary
from pipeline.core.paths import Study

STUDY = Study(
    "clip",
    experiment="clip",
    description="CLIP prompting: run `train-...` trains a small CLIP offline on synthetic captioned 32x32 scenes and "
    "tests it attribute by attribute on twin scenes; run `prompt-...` scores the captions of `clip.captions` against a "
    "gallery and beam-searches for a short caption, true of the target, that makes CLIP pick the target image.",
    metrics=glossary.fit_loop("image-caption pairs")
    | {
        "val_retrieval_top1": "share of validation images whose own caption scores highest among the captions of their "
        "block of `retrieval_candidates` distinct scenes (chance: `chance_top1`)",
        "retrieval_candidates": "captions each validation image is matched against in `val_retrieval_top1`",
        "chance_top1": "`val_retrieval_top1` of a random guess: 1 / `retrieval_candidates`",
        "logit_scale": "CLIP's learned temperature: the factor on cosine similarities before the softmax",
        "twin_accuracy_*": "attribute diagnostic, one per attribute (count, colour, shape, position, background): share "
        "of held-out trials where a caption naming the attribute scores its own image above a twin that differs only in "
        "that attribute (ties count 1/2; 0.5: the model ignores the attribute); `twin_accuracy_min` is the weakest",
        "twin_trials_per_attribute": "trials behind each `twin_accuracy_<attribute>`: two per twin pair",
        "captions_tried": "prompt run: captions of `clip.captions` scored against the gallery",
        "captions_selecting_target": "prompt run: of those, how many make CLIP rank the target image first",
        "search_target_probability": "prompt run: the target's probability (softmax over the gallery) for the caption the search found",
        "search_margin": "prompt run: that probability minus the best other image's (> 0: the target is picked)",
        "search_selects_target": "prompt run: 1 if the caption found picks the target by at least `min_margin` and is true of it",
        "search_caption_slots": "prompt run: attributes in the caption found (its length)",
        "search_captions_scored": "prompt run: captions the beam search scored",
        "search_truth_checked": "prompt run: 1 if the target's scene is known (synthetic gallery), so a caption is "
        "accepted only if every slot it names is true of the target",
        "search_true_captions": "prompt run: captions the search scored that are true of the target",
        "search_true_captions_failing": "prompt run: of those, how many do not make the target the gallery's argmax",
        "search_false_captions_selecting": "prompt run: captions false of the target that make it the argmax anyway "
        "(the model misreads an attribute)",
        "gallery_images": "prompt run: images in the gallery, the target among them",
    },
)
# The study's two tracked runs; their files are `STUDY.paths(<run>)`: weights or outputs in
# outputs/clip/<run>/, metrics/clip/<run>.json, and the training curve plots/clip/train.csv.
TRAIN_RUN = "train"
PROMPT_RUN = "prompt"
# The synthetic scenes of the `data` stage (DVC-cached).
DATA_DIR = Path("outputs") / STUDY.name / "data"
# Validation retrieval: each image's own caption among those of its block of distinct scenes.
RETRIEVAL_BLOCK = 100

# The small CLIP the pipeline trains offline; its open_clip config is the JSON file below,
# registered under this name with `open_clip.add_model_config`.
PIPELINE_MODEL = "attn-clip-tiny"
CONFIG_FILE = Path(__file__).with_name(f"{PIPELINE_MODEL}.json")
# `clip.pretrained` value meaning "the weights trained by the `train` stage".
PIPELINE_WEIGHTS = "pipeline"
