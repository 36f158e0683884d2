"""Reading a gallery folder: the candidate images of the prompting task (PIL only, so
the stage can check it before importing torch and open_clip)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from pipeline.core.errors import PipelineError


@dataclass
class Gallery:
    folder: Path
    files: list[str]  # sorted file names
    images: list[Image.Image]  # RGB, as read
    target: int  # index of the target in `files`


def load_gallery(folder: Path, target: str, gallery_key: str = "clip.gallery", target_key: str = "clip.target") -> Gallery:
    """Every non-hidden file of `folder` must be an image; the target must be one of them."""
    if not folder.is_dir():
        raise PipelineError(f"params.yaml: {gallery_key}: {folder}: no such folder")
    files = sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise PipelineError(f"params.yaml: {gallery_key}: {folder}: no images in the folder")
    images = []
    for name in files:
        try:
            with Image.open(folder / name) as image:
                images.append(image.convert("RGB"))
        except (UnidentifiedImageError, OSError) as error:
            raise PipelineError(f"{folder / name}: not an image ({type(error).__name__}); remove it from the gallery folder") from None
    if target not in files:
        shown = ", ".join(files[:10]) + (", ..." if len(files) > 10 else "")
        raise PipelineError(f"params.yaml: {target_key}: {target!r} is not in the gallery {folder} (files: {shown})")
    return Gallery(folder, files, images, files.index(target))
