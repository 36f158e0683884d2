"""Where things live, relative to the project root."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The folder holding dvc.yaml that we are running in: the workspace or a DVC temp copy.

    DVC starts stage commands in their working copy, so search up from the current folder.
    """
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "dvc.yaml").exists():
            return folder
    return here


def main_workspace(root: Path | None = None) -> Path:
    """The user's real checkout, also when DVC runs us in a temporary copy.

    `dvc exp run --temp` and `--queue` execute in `<workspace>/.dvc/tmp/exps/<tmp>/` and
    set `DVC_ROOT` to the parent workspace. Results that must outlive that copy (the
    MLflow store, resume state) go to the workspace.
    """
    if root is None and os.environ.get("DVC_ROOT"):
        return Path(os.environ["DVC_ROOT"]).resolve()
    root = (root or project_root()).resolve()
    parts = root.parts
    for i in range(len(parts) - 3):
        if parts[i : i + 3] == (".dvc", "tmp", "exps"):
            return Path(*parts[:i])
    return root


# Where each stage writes, relative to the project root (dvc.yaml names the same paths).
PREPARED_PIGLATIN = Path("data/prepared/piglatin")
DATA_METRICS = Path("metrics/data/piglatin.json")


# Translator studies: "nmt" (encoder-decoder), "decoder_only", "isoflop" (grid members).
TRANSLATOR_STUDIES = ("nmt", "decoder_only", "isoflop")


def run_output_dir(study: str, run: str) -> Path:
    return Path("outputs") / study / run


def run_metrics_file(study: str, run: str) -> Path:
    return Path("metrics") / study / f"{run}.json"


def run_curve_file(study: str, run: str) -> Path:
    return Path("plots") / study / f"{run}.csv"


def nmt_output_dir(run: str) -> Path:
    return run_output_dir("nmt", run)


def nmt_metrics_file(run: str) -> Path:
    return run_metrics_file("nmt", run)


def nmt_curve_file(run: str) -> Path:
    return run_curve_file("nmt", run)


# Scaling-law fits over the IsoFLOP grid.
SCALING_METRICS = Path("metrics/scaling.json")
SCALING_TABLE = Path("plots/scaling/budgets.csv")  # one row per budget: N_opt, D_opt, R^2, models used
SCALING_OUTPUT = Path("outputs/scaling")  # figures


def resume_dir(study: str, run: str, fingerprint: str) -> Path:
    """Scratch state that must survive DVC deleting a stage's outputs before a rerun.

    Keyed by the config fingerprint, so queued experiments of one run name with
    different params never overwrite each other's state.
    """
    return main_workspace() / ".cache" / "resume" / study / f"{run}-{fingerprint[:16]}"


# ---- bert (verbal arithmetic)
PREPARED_ARITHMETIC = Path("data/prepared/arithmetic")
ARITHMETIC_METRICS = Path("metrics/data/arithmetic.json")


def bert_output_dir(variant: str) -> Path:
    return Path("outputs/bert") / variant


def bert_metrics_file(variant: str) -> Path:
    return Path("metrics/bert") / f"{variant}.json"


def bert_curve_file(variant: str) -> Path:
    return Path("plots/bert") / f"{variant}.csv"


# CLIP prompting (issue 5).
CLIP_DATA = Path("outputs/clip/data")
CLIP_MODEL = Path("outputs/clip/model")
CLIP_PROMPT = Path("outputs/clip/prompt")
CLIP_TRAIN_METRICS = Path("metrics/clip/train.json")
CLIP_TRAIN_CURVE = Path("plots/clip/train.csv")
CLIP_PROMPT_METRICS = Path("metrics/clip/prompt.json")
