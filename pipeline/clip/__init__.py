"""CLIP prompting (issue 5): synthetic scenes, a small CLIP trained with open_clip, gallery
scoring and an automatic caption search.

Light on purpose: importing the package must not import torch or open_clip (params.py
reads the constants below).
"""

from __future__ import annotations

# The small CLIP the pipeline trains offline; its open_clip config is `model_config.json`
# next to this file, registered under this name with `open_clip.add_model_config`.
PIPELINE_MODEL = "attn-clip-tiny"
# `clip.pretrained` value meaning "the weights trained by the clip_train stage".
PIPELINE_WEIGHTS = "pipeline"
