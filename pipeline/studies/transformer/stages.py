"""Transformer encoder-decoder: train one run of the matrix, or its extra seeds."""

from __future__ import annotations

import shutil
from collections.abc import Callable

from pipeline.core.errors import PipelineError, stop_on_sigterm
from pipeline.core.paths import project_root
from pipeline.studies.transformer import STUDY, params, seed_run, seeds_stage_name, stage_name


def train(*, run: str) -> None:
    """Stage train_transformer@<run>: one run of transformer.runs, e.g. h32-small."""
    setup = params.load()
    if run not in setup.transformer.runs:
        known = ", ".join(setup.transformer.runs)
        raise PipelineError(f"params.yaml: {STUDY.name}.runs.{run}: no such run (known: {known})")
    _train(setup, run, [(run, setup.shared)], stage_name(run), train)


def train_seeds(*, run: str) -> None:
    """Stage train_transformer_seeds@<run>: the run again with each of its extra seeds (the run-to-run spread)."""
    setup = params.load()
    offsets = setup.transformer.extra_seeds.get(run)
    if offsets is None:
        known = ", ".join(setup.transformer.extra_seeds) or "none"
        raise PipelineError(f"params.yaml: {STUDY.name}.extra_seeds.{run}: no such entry (runs with extra seeds: {known})")
    replicates = [(seed_run(run, k), setup.shared.model_copy(update={"seed": setup.shared.seed + k})) for k in offsets]
    _train(setup, run, replicates, seeds_stage_name(run), train_seeds)
    _remove_other_seeds(run, offsets)


def _train(setup: params.Setup, run: str, replicates: list, stage: str, stage_function: Callable) -> None:
    """Train `run`'s configuration once per (name, shared settings) in `replicates`: only the seed differs.

    A resume file is keyed by the code of `stage_function`, the one DVC runs (its deps).
    """
    config = setup.transformer.runs[run]
    root = project_root()
    data = setup.piglatin.prepared(root, config.dataset)
    data.check()

    # Heavy imports only once the inputs are known to be good.
    from pipeline.translation.architectures import ENCODER_DECODER
    from pipeline.translation.run import config_fingerprint, train_translator

    stop_on_sigterm()
    for name, shared in replicates:
        train_translator(
            study=STUDY,
            name=name,
            run=config,
            shared=shared,
            evaluation=setup.piglatin.eval,
            data=data,
            stage=stage,
            architecture=ENCODER_DECODER,
            fingerprint=config_fingerprint(root, shared, config, data, stage_function),
        )


def _remove_other_seeds(run: str, offsets: list[int]) -> None:
    """Delete the files of seeds no longer listed: the stage's outputs persist, so they would stay."""
    root, kept = project_root(), {f"s{k}" for k in offsets}
    paths = STUDY.paths(seed_run(run, 0))  # any offset: the folders every seed of `run` writes into
    for folder in {root / p.parent for p in (paths.output_dir, paths.metrics_file, paths.timings_file, paths.curve_file)}:
        for stale in folder.glob("s*"):
            if stale.stem not in kept:  # s2.json, s2.csv or the weights folder s2
                shutil.rmtree(stale) if stale.is_dir() else stale.unlink()


STAGES = {"train": train, "train_seeds": train_seeds}
