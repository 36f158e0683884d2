"""CLIP prompting stages: draw the synthetic scenes, train the small CLIP, prompt it.

    python -m stages clip data      # DVC stage clip_data
    python -m stages clip train     # DVC stage clip_train
    python -m stages clip prompt    # DVC stage clip_prompt

`train` always trains the in-pipeline model, whatever `clip.pretrained` says: it reads
only `clip.data`/`clip.train`/`clip.diagnostic`, so switching `prompt` to pretrained
weights does not rerun it, and its retrieval and attribute-diagnostic metrics stay
meaningful either way. With the defaults `prompt` uses the model `train` wrote on the
synthetic gallery of `data`, whose scenes are known, so the caption search accepts only
captions true of the target. With `clip.model: ViT-B-32`, `clip.pretrained: openai` (or
a checkpoint file), `clip.gallery: <folder>` and `clip.target: <file>` it runs the
original task (what real images show is not known: captions are not checked against
them); the DVC stage still depends on the trained weights (DVC has no conditional deps)
but only loads them when `clip.pretrained: pipeline`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pipeline.core.errors import stop_on_sigterm
from pipeline.core.io import require_inputs, staged_outputs
from pipeline.core.paths import project_root
from pipeline.studies.clip import CONFIG_FILE, DATA_DIR
from pipeline.studies.clip.params import load


def data() -> None:
    """Draw the synthetic captioned scenes (train, validation, gallery)."""
    params = load().config
    from pipeline.studies.clip import scenes
    from pipeline.studies.clip.data import write_dataset

    stop_on_sigterm()
    config = params.data
    image_size = json.loads(CONFIG_FILE.read_text())["vision_cfg"]["image_size"]  # draw at the model's input size
    with staged_outputs(project_root(), clear=[DATA_DIR]) as out:
        folder = out.path(DATA_DIR)
        folder.mkdir(parents=True)
        stats = write_dataset(
            folder,
            config.seed,
            image_size,
            config.train_size,
            config.group_size,
            config.val_blocks,
            scenes.Scene(**config.target.model_dump()),
        )
    print(f"clip_data: {stats}", file=sys.stderr)


def train() -> None:
    """Train the in-pipeline CLIP (attn-clip-tiny) on the synthetic scenes."""
    setup = load()
    shared, params = setup.shared, setup.config
    data_dir = project_root() / DATA_DIR
    from pipeline.studies.clip.data import split_files

    require_inputs(split_files(data_dir), "clip_data")
    from pipeline.studies.clip.train import train_clip  # torch + open_clip: only once the inputs are good

    stop_on_sigterm()
    train_clip(shared=shared, params=params, data_dir=data_dir)


def prompt() -> None:
    """Score `clip.captions` against the gallery and search for a caption selecting the target."""
    setup = load()
    shared, params = setup.shared, setup.config
    root = project_root()
    from pipeline.studies.clip.data import synthetic_gallery
    from pipeline.studies.clip.gallery import load_gallery

    if params.gallery is None:
        gallery_dir, target, drawn = synthetic_gallery(root / DATA_DIR)
    else:  # real images: what they show is not known, so captions cannot be checked against the target
        gallery_dir, target, drawn = root / Path(params.gallery).expanduser(), params.target, None
    gallery = load_gallery(gallery_dir, target)  # a bad gallery or target fails before the heavy imports
    from pipeline.studies.clip.prompt import run_prompting  # torch + open_clip

    stop_on_sigterm()
    run_prompting(shared=shared, clip=params, gallery=gallery, drawn=drawn)


STAGES = {"data": data, "train": train, "prompt": prompt}
