"""Transformer encoder-decoder: train one run of the matrix, or its extra seeds."""

from __future__ import annotations

import shutil
from collections.abc import Callable

from pipeline.core.errors import PipelineError
from pipeline.core.params import require_known, section_checks
from pipeline.core.paths import project_root
from pipeline.studies.transformer import STUDY, params, seed_run


def train(*, run: str) -> None:
    """Stage train_transformer@<run>: one run of transformer.runs, e.g. h32-small."""
    setup = params.load()
    with section_checks():
        require_known(f"{STUDY.name}.runs", run, setup.config.runs, "run")
    _train(setup, run, [(run, 0)], STUDY.stage_name(run), train)


def train_seeds(*, run: str) -> None:
    """Stage train_transformer_seeds@<run>: the run again with each of its extra seeds (the run-to-run spread)."""
    setup = params.load()
    offsets = setup.config.extra_seeds.get(run)
    if offsets is None:
        known = ", ".join(setup.config.extra_seeds) or "none"
        raise PipelineError(f"params.yaml: {STUDY.name}.extra_seeds.{run}: no such entry (runs with extra seeds: {known})")
    _train(setup, run, [(seed_run(run, k), k) for k in offsets], STUDY.stage_name(run, block="seeds"), train_seeds)
    _remove_other_seeds(run, offsets)


def _train(setup: params.Setup, run: str, replicates: list, stage: str, stage_function: Callable) -> None:
    """Train `run`'s configuration once per (name, seed offset) in `replicates`: only the seed differs.

    A resume file is keyed by the code of `stage_function`, the one DVC runs (its deps).
    """
    config = setup.config.runs[run]
    data = setup.data.prepared(project_root(), config.dataset)
    data.check()

    # Heavy imports only once the inputs are known to be good.
    from pipeline.translators.architectures import ENCODER_DECODER
    from pipeline.translators.train import train_stage

    for name, offset in replicates:
        train_stage(stage_function, setup, STUDY, stage, name, config, ENCODER_DECODER, data, seed_offset=offset)


def _remove_other_seeds(run: str, offsets: list[int]) -> None:
    """Delete the files of seeds no longer listed: the stage's outputs persist, so they would stay."""
    root, kept = project_root(), {f"s{k}" for k in offsets}
    paths = STUDY.paths(seed_run(run, 0))  # any offset: the folders every seed of `run` writes into
    for folder in {root / p.parent for p in (paths.output_dir, paths.metrics_file, paths.timings_file, paths.curve_file)}:
        for stale in folder.glob("s*"):
            if stale.stem not in kept:  # s2.json, s2.csv or the weights folder s2
                shutil.rmtree(stale) if stale.is_dir() else stale.unlink()


STAGES = {"train": train, "train_seeds": train_seeds}
