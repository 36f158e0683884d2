"""Creating CLIP models through open_clip, offline unless the user allows downloads.

Two sources of weights, chosen by params:
- `clip.pretrained: pipeline`: the small CLIP the `clip_train` stage trained
  (config `attn-clip-tiny.json` next to this file, weights in `outputs/clip/train/`);
- anything else goes to open_clip as `pretrained=`: a local checkpoint file, or a hub tag
  such as `openai` for `ViT-B-32`. A tag is only served from the local cache unless
  `clip.allow_download: true`, so the pipeline never touches the network by accident.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import open_clip
import torch
from safetensors.torch import save_file

from pipeline.core.errors import PipelineError
from pipeline.studies.clip import CONFIG_FILE, PIPELINE_MODEL

CHECKPOINT_NAME = "open_clip_model.safetensors"  # the name open_clip's `local-dir:` schema looks for


def register_pipeline_model() -> None:
    """Make `attn-clip-tiny` known to open_clip's factory (idempotent)."""
    if PIPELINE_MODEL not in open_clip.list_models():
        open_clip.add_model_config(CONFIG_FILE)


def create(model_name: str, pretrained: str | None, allow_download: bool = False, device: str | torch.device = "cpu"):
    """(model in eval mode, image preprocess, tokenizer); errors name the params key at fault."""
    register_pipeline_model()
    if model_name not in open_clip.list_models():
        known = ", ".join(m for m in open_clip.list_models() if m.startswith(("ViT-B", "RN50", PIPELINE_MODEL)))
        raise PipelineError(f"params.yaml: clip.model: unknown open_clip model {model_name!r} (e.g. {known})")
    if pretrained is not None:
        _check_pretrained(model_name, pretrained, allow_download)
    try:
        with _hub_offline(not allow_download):
            model, _, preprocess = open_clip.create_model_and_transforms(model_name, pretrained=pretrained, device=device)
    except Exception as error:  # noqa: BLE001 - a user's file can fail in many ways (pickle, safetensors, shapes)
        raise PipelineError(f"params.yaml: clip.pretrained: could not load {pretrained!r} for {model_name}: {_first_line(error)}") from None
    model.eval()
    return model, preprocess, open_clip.get_tokenizer(model_name)


def _check_pretrained(model_name: str, pretrained: str, allow_download: bool) -> None:
    tags = open_clip.list_pretrained_tags_by_model(model_name)
    if pretrained in tags:
        if not allow_download and not _tag_is_cached(model_name, pretrained):
            raise PipelineError(
                f"params.yaml: clip.pretrained: no cached weights for {model_name} {pretrained!r} and downloads are off; "
                "set clip.allow_download: true (needs internet) or point clip.pretrained to a local checkpoint file"
            )
        return
    if not Path(pretrained).is_file():
        raise PipelineError(
            f"params.yaml: clip.pretrained: {pretrained!r} is neither a checkpoint file nor a pretrained tag of "
            f"{model_name} (tags: {', '.join(tags) or 'none'})"
        )


def _tag_is_cached(model_name: str, tag: str) -> bool:
    """Whether open_clip can load `tag` without the network (HF hub cache or ~/.cache/clip)."""
    config = open_clip.get_pretrained_cfg(model_name, tag)
    if config.get("hf_hub"):
        try:
            with _hub_offline(True):
                open_clip.download_pretrained(config)
            return True
        except Exception:  # noqa: BLE001 - any failure offline means "not in the cache"
            return False
    url = config.get("url", "")
    return bool(url) and (Path.home() / ".cache" / "clip" / os.path.basename(url)).is_file()


@contextlib.contextmanager
def _hub_offline(offline: bool) -> Iterator[None]:
    """Serve Hugging Face hub files from the cache only (the env var is read at import)."""
    from huggingface_hub import constants

    previous = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = offline or previous
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = previous


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def save_checkpoint(model: torch.nn.Module, folder: Path, state_dict: dict[str, torch.Tensor] | None = None) -> Path:
    """Write weights that `create(<name>, pretrained=<file>)` loads back, plus an
    `open_clip_config.json` so the folder also works as `local-dir:<folder>`."""
    folder.mkdir(parents=True, exist_ok=True)
    state = state_dict if state_dict is not None else model.state_dict()
    checkpoint = folder / CHECKPOINT_NAME
    save_file({k: v.detach().cpu().contiguous() for k, v in state.items()}, str(checkpoint))
    config = {"model_cfg": json.loads(CONFIG_FILE.read_text()), "preprocess_cfg": open_clip.get_model_preprocess_cfg(model)}
    (folder / "open_clip_config.json").write_text(json.dumps(config, indent=2) + "\n")
    return checkpoint
