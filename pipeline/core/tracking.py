"""MLflow tracking: one local store per checkout, tolerant logging.

The default store is `<workspace>/.mlflow/` (SQLite database + artifact folder), found
from the user's real checkout also when DVC runs a stage in a temporary copy
(`dvc exp run --temp/--queue`), so every run lands in one place. `MLFLOW_TRACKING_URI`
overrides it, e.g. to point at a shared `mlflow server`.

A training run must never be lost because tracking broke: `RunTracker` catches every
MLflow error, records what could not be logged, and the stage reports it after its
own output files are safely written.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.core.errors import PipelineError
from pipeline.core.paths import main_workspace, project_root

STORE_DIR = ".mlflow"


def store_dir() -> Path:
    return main_workspace() / STORE_DIR


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{store_dir() / 'mlflow.db'}"


def _uses_default_store() -> bool:
    return not os.environ.get("MLFLOW_TRACKING_URI")


@contextlib.contextmanager
def _store_lock() -> Iterator[None]:
    """Serialises first use of the store: concurrent schema creation races in SQLite."""
    if not _uses_default_store():
        yield
        return
    store_dir().mkdir(parents=True, exist_ok=True)
    with open(store_dir() / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def client():
    """An MlflowClient on the project's store, creating the store on first use."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # bars garble DVC's log
    # MLflow 3 reports usage to its makers from a background thread by default; a local store
    # of experiments, often offline, has no business doing that (set it to "false" to allow).
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    for noisy in ("alembic", "mlflow.store.db.utils"):  # schema-migration chatter on first use
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from mlflow.tracking import MlflowClient

    with _store_lock():
        mlflow_client = MlflowClient(tracking_uri=tracking_uri())
        mlflow_client.search_experiments(max_results=1)  # forces schema creation under the lock
        if _uses_default_store():
            _write_ahead_log(store_dir() / "mlflow.db")
    return mlflow_client


def _write_ahead_log(database: Path) -> None:
    """Put the SQLite store in write-ahead-log mode (kept in the file: once is enough).

    Stages run side by side (`python -m pipeline.repro`) and each logs every epoch; with
    SQLite's default rollback journal a reader blocks a writer, while in WAL mode readers never
    block and writers queue behind MLflow's 20 s busy timeout (plus `RunTracker`'s retries).
    """
    import sqlite3

    connection = sqlite3.connect(database, timeout=60)
    try:
        if connection.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()


# MLflow's UI shows this tag of an experiment or a run as its Description.
NOTE_TAG = "mlflow.note.content"


def _artifact_location(experiment: str) -> str | None:
    """Artifacts sit beside a SQLite store's database (`<store>/artifacts/<experiment>`). MLflow's own
    default for a database store is `./mlruns` under whatever folder the command ran in, which scatters
    one store's figures over the folders a user happened to be in. A server URI keeps its own default."""
    uri = tracking_uri()
    if not uri.startswith("sqlite:///"):
        return None
    return (Path(uri.removeprefix("sqlite:///")).parent / "artifacts" / experiment).as_uri()


def experiment_id(mlflow_client, name: str, description: str | None = None) -> str:
    """The id of experiment `name`, created if missing; `description` (markdown) becomes its
    Description in the UI, set on creation and again whenever the code's text differs."""
    with _store_lock():
        experiment = mlflow_client.get_experiment_by_name(name)
        if experiment is None:
            location = _artifact_location(name)
            exp_id = mlflow_client.create_experiment(name, artifact_location=location)
            current = None
        else:
            exp_id, current = experiment.experiment_id, experiment.tags.get(NOTE_TAG)
        if description and description != current:
            try:
                _retry_while_locked(lambda: mlflow_client.set_experiment_tag(exp_id, NOTE_TAG, description))
            except Exception as error:  # noqa: BLE001 - a description must not stop a run; the next one sets it
                print(f"warning: MLflow could not set the description of experiment {name!r}: {error}", file=sys.stderr)
        return exp_id


