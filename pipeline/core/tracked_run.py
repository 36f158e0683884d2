"""The skeleton every tracked stage shares, around the study's own work.

    with TrackedRun(study, "h32-small", stage="train_transformer@h32-small", shared=shared,
                    dataset="piglatin-small", model="transformer-encoder-decoder",
                    fingerprint=fingerprint) as run:
        run.tracker.log_params(...)
        result = fit(..., resume_path=run.resume_state, callbacks=run.epoch_logger())
        with run.outputs() as out:                      # staged: all files appear together
            write_metrics(out, run.paths.metrics_file, metrics)  # results; timings to timings/
        run.log_summary(metrics)                        # every number, timings included, at step 0
        run.log_figure(figure, "figures/loss_curve.png")

What the skeleton does, in the order that keeps a finished training safe:
- starts (or, with a fingerprint, reopens after a kill) one MLflow run in the study's
  experiment, with the tags of `tracking.run_tags` and a one-line Description of the run,
  and sets the experiment's Description (`Study.experiment_description`);
- `outputs()` replaces the run's previous files (weights, metrics, timings, curve) only
  once every new one is written;
- on leaving the block without an error, tags the run with the hash of its metrics, curve
  and timings (`lineage.OUTPUTS_TAG`: how the report finds it; the timings tell two reruns
  with identical results apart) and ends it FINISHED (FAILED on an error, KILLED on an
  interrupt: never left RUNNING);
- then, if MLflow failed to record anything, raises a one-line error saying the outputs
  are safe; otherwise deletes the resume state.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from pipeline.core import figures
from pipeline.core.callbacks import MlflowEpochLogger
from pipeline.core.io import StagedOutputs, staged_outputs
from pipeline.core.lineage import OUTPUTS_TAG, outputs_fingerprint
from pipeline.core.params import SharedParams
from pipeline.core.paths import SUMMARY_STEP, Study, project_root
from pipeline.core.tracking import RunTracker, run_tags


class TrackedRun:
    def __init__(
        self,
        study: Study,
        run: str,
        *,
        stage: str,
        shared: SharedParams,
        dataset: str,
        model: str,
        fingerprint: str | None = None,
        parent_run_id: str | None = None,
        lineage: Sequence[Path] | None = None,
        extra_tags: dict[str, str] | None = None,
        run_name: str | None = None,
        description: str | None = None,
    ):
        """`fingerprint` (params + data + code) makes the run resumable: a killed stage
        rerun with the same fingerprint reopens the same MLflow run and resume state.
        `lineage`: the files whose hash identifies the run (default: `RunPaths.lineage`,
        metrics, curve and timings).
        `run_name`: the MLflow run's name when it should say more than `run` (its files' name);
        by default `Study.run_label(run)`.
        `description`: what the run is, in a line (the run's Description in the MLflow UI); by
        default its model, data set and stage."""
        self.study = study
        self.name = run
        self.stage = stage
        self.paths = study.paths(run)
        self.root = project_root()
        self.lineage = [self.root / p for p in (lineage or self.paths.lineage)]
        self.state_dir = self.paths.resume_dir(fingerprint) if fingerprint else None
        tags = run_tags(stage=stage, dataset=dataset, profile=shared.profile, model=model, **(extra_tags or {}))
        if fingerprint:
            tags["config_sha256"] = fingerprint
        self.tracker = RunTracker(
            study.experiment,
            run_name or study.run_label(run),
            tags,
            resume_file=self.state_dir / "mlflow_run_id" if self.state_dir else None,
            parent_run_id=parent_run_id,
            description=description or default_description(study, run, model=model, dataset=dataset, stage=stage),
            experiment_description=study.experiment_description,
        )
        self.epoch_loggers: list[MlflowEpochLogger] = []
        self.started = time.perf_counter()

    @property
    def resume_state(self) -> Path | None:
        """Where `fit` keeps its resume file (None: the run starts over when killed)."""
        return self.state_dir / "state.pt" if self.state_dir else None

    @property
    def seconds(self) -> float:
        """Wall time since the run object was made (the stage after its imports)."""
        return time.perf_counter() - self.started

    def __enter__(self) -> TrackedRun:
        self.tracker.__enter__()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.tracker.set_tags({OUTPUTS_TAG: outputs_fingerprint(*self.lineage)})
        self.tracker.__exit__(exc_type, exc, tb)
        if exc_type is None:
            self.tracker.raise_if_incomplete(
                self.name, "rerun the stage to log it again" + (" (it resumes from the finished state)" if self.state_dir else "")
            )
            if self.state_dir:
                shutil.rmtree(self.state_dir, ignore_errors=True)

    def epoch_logger(self, loss_by: dict[str, str] | None = None, rename: dict[str, str] | None = None) -> MlflowEpochLogger:
        """The per-epoch MLflow logger of this run (see `MlflowEpochLogger`); `log_summary` leaves its keys out."""
        logger = MlflowEpochLogger(self.tracker, loss_by, rename)
        self.epoch_loggers.append(logger)
        return logger

    @contextlib.contextmanager
    def outputs(self, clear: Sequence[Path] | None = None) -> Iterator[StagedOutputs]:
        """Stage the run's files; on success they replace the previous ones together."""
        if clear is None:
            clear = (self.paths.output_dir, self.paths.metrics_file, self.paths.timings_file, self.paths.curve_file)
        with staged_outputs(self.root, clear=[self.root / p for p in clear]) as out:
            yield out

    def log_summary(self, metrics: dict, skip: Sequence[str] = ()) -> None:
        """The numeric summary metrics, at step `SUMMARY_STEP` (0) in every study, leaving out `skip`
        and every key this run's epoch loggers logged.

        One step for every summary, so MLflow charts each as a bar (one value per run) and
        compares runs of different lengths. The per-epoch keys stay out: a second value at
        step 0 would read as an epoch-0 point of their curves (epochs are steps 1, 2, ...).
        Give it the whole dict, timings included: only the files keep timings apart.
        """
        left_out = set(skip).union(*(logger.keys for logger in self.epoch_loggers))
        numeric = {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float)) and k not in left_out}
        self.tracker.log_metrics(numeric, step=SUMMARY_STEP)

    def log_figure(self, figure, artifact_file: str) -> None:
        """Log a matplotlib figure and close it."""
        self.tracker.log_figure(figure, artifact_file)
        figures.close(figure)

    def say(self, message: str) -> None:
        print(f"{self.name}: {message}", file=sys.stderr)


def default_description(study: Study, run: str, *, model: str, dataset: str, stage: str) -> str:
    """A run's one-line Description when its stage gives none: what it trained, on what, where from."""
    return f"{study.experiment} run `{run}`: model {model} on data set {dataset} (DVC stage `{stage}`)."
