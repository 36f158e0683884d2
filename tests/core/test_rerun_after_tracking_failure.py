"""The README's "Tracking store" rule: if tracking fails after a training finished, the stage still
writes its weights and metrics, says what was not logged and exits non-zero; rerunning a stage that
keeps a resume file logs again, into the same MLflow run, without training again.

A tiny linear model trained by the real `fit` inside the real `TrackedRun`, on a temporary store.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch
from torch import nn

from pipeline.core import tracking
from pipeline.core.errors import run_cli
from pipeline.core.io import write_metrics, write_text
from pipeline.core.paths import SUMMARY_STEP
from pipeline.core.training import CallbackList, Callbacks, FitConfig, fit
from tests.core.test_tracked_run import SHARED, STUDY

FINGERPRINT = "5eed" * 16
CONFIG = FitConfig(epochs=3, patience=3, lr=0.1)


@dataclass
class Batch:
    x: torch.Tensor  # (B, 1)
    y: torch.Tensor  # (B, 1)

    def to(self, device: torch.device) -> Batch:
        return Batch(self.x.to(device), self.y.to(device))


BATCHES = [Batch(torch.linspace(-1, 1, 8).unsqueeze(1) + k, 3 * torch.linspace(-1, 1, 8).unsqueeze(1) + 3 * k) for k in range(2)]


def mse(model: nn.Module, batch: Batch) -> tuple[torch.Tensor, int]:
    return nn.functional.mse_loss(model(batch.x), batch.y), len(batch.x)


class EpochsTrained(Callbacks):
    def __init__(self):
        self.epochs: list[int] = []

    def on_epoch_end(self, record) -> None:
        self.epochs.append(record.epoch)


def stage(break_mlflow: bool) -> tuple[str, list[int], float]:
    """One run of a resumable training stage: (MLflow run id, epochs it trained, its best val loss)."""
    from pipeline.core.tracked_run import TrackedRun

    torch.manual_seed(0)
    model = nn.Linear(1, 1)
    trained = EpochsTrained()
    with TrackedRun(STUDY, "r1", stage="train_demo@r1", shared=SHARED, dataset="toy", model="linear", fingerprint=FINGERPRINT) as run:
        result = fit(
            model,
            lambda epoch: BATCHES,
            BATCHES,
            mse,
            CONFIG,
            resume_path=run.resume_state,
            fingerprint=FINGERPRINT,
            callbacks=CallbackList(trained, run.epoch_logger()),
        )
        metrics = {"best_val_loss": result.best_val_loss, "train_seconds": result.train_seconds}
        with run.outputs() as out:
            write_metrics(out, run.paths.metrics_file, metrics)
            write_text(out.path(run.paths.curve_file), "epoch,val_loss\n" + "".join(f"{r.epoch},{r.val_loss}\n" for r in result.history))
            torch.save(model.state_dict(), out.path(run.paths.output_dir / "weights.pt"))
        if break_mlflow:

            def locked(*args, **kwargs):
                raise RuntimeError("disk I/O error")

            run.tracker._client.log_batch = locked
        run.log_summary(metrics)
    return run.tracker.run_id, trained.epochs, result.best_val_loss


def test_a_tracking_failure_keeps_the_results_and_the_rerun_logs_them_without_training(workdir, capsys):  # noqa: F811
    with pytest.raises(SystemExit) as exited:
        run_cli(lambda: stage(break_mlflow=True))
    assert exited.value.code == 2  # non-zero: DVC records nothing and reruns the stage next time
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("error: r1: outputs are written, but MLflow did not record everything (log metrics ['best_val_loss'")
    assert error.endswith("; rerun the stage to log it again (it resumes from the finished state)")
    assert (workdir / "metrics/demo/r1.json").is_file() and (workdir / "outputs/demo/r1/weights.pt").is_file()
    killed_state = list((workdir / ".cache/resume/demo").glob("r1-*/state.pt"))
    assert len(killed_state) == 1  # kept for the rerun
    first_run = tracking.client().search_runs(
        [tracking.client().get_experiment_by_name(STUDY.experiment).experiment_id], "tags.mlflow.runName = 'r1'"
    )
    assert len(first_run) == 1 and "best_val_loss" not in first_run[0].data.metrics

    run_id, epochs, best = stage(break_mlflow=False)
    assert epochs == []  # the finished training was read back, not repeated
    assert run_id == first_run[0].info.run_id  # the same MLflow run, not a second one
    logged = tracking.client().get_metric_history(run_id, "best_val_loss")
    assert [(m.step, m.value) for m in logged] == [(SUMMARY_STEP, pytest.approx(best))]
    assert not killed_state[0].parent.exists()  # logged in full: the resume state is gone
