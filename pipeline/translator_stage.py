"""What the translator stages (train_nmt, train_decoder_only, isoflop) share before training."""

from __future__ import annotations

import hashlib
import json
import signal
from pathlib import Path
from typing import Any

from pipeline.errors import PipelineError
from pipeline.io import file_sha256
from pipeline.params import Params, TranslatorRun
from pipeline.paths import PREPARED_PIGLATIN


def prepared_data(root: Path, dataset: str) -> Path:
    """The prepared split folder of `dataset`, checked to exist."""
    data_dir = root / PREPARED_PIGLATIN / dataset
    for split in ("train", "val"):
        if not (data_dir / f"{split}.txt").exists():
            raise PipelineError(f"{data_dir / split}.txt: missing; run `dvc repro prepare_piglatin` first")
    return data_dir


def stop_on_sigterm() -> None:
    """`dvc` stops stages with SIGTERM: raise KeyboardInterrupt so MLflow runs end KILLED, not RUNNING."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)


# The code a translator training depends on (dvc.yaml lists the same files as deps).
TRANSLATOR_CODE = (
    "pipeline/translator_stage.py",
    "pipeline/nmt_experiment.py",
    "pipeline/nmt.py",
    "pipeline/decoder_only.py",
    "pipeline/decoding.py",
    "pipeline/flops.py",
    "pipeline/training.py",
    "pipeline/callbacks.py",
    "pipeline/tracking.py",
    "pipeline/models/attention.py",
    "pipeline/models/transformer.py",
    "pipeline/models/decoder_only.py",
    "pipeline/models/limits.py",
    "pipeline/data/batching.py",
    "pipeline/data/piglatin.py",
    "pipeline/vocab.py",
    "pipeline/runtime.py",
    "pipeline/io.py",
)


def config_fingerprint(root: Path, params: Params, run: TranslatorRun | None, data_dir: Path, stage_file: str, **extra: Any) -> str:
    """A hash of what a training's result depends on: its params, the data and the code.

    Resume files must match it (a killed run rerun after a code change starts over
    rather than finishing old weights with new code); the IsoFLOP grid's parent run is
    keyed by it (with `run=None`: what all members share).
    """
    code = [root / name for name in TRANSLATOR_CODE] + [Path(stage_file)]
    source = {
        "run": run.model_dump() if run is not None else None,
        "seed": params.seed,
        "device": params.device,
        "data": file_sha256(data_dir / "train.txt", data_dir / "val.txt"),
        "code": file_sha256(*code),
        **extra,
    }
    return hashlib.sha256(json.dumps(source, sort_keys=True).encode()).hexdigest()
