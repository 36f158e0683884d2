"""Where things live: the project root, the user's workspace, each study's names and each run's files."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
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


METRICS_DIR = Path("metrics")  # results, declared as DVC metrics: `dvc metrics diff` compares them
TIMINGS_DIR = Path("timings")  # wall-clock timings, plain outputs: they change on every run


def timings_file(metrics_file: Path) -> Path:
    """The timings twin of a metrics path: metrics/<rest> -> timings/<rest> (a file or a folder).

    Timings live apart so that `dvc metrics diff` after a rerun of unchanged code shows
    nothing; the twin path makes each result's timings easy to find.
    """
    return TIMINGS_DIR / Path(metrics_file).relative_to(METRICS_DIR)


@dataclass(frozen=True)
class RunPaths:
    """The files one training run of a study writes, relative to the project root.

    `outputs/<study>/<run>/` (weights, DVC-cached), `metrics/<study>/<run>.json`, its timings
    `timings/<study>/<run>.json` and the per-epoch curve `plots/<study>/<run>.csv` (all small
    and kept in git). dvc.yaml names the same paths in the study's block.
    """

    study: str
    run: str

    @property
    def output_dir(self) -> Path:
        return Path("outputs") / self.study / self.run

    @property
    def metrics_file(self) -> Path:
        return METRICS_DIR / self.study / f"{self.run}.json"

    @property
    def timings_file(self) -> Path:
        return timings_file(self.metrics_file)

    @property
    def curve_file(self) -> Path:
        return Path("plots") / self.study / f"{self.run}.csv"

    @property
    def lineage(self) -> tuple[Path, Path, Path]:
        """The files whose hash identifies the MLflow run that wrote them (`lineage.OUTPUTS_TAG`).

        The timings are in it: two reruns with identical results still differ there, so
        each maps to its own run, and the report finds the one behind the current files.
        """
        return (self.metrics_file, self.curve_file, self.timings_file)

    def resume_dir(self, fingerprint: str) -> Path:
        """Scratch state that must survive DVC deleting a stage's outputs before a rerun.

        Keyed by the config fingerprint, so queued experiments of one run name with
        different params never overwrite each other's state.
        """
        return main_workspace() / ".cache" / "resume" / self.study / f"{self.run}-{fingerprint[:16]}"


# Where MLflow logs each kind of metric: a per-epoch metric at step = epoch (1, 2, ...), so its
# chart is a curve; a summary metric (one number per run) once at this step, so its chart is a bar.
SUMMARY_STEP = 0


@dataclass(frozen=True)
class Study:
    """A study's names and what it is, defined once in its package: folder and params key,
    MLflow experiment, DVC stage names, the experiment's description and the meaning of its less obvious metrics."""

    name: str  # params.yaml key, outputs/<name>/, metrics/<name>/, plots/<name>/
    experiment: str | None = None  # MLflow experiment holding its runs (None: a data study, no runs)
    description: str = ""  # what the study is, one or two sentences (the MLflow experiment's Description)
    # The less obvious metric names its runs log (a name, or a pattern with `*`) -> what they mean.
    metrics: Mapping[str, str] = field(default_factory=dict, hash=False)
    # Prefix of its MLflow run names where another experiment has runs of the same names (`bert finetune`).
    run_prefix: str | None = None
    # Its training stages' name in dvc.yaml, before `@<entry>` (None: `train_<name>`).
    stage_prefix: str | None = None

    def paths(self, run: str) -> RunPaths:
        return RunPaths(self.name, run)

    def trained_output_dir(self, run: str, noun: str = "run") -> Path:
        """The output folder of `run` for a CLI that loads it (translate, predict): the run must
        have been trained here, or the one-line error names the stage that trains it."""
        from pipeline.core.errors import PipelineError

        folder = project_root() / self.paths(run).output_dir
        if not folder.is_dir():
            raise PipelineError(f"{folder}: no trained {noun} {run!r}; run `dvc repro {self.stage_name(run)}` first")
        return folder

    def run_label(self, run: str) -> str:
        """The MLflow run name of `run` (its files' name): `run`, after `run_prefix` if any."""
        return f"{self.run_prefix} {run}" if self.run_prefix else run

    def stage_name(self, *keys: str, block: str | None = None) -> str:
        """The DVC stage of one entry of its training block: `<stage_prefix>[_<block>]@<keys joined by ->`.

        The name DVC gives a foreach entry (`train_recurrent@gru-small`: one key) or a matrix
        entry (`train_add2digits@lstm-L30`: one key per axis); no keys: a single stage
        (`train_decoder_only`). `block` names another block of the study (`train_transformer_seeds@h32-small`).
        """
        stage = self.stage_prefix or f"train_{self.name}"
        if block:
            stage = f"{stage}_{block}"
        return f"{stage}@{'-'.join(keys)}" if keys else stage

    @property
    def experiment_description(self) -> str:
        """The MLflow experiment's Description (markdown): what the study is, how steps are used, its metrics."""
        lines = [
            self.description.strip(),
            "",
            f"Per-epoch metrics are logged at step = epoch (1, 2, ...); each run's summary metrics once, at step {SUMMARY_STEP}.",
        ]
        if self.metrics:
            lines += ["", "Metrics whose names do not say it all:", ""]
            lines += [f"- `{name}`: {meaning}" for name, meaning in self.metrics.items()]
        return "\n".join(lines)
