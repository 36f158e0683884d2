"""DVC stage `clip_prompt`: score `clip.captions` against the gallery and search for a
short caption that makes CLIP select the target.

    python -m stages.clip_prompt

With the defaults it uses the model trained by `clip_train` on the synthetic gallery of
`clip_data`. With `clip.model: ViT-B-32`, `clip.pretrained: openai` (or a checkpoint
file), `clip.gallery: <folder>` and `clip.target: <file>` it runs the original task; the
stage still depends on `outputs/clip/model` (DVC has no conditional deps) but only
loads it when `clip.pretrained: pipeline`.
"""

from __future__ import annotations

import signal
from pathlib import Path

from pipeline.errors import run_cli
from pipeline.params import load_params
from pipeline.paths import CLIP_DATA, CLIP_MODEL, CLIP_PROMPT, CLIP_PROMPT_METRICS, project_root

EXPERIMENT = "clip"


def main() -> None:
    params = load_params()
    root = project_root()
    from pipeline.clip.data import synthetic_gallery
    from pipeline.clip.gallery import load_gallery

    if params.clip.gallery is None:
        gallery_dir, target = synthetic_gallery(root / CLIP_DATA)
    else:
        gallery_dir, target = root / Path(params.clip.gallery).expanduser(), params.clip.target
    gallery = load_gallery(gallery_dir, target)  # a bad gallery or target fails before the heavy imports
    from pipeline.clip.prompt import run_prompting  # torch + open_clip

    signal.signal(signal.SIGTERM, signal.default_int_handler)
    run_prompting(
        params=params,
        gallery=gallery,
        checkpoint_dir=root / CLIP_MODEL,
        experiment=EXPERIMENT,
        output_dir=root / CLIP_PROMPT,
        metrics_file=root / CLIP_PROMPT_METRICS,
    )


if __name__ == "__main__":
    run_cli(main)
