"""The input gradients (HW3-1.1): the norms against closed forms and per-example autograd, the summary
ratio on a made-up curve, and the table's trip through MLflow's 10-decimal JSON."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from pipeline.studies.add2digits.data import NUM_CLASSES, NUM_TOKENS, generate, rng_for
from pipeline.studies.add2digits.gradient_table import first_over_last, from_logged, to_logged
from pipeline.studies.add2digits.gradients import gradient_norms
from pipeline.studies.add2digits.model import Add2DigitsModel, encode


def _batch(length: int = 6, n: int = 5):
    return encode(generate(n, length, rng_for(0, length, 0)))


def test_norms_of_a_linear_model_match_the_closed_form():
    """For logits z = W vec(x) + b, d CE / d x = W^T (softmax(z) - onehot(y)), reshaped to (T, 11)."""
    torch.manual_seed(0)
    batch = _batch()
    length = batch.x.shape[1]
    linear = nn.Linear(length * NUM_TOKENS, NUM_CLASSES)
    model = nn.Sequential(nn.Flatten(), linear)
    with torch.no_grad():
        z = model(batch.x)
        error = torch.softmax(z, -1) - F.one_hot(batch.y, NUM_CLASSES).float()  # (B, 19)
        expected = (error @ linear.weight).view(len(batch), length, NUM_TOKENS).norm(dim=-1)  # (B, T)
    assert torch.allclose(gradient_norms(model, batch), expected, atol=1e-6)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_each_row_is_that_examples_own_gradient(cell: str):
    torch.manual_seed(1)
    model = Add2DigitsModel(cell, hidden_size=6, num_layers=2)
    batch = _batch(length=7, n=4)
    together = gradient_norms(model, batch)
    for b in range(len(batch)):
        x = batch.x[b : b + 1].clone().requires_grad_(True)
        (gradient,) = torch.autograd.grad(F.cross_entropy(model(x), batch.y[b : b + 1]), x)
        assert torch.allclose(together[b], gradient[0].norm(dim=-1), atol=1e-6)


def _curve(model: str, weights: str, norms: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": model,
            "cell": model.split("-")[0],
            "length": len(norms),
            "grid": "extended",
            "replicate": 0,
            "weights": weights,
            "distance": range(len(norms)),
            "gradient_norm": norms,
            "gradient_norm_median": norms,
        }
    )


def test_first_over_last_and_the_factor_per_step():
    curves = pd.concat(
        [_curve("rnn-L3-extended-s0", "trained", [2.0, 1.0, 0.5]), _curve("rnn-L3-extended-s0", "initial", [1.0, 0.1, 0.01])]
    )
    summary = first_over_last(curves).set_index("weights")
    assert summary.loc["trained", "first_over_last"] == pytest.approx(0.25) and summary.loc["trained", "per_step"] == pytest.approx(0.5)
    assert summary.loc["initial", "first_over_last"] == pytest.approx(0.01) and summary.loc["initial", "per_step"] == pytest.approx(0.1)


def _through_mlflow(frame: pd.DataFrame) -> pd.DataFrame:
    """What `log_table` then `artifact_table` give back: pandas' split JSON, 10 decimals by default."""
    return pd.read_json(io.StringIO(frame.to_json(orient="split", index=False)), orient="split")


def test_tiny_norms_survive_mlflows_ten_decimals():
    curves = _curve("rnn-L3", "initial", [2.512345678, 3.1234567e-4, 6.71234567e-7])
    back = from_logged(_through_mlflow(to_logged(curves)))
    assert np.allclose(back["gradient_norm"], curves["gradient_norm"], rtol=1e-8, atol=0)
    plain = _through_mlflow(curves)["gradient_norm"]  # what the table as it is would keep: 4 digits of 6.7e-7
    assert abs(plain.iloc[-1] / curves["gradient_norm"].iloc[-1] - 1) > 1e-5
