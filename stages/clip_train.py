"""DVC stage `clip_train`: train the offline CLIP (attn-clip-tiny) on the synthetic scenes.

    python -m stages.clip_train

It always trains the in-pipeline model, whatever `clip.pretrained` says: its params are
only `clip.data`/`clip.train`, so switching `clip_prompt` to pretrained weights does not
rerun it, and its retrieval metrics stay meaningful either way.
"""

from __future__ import annotations

import hashlib
import json
import signal

from pipeline.errors import PipelineError, run_cli
from pipeline.io import file_sha256
from pipeline.params import load_params
from pipeline.paths import CLIP_DATA, CLIP_MODEL, CLIP_TRAIN_CURVE, CLIP_TRAIN_METRICS, project_root, resume_dir

EXPERIMENT = "clip"


def main() -> None:
    params = load_params()
    root = project_root()
    data_dir = root / CLIP_DATA
    inputs = [data_dir / f"{split}.{ext}" for split in ("train", "validation") for ext in ("npz", "csv")]
    for file in inputs:
        if not file.exists():
            raise PipelineError(f"{file}: missing; run `dvc repro clip_data` first")

    from pipeline.clip.train import train_clip  # torch + open_clip: only once the inputs are good

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # dvc stops stages with SIGTERM
    code = sorted((root / "pipeline").rglob("*.py")) + sorted((root / "pipeline" / "clip").glob("*.json"))
    fingerprint_source = {
        "train": params.clip.train.model_dump(),
        "seed": params.seed,
        "device": params.device,
        "data": file_sha256(*inputs),
        "code": file_sha256(*code, root / "stages" / "clip_train.py"),
    }
    fingerprint = hashlib.sha256(json.dumps(fingerprint_source, sort_keys=True).encode()).hexdigest()
    train_clip(
        params=params,
        data_dir=data_dir,
        experiment=EXPERIMENT,
        output_dir=root / CLIP_MODEL,
        metrics_file=root / CLIP_TRAIN_METRICS,
        curve_file=root / CLIP_TRAIN_CURVE,
        state_dir=resume_dir("clip", "train", fingerprint),
        fingerprint=fingerprint,
    )


if __name__ == "__main__":
    run_cli(main)
