"""IsoFLOP grid: train one member with one seed; fit the scaling laws over all of them."""

from __future__ import annotations

import sys
import time

from pipeline.core.errors import PipelineError
from pipeline.core.paths import project_root
from pipeline.studies.isoflop import FIT_COMMAND, PARENT_RUN_DESCRIPTION, PARENT_RUN_NAME, STUDY, params, stage_name


def train(*, run: str) -> None:
    """Stage isoflop@<model>-<seed>: run <model>-s<seed>, e.g. h64-s0: a member of
    isoflop.matrix.model trained with the top-level seed plus a seed of isoflop.matrix.seed.

    Every member is a decoder-only translator trained alike (isoflop.train); only the
    hidden size differs, and the seed (initialisation and batch order). The runs are child
    runs of one MLflow parent run, keyed by what they share (config, data, code; not the seed).
    """
    setup = params.load()
    grid = setup.config
    runs = grid.matrix.runs()
    if run not in runs:
        raise PipelineError(f"params.yaml: {STUDY.name}.matrix: no run {run!r} (model x seed: {', '.join(runs)})")
    model, seed = runs[run]
    config = grid.train.run(grid.matrix.hidden_sizes()[model])
    data = setup.data.prepared(project_root(), config.dataset)
    data.check()

    from pipeline.core.tracking import cover_children, run_tags
    from pipeline.translators.architectures import DECODER_ONLY
    from pipeline.translators.train import config_fingerprint, train_stage

    grid_settings = {"train": grid.train.model_dump(), "stop_at_flops": grid.stop_at_flops}
    # Runs trained from the same shared config and code belong to the same grid, whatever their seed.
    grid_key = config_fingerprint(project_root(), setup.shared, None, data, train, grid=grid_settings)
    member_tags = run_tags(stage=stage_name(run), dataset=data.name, profile=setup.shared.profile, model="transformer-decoder-only")
    try:
        parent = grid_parent(grid_key, member_tags)
    except Exception as error:  # noqa: BLE001 - tracking must not block training; the run logs unnested
        print(f"warning: could not find or create the MLflow parent run {PARENT_RUN_NAME!r}: {error}", file=sys.stderr)
        parent = None
    train_stage(
        train,
        setup,
        STUDY,
        stage_name(run),
        run,
        config,
        DECODER_ONLY,
        data,
        # The seed sets the initialisation and the batch order (the data are the same for every run).
        seed_offset=seed,
        fingerprint_extra={"grid": grid_settings},
        count_flops=True,
        flop_budget=grid.stop_at_flops,
        parent_run_id=parent,
    )
    if parent:
        try:  # the parent's span reaches the end of its latest member
            cover_children(parent, [], end_time=int(time.time() * 1000))
        except Exception as error:  # noqa: BLE001 - the member's run and files are already safe
            print(f"warning: could not extend the MLflow parent run {PARENT_RUN_NAME!r} over this member: {error}", file=sys.stderr)


def grid_parent(grid_key: str, member_tags: dict[str, str]) -> str:
    """The id of the grid's MLflow parent run `isoflop-grid`, created by the first member that asks.

    It carries the member's tags but `dvc_stage` (it belongs to every member's stage), and
    as its Source the fit that logs into it (`FIT_COMMAND`), not the command of whichever
    member happened to create it; its Description says what it holds.
    """
    from pipeline.core.tracking import parent_run, source_tags

    tags = {k: v for k, v in member_tags.items() if k != "dvc_stage"} | source_tags(FIT_COMMAND)
    return parent_run(
        STUDY.experiment,
        PARENT_RUN_NAME,
        key=grid_key,
        tags=tags,
        description=PARENT_RUN_DESCRIPTION,
        experiment_description=STUDY.experiment_description,
    )


def fit() -> None:
    """Stage fit_scaling: IsoFLOP profiles, compute-optimal N and D, logged into the grid's parent run."""
    setup = params.load()
    from pipeline.studies.isoflop.fit import run_fit_scaling

    run_fit_scaling(setup, project_root())


STAGES = {"train": train, "fit": fit}
