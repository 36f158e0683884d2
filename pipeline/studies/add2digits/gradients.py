"""Stage `measure_add2digits` (HW3-1.1): how much of the loss's gradient reaches each input, by the
input's distance from the end of the sequence, for every model the study trained.

For a model and the test split of its data set, the loss summed over the examples is
differentiated with respect to the one-hot inputs x (B, T, 11). Each example's loss depends only
on its own inputs, so row b of that gradient is d loss_b / d x_b; its norm at position t is
averaged over the examples (mean, and the median beside it) and reported by distance
d = T-1-t from the end (d = 0: the last digit, d = T-1: the first). The label needs the digit
after the marker, anywhere in 1..T-2, so a model that solves the task must carry gradient back
that far. The first-over-last ratio (d = T-1 over d = 0) summarises a curve.

Why it should differ: an RNN's gradient to an input d steps back is a product of d Jacobians
diag(tanh') W_hh, which shrinks (or grows) geometrically; an LSTM's also flows through the cell
state, c_t = f * c_{t-1} + i * g, whose Jacobian is diag(f): a product of forget gates that
training can hold near 1.

Every model is measured twice: with its trained weights and with its initial ones (rebuilt
from the seed its training run started from, so the same draw), which tells what the
architecture does from what training made of it. No training here: the stage reuses the
trained models of `train_add2digits@*` (the reference run where `reference.lengths` holds the
length, and every extended seed), a few seconds in all. It writes
metrics/add2digits/input-gradients.json (timing to timings/), the curves to
plots/add2digits/input-gradients.csv, and logs both, with the figure, to one MLflow run.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F

from pipeline.core.io import write_metrics
from pipeline.core.params import SharedParams
from pipeline.core.runtime import seed_everything
from pipeline.core.tracked_run import TrackedRun
from pipeline.core.tracking import flatten
from pipeline.studies.add2digits import GRADIENTS_RUN, MEASURE_STAGE, STUDY, length_value
from pipeline.studies.add2digits.figures import gradient_figure
from pipeline.studies.add2digits.gradient_table import ARTIFACT, first_over_last, to_logged
from pipeline.studies.add2digits.model import Add2DigitsModel, Batch, encode, load_model
from pipeline.studies.add2digits.params import Add2DigitsParams
from pipeline.studies.add2digits.train import RunSpec, run_specs

WEIGHTS = ("trained", "initial")


def gradient_norms(model: torch.nn.Module, batch: Batch) -> torch.Tensor:
    """(B, T): || d loss_b / d x_{b,t} || for every example b and position t."""
    model.eval()
    x = batch.x.clone().requires_grad_(True)  # (B, T, 11)
    loss = F.cross_entropy(model(x), batch.y, reduction="sum")  # a sum: each example keeps its own gradient
    (gradient,) = torch.autograd.grad(loss, x)  # (B, T, 11)
    return gradient.norm(dim=-1)


def initial_model(spec: RunSpec, shared: SharedParams, config: Add2DigitsParams) -> Add2DigitsModel:
    """The weights the run started from: `train_run` seeds, then builds the model first."""
    seed_everything(shared.seed + spec.replicate)
    return Add2DigitsModel(spec.cell, config.model.hidden_size, config.model.num_layers)


def curve_rows(spec: RunSpec, weights: str, norms: torch.Tensor) -> list[dict]:
    """One row per distance from the end: the mean and median norm over the test examples."""
    by_distance = norms.flip(-1)  # (B, T): column d is the input d steps before the last
    return [
        {
            "model": spec.label,
            "cell": spec.cell,
            "length": length_value(spec.length),
            "grid": spec.grid,
            "replicate": spec.replicate,
            "weights": weights,
            "distance": d,
            "gradient_norm": float(by_distance[:, d].mean()),
            "gradient_norm_median": float(by_distance[:, d].median()),
        }
        for d in range(by_distance.shape[1])
    ]


def measure(shared: SharedParams, config: Add2DigitsParams, root: Path) -> pd.DataFrame:
    """Every trained model of the matrix, trained and initial weights: the curve table."""
    rows = []
    for cell in config.matrix.cell:
        for length in config.matrix.length:
            for spec in run_specs(cell, length, config, root):
                test = encode(spec.splits["test"])
                models = {"trained": load_model(root / STUDY.paths(spec.name).output_dir), "initial": initial_model(spec, shared, config)}
                for weights in WEIGHTS:
                    rows += curve_rows(spec, weights, gradient_norms(models[weights], test))
    return pd.DataFrame(rows)


def measure_gradients(shared: SharedParams, config: Add2DigitsParams, root: Path) -> pd.DataFrame:
    started = time.perf_counter()
    curves = measure(shared, config, root)
    summary = first_over_last(curves)
    ratios = {model: dict(zip(rows["weights"], rows["first_over_last"])) for model, rows in summary.groupby("model", sort=False)}
    paths = STUDY.paths(GRADIENTS_RUN)
    with TrackedRun(
        STUDY,
        GRADIENTS_RUN,
        stage=MEASURE_STAGE,
        shared=shared,
        dataset="add2digits-test-splits",
        model="+".join(config.matrix.cell),
        extra_tags={"grid": "all"},
        description="Add2Digits input gradients (HW3-1.1): for every trained model and its initial weights, the norm of "
        "the loss's gradient with respect to each input, by distance from the end (mean over the test split).",
    ) as run:
        run.tracker.log_params({"models": sorted(ratios), "weights": list(WEIGHTS), "seed": shared.seed})
        metrics = {"first_over_last": ratios, "models": len(ratios), "measure_seconds": round(time.perf_counter() - started, 2)}
        with run.outputs(clear=[paths.metrics_file, paths.timings_file, paths.curve_file]) as out:
            write_metrics(out, paths.metrics_file, metrics)
            curves.to_csv(out.path(paths.curve_file), index=False, float_format="%.6g")
        run.log_summary(flatten(metrics))  # first_over_last.<model>.<weights>, at step 0 like every summary
        run.tracker.log_table(to_logged(curves), ARTIFACT)
        run.log_figure(gradient_figure(curves), "figures/input_gradients.png")
    print(f"{MEASURE_STAGE}: input gradients of {len(ratios)} models in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return curves
