"""DVC stage `clip_data`: draw the synthetic captioned scenes (train, validation, gallery).

    python -m stages.clip_data
"""

from __future__ import annotations

import json
import sys

from pipeline.errors import run_cli
from pipeline.params import load_params
from pipeline.paths import CLIP_DATA, project_root


def main() -> None:
    params = load_params()
    from pipeline.clip import scenes
    from pipeline.clip.data import write_dataset
    from pipeline.clip.models import CONFIG_FILE
    from pipeline.io import staged_outputs

    config = params.clip.data
    image_size = json.loads(CONFIG_FILE.read_text())["vision_cfg"]["image_size"]  # draw at the model's input size
    with staged_outputs(project_root(), clear=[CLIP_DATA]) as out:
        folder = out.path(CLIP_DATA)
        folder.mkdir(parents=True)
        stats = write_dataset(
            folder, config.seed, image_size, config.train_size, config.val_blocks, scenes.Scene(**config.target.model_dump())
        )
    print(f"clip_data: {stats}", file=sys.stderr)


if __name__ == "__main__":
    run_cli(main)
