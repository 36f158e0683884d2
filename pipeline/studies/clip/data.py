"""The synthetic dataset on disk (stage `clip_data`), and reading it back.

    outputs/clip/data/
        train.npz, validation.npz   images (N, S, S, 3) uint8
        train.csv, validation.csv   the scene of each image (one row per image; train: twin groups of
                                    `group_size` consecutive rows)
        gallery/NN.png              the prompting gallery: the target and its distractors
        gallery.csv                 file, scene, how it differs from the target; the target's row says "target"

The gallery is a plain folder of PNGs so that `clip_prompt` reads it exactly like a
user's own folder of photos.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from pipeline.core.errors import PipelineError
from pipeline.studies.clip import scenes

SPLITS = ("train", "validation")


def split_files(folder: Path) -> list[Path]:
    """The files of the training and validation splits (what the `train` stage reads)."""
    return [folder / f"{split}.{ext}" for split in SPLITS for ext in ("npz", "csv")]


def write_dataset(
    folder: Path, seed: int, image_size: int, train_size: int, group_size: int, val_blocks: int, target: scenes.Scene
) -> dict:
    """Generate every split into `folder`; returns summary statistics."""
    splits = {
        "train": scenes.train_split(seed, train_size, image_size, group_size),
        "validation": scenes.validation_split(seed, val_blocks, image_size),
    }
    for name, split in splits.items():
        np.savez_compressed(folder / f"{name}.npz", images=split.images)
        pd.DataFrame(split.table()).to_csv(folder / f"{name}.csv", index=False)

    gallery, differences = scenes.gallery_split(seed, target, image_size)
    (folder / "gallery").mkdir()
    files = [f"{i:02d}.png" for i in range(len(gallery.scenes))]
    for file, image in zip(files, gallery.images):
        Image.fromarray(image).save(folder / "gallery" / file)
    manifest = pd.DataFrame(gallery.table())
    manifest.insert(0, "file", files)
    manifest["differs_in"] = differences
    manifest["caption"] = [scene.caption() for scene in gallery.scenes]
    manifest.to_csv(folder / "gallery.csv", index=False)
    return {
        "train_images": train_size,
        "validation_images": len(splits["validation"].scenes),
        "distinct_scenes": len(scenes.all_scenes()),
        "gallery_images": len(files),
        "image_size": image_size,
    }


def load_split(folder: Path, name: str) -> scenes.SceneSet:
    images_file, scenes_file = folder / f"{name}.npz", folder / f"{name}.csv"
    for file in (images_file, scenes_file):
        if not file.exists():
            raise PipelineError(f"{file}: missing; run `dvc repro clip_data` first")
    with np.load(images_file) as archive:
        images = archive["images"]
    table = pd.read_csv(scenes_file)
    return scenes.SceneSet(images, [scenes.Scene(**row) for row in table.to_dict("records")])


def synthetic_gallery(folder: Path) -> tuple[Path, str, dict[str, scenes.Scene]]:
    """(gallery folder, target file name, the scene of every gallery file) of the generated dataset."""
    manifest_file = folder / "gallery.csv"
    if not manifest_file.exists():
        raise PipelineError(f"{manifest_file}: missing; run `dvc repro clip_data` first")
    manifest = pd.read_csv(manifest_file)
    drawn = {row["file"]: scenes.Scene(**{slot: row[slot] for slot in scenes.SLOTS}) for row in manifest.to_dict("records")}
    return folder / "gallery", str(manifest.loc[manifest["differs_in"] == "target", "file"].iloc[0]), drawn