# What a run's code and settings are: `git_dirty` looks at these only, since every repro
# rewrites tracked results (metrics/, timings/, plots/, reports/, dvc.lock) and would mark every run dirty.
CODE_AND_PARAMS = ("pipeline", "stages", "params.yaml", "dvc.yaml", "pyproject.toml", "uv.lock")


def git_state(root: Path | None = None) -> tuple[str, bool]:
    """(commit, dirty): dirty when the code or params that ran differ from the commit.

    ('unknown', False) outside git.
    """
    root = root or project_root()
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--", *CODE_AND_PARAMS], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        return commit, bool(changed)
    except (OSError, subprocess.CalledProcessError):
        return "unknown", False


def run_tags(*, stage: str, dataset: str, profile: str, model: str, **extra: str) -> dict[str, str]:
    """The tags every run carries: what ran (commit, stage, command), on what, by whom.

    The `mlflow.*` tags are MLflow's own conventions: its UI shows them as the
    "Source", "Version" and "User" columns.
    """
    source = source_tags()
    return {
        "git_commit": source["git_commit"],
        "git_dirty": source["git_dirty"],
        "dvc_stage": os.environ.get("DVC_STAGE", stage),
        "dataset": dataset,
        "profile": profile,
        "model": model,
        **{key: value for key, value in source.items() if key.startswith("mlflow.")},
        **extra,
    }


def source_tags(command: str | None = None) -> dict[str, str]:
    """What ran, from which commit, by whom: `command` (default: this process's command line)
    as MLflow's *Source*, the commit as its *Version*, the user as its *User*."""
    commit, dirty = git_state()
    return {
        "git_commit": commit,
        "git_dirty": str(dirty).lower(),
        "mlflow.source.type": "LOCAL",
        "mlflow.source.name": command or command_line(),
        "mlflow.source.git.commit": commit,
        "mlflow.user": _user(),
    }


def command_line() -> str:
    """How this process was started, as a user would type it (`python -m stages ...`)."""
    program = Path(sys.argv[0])
    if program.name == "__main__.py":
        program_text = f"python -m {program.parent.name}"
    else:
        program_text = f"python {program.name}"
    return " ".join([program_text, *sys.argv[1:]])


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"


