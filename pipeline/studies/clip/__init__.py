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

from pipeline.core.paths import Study

STUDY = Study("clip", experiment="clip")
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