def flatten(data: dict, prefix: str = "") -> dict[str, Any]:
    """{'run': {'lr': 1}} -> {'run.lr': 1}: stable, diffable param names."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


PARENT_RUN_TAG = "mlflow.parentRunId"
LOCKED_RETRIES = (1, 2, 4, 8, 15)  # seconds between tries, after MLflow's own 20 s busy wait


# What a concurrent writer makes MLflow's SQL store say, meaning "try again":
# - "database is locked": another process holds SQLite's write lock;
# - a UNIQUE constraint on `datasets`: two stages logged the same data set into one experiment at
#   once (the ablations' runs share their training words); MLflow looks the data set up, finds
#   none, and inserts it, so the slower one's insert fails and its transaction is rolled back;
#   tried again, it finds the row the other inserted and only links it to its run.
TRY_AGAIN = ("database is locked", "UNIQUE constraint failed: datasets.")


def _retry_while_locked(action):
    """`action()`, tried again while another process's write gets in its way (`TRY_AGAIN`).

    MLflow already waits 20 s for the lock; a stage logging beside another busy one can
    still see "database is locked", which only means "later".
    """
    import time

    for pause in (*LOCKED_RETRIES, None):
        try:
            return action()
        except Exception as error:  # noqa: BLE001 - MLflow wraps sqlite3 errors in its own types
            if pause is None or not any(reason in str(error) for reason in TRY_AGAIN):
                raise
            time.sleep(pause)


def parent_run(
    experiment: str,
    run_name: str,
    key: str,
    tags: dict[str, str],
    description: str | None = None,
    experiment_description: str | None = None,
) -> str:
    """The id of the parent run identified by `key` (a config hash), created if missing.

    Children of one group (e.g. the IsoFLOP grid's members, separate DVC stages) each
    call this; the first creates the run, the others find it. The parent holds no
    training of its own, so it is ended FINISHED at once and never left RUNNING;
    analyses of the group (the scaling fits) log into it afterwards, and
    `cover_children` stretches its span over its children's.
    `description`: the run's Description in the UI (tag `NOTE_TAG`).
    """
    mlflow_client = client()
    exp_id = experiment_id(mlflow_client, experiment, experiment_description)
    if description:
        tags = tags | {NOTE_TAG: description}
    with _store_lock():  # two members starting at once must not create two parents
        found = mlflow_client.search_runs(
            [exp_id], filter_string=f"tags.{GROUP_KEY_TAG} = '{key}'", order_by=["attributes.start_time DESC"], max_results=1
        )
        if found:
            return found[0].info.run_id
        run = mlflow_client.create_run(exp_id, run_name=run_name, tags=tags | {GROUP_KEY_TAG: key})
        mlflow_client.set_terminated(run.info.run_id, "FINISHED")
        return run.info.run_id


GROUP_KEY_TAG = "group_key"


def cover_children(run_id: str, children: list, end_time: int | None = None) -> tuple[int, int]:
    """Stretch a parent run's end over its children's: end = the latest of its own end, every
    child's end (or start, for a child still running) and `end_time` (ms since the epoch).

    MLflow cannot move a run's start once it exists (`MlflowClient.update_run` takes a status
    and a name, `set_terminated` an end time; only `create_run` takes a start time): a parent
    created by `parent_run` starts before its first child, so its start already comes first
    unless a child was created before it. Returns the run's (start, end) in ms.
    """
    mlflow_client = client()
    with _store_lock():  # members finishing at once: each end is the max of every end seen
        run = mlflow_client.get_run(run_id)
        ends = [run.info.end_time or run.info.start_time, end_time or 0]
        ends += [child.info.end_time or child.info.start_time or 0 for child in children]
        end = max(ends)
        if end != run.info.end_time:
            _retry_while_locked(lambda: mlflow_client.set_terminated(run_id, run.info.status, end_time=end))
        return run.info.start_time, end


class RunTracker:
    """One MLflow run, used as a context manager; never raises on tracking errors.

    On exit the run is ended FINISHED, FAILED (exception) or KILLED (interrupt). If
    `resume_file` names a file holding the run id of an earlier, interrupted attempt,
    that run is reopened so a resumed training keeps a single MLflow run.
    """

    def __init__(
        self,
        experiment: str,
        run_name: str,
        tags: dict[str, str],
        resume_file: Path | None = None,
        parent_run_id: str | None = None,
        description: str | None = None,
        experiment_description: str | None = None,
    ):
        """`description`: the run's Description in the UI (tag `NOTE_TAG`), what the run is in a line;
        `experiment_description`: the experiment's, set when the run starts (`experiment_id`)."""
        self.experiment = experiment
        self.run_name = run_name
        self.experiment_description = experiment_description
        # MLflow nests a run under another through this tag (the UI shows it as a child).
        self.tags = tags | ({PARENT_RUN_TAG: parent_run_id} if parent_run_id else {}) | ({NOTE_TAG: description} if description else {})
        self.resume_file = resume_file
        self.run_id: str | None = None
        self.resumed = False
        self.failures: list[str] = []
        self._client = None

    @classmethod
    def existing(cls, run_id: str) -> RunTracker:
        """The logging methods on a run that already ended (e.g. a parent run), not reopening it."""
        tracker = cls(experiment="", run_name="", tags={})
        tracker._client, tracker.run_id = client(), run_id
        return tracker

    # -- lifecycle ---------------------------------------------------------------------

    def __enter__(self) -> RunTracker:
        self._safely("start the run", self._start)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            status = "FINISHED"
        elif issubclass(exc_type, KeyboardInterrupt):
            status = "KILLED"
        else:
            status = "FAILED"
        if self.run_id:  # always try, even after earlier failures: never leave a run RUNNING
            try:
                self._client.set_terminated(self.run_id, status)
            except Exception as error:  # noqa: BLE001
                self.failures.append(f"end the run as {status}: {error}")

    def _start(self) -> None:
        self._client = client()
        exp_id = experiment_id(self._client, self.experiment, self.experiment_description)
        previous = self._previous_run_id()
        if previous:
            self._client.update_run(previous, status="RUNNING")
            self.run_id, self.resumed = previous, True
        else:
            run = self._client.create_run(exp_id, run_name=self.run_name, tags=self.tags)
            self.run_id = run.info.run_id
        if self.resume_file:
            self.resume_file.parent.mkdir(parents=True, exist_ok=True)
            self.resume_file.write_text(self.run_id)

    def _previous_run_id(self) -> str | None:
        if not (self.resume_file and self.resume_file.exists()):
            return None
        run_id = self.resume_file.read_text().strip()
        try:
            run = self._client.get_run(run_id)
        except Exception:
            return None
        return run_id if run.info.lifecycle_stage == "active" else None

    # -- logging -----------------------------------------------------------------------

    def last_step(self, key: str) -> int:
        """Highest step logged for metric `key` (0 if none or unknown)."""
        try:
            return max((m.step for m in self._client.get_metric_history(self.run_id, key)), default=0)
        except Exception:  # noqa: BLE001 - worst case the caller re-logs some steps
            return 0

    def log_params(self, params: dict[str, Any]) -> None:
        from mlflow.entities import Param

        items = [Param(k, str(v)) for k, v in flatten(params).items()]
        for start in range(0, len(items), 100):  # MLflow takes at most 100 params per batch
            self._safely("log params", lambda chunk=items[start : start + 100]: self._client.log_batch(self.run_id, params=chunk))

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [Metric(k, float(v), now, step or 0) for k, v in metrics.items()]
        self._safely(f"log metrics {sorted(metrics)}", lambda: self._client.log_batch(self.run_id, metrics=items))

    def set_tags(self, tags: dict[str, str]) -> None:
        from mlflow.entities import RunTag

        items = [RunTag(k, str(v)) for k, v in tags.items()]
        self._safely(f"set tags {sorted(tags)}", lambda: self._client.log_batch(self.run_id, tags=items))

    def log_figure(self, figure, artifact_file: str) -> None:
        self._safely(f"log figure {artifact_file}", lambda: self._client.log_figure(self.run_id, figure, artifact_file))

    def log_table(self, frame, artifact_file: str) -> None:
        self._safely(f"log table {artifact_file}", lambda: self._client.log_table(self.run_id, frame, artifact_file))

    def log_dataset(self, frame, name: str, source: str, context: str) -> None:
        def log() -> None:
            import warnings

            import mlflow.data
            from mlflow.entities import DatasetInput, InputTag

            # "source can be interpreted in multiple ways" (it is a local file) and "integer
            # column(s)" schema hints (our columns have no missing values) are noise here.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                dataset = mlflow.data.from_pandas(frame, source=source, name=name)._to_mlflow_entity()
            tag = InputTag(key="mlflow.data.context", value=context)
            self._client.log_inputs(self.run_id, datasets=[DatasetInput(dataset, [tag])])

        self._safely(f"log dataset {name}", log)

    def _safely(self, what: str, action) -> None:
        if self.failures:  # the store is broken; don't pile up errors, but say what was skipped
            self.failures.append(f"skipped: {what}")
            return
        try:
            _retry_while_locked(action)
        except Exception as error:  # noqa: BLE001 - tracking must not kill a finished training
            message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            self.failures.append(f"{what}: {message}")
            print(f"warning: MLflow could not {what}: {message}", file=sys.stderr)

    def failure_summary(self) -> str:
        first = self.failures[0]
        more = len(self.failures) - 1
        return f"{first}" + (f" (and {more} later logging call(s) skipped)" if more else "")

    def raise_if_incomplete(self, label: str, rerun: str = "rerun the stage to log it again") -> None:
        """After the stage's files are safely written: say so, and what MLflow missed."""
        if self.failures:
            raise PipelineError(f"{label}: outputs are written, but MLflow did not record everything ({self.failure_summary()}); {rerun}")
