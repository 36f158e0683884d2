"""The fit stage's computation on synthetic curves of known optimum, and its one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.core.errors import PipelineError
from pipeline.studies.isoflop import APPROACHES, LOSSES
from pipeline.studies.isoflop.fit import finite, fit_scaling
from pipeline.translators.flops import parameter_count
from tests.studies.isoflop import synthetic

SIZES = {f"h{h}": parameter_count(h, 4, 30) for h in (16, 32, 48, 64, 96, 128)}
SMALL = {"bootstrap": {"resamples": 20}, "parametric": {"starts": 2}}
REFERENCE = {"cumulative_flops": 8.6e12, "non_embedding_parameters": 268_062, "cumulative_tokens": 5.0e6}


@pytest.fixture(scope="module")
def result():
    curves = synthetic.grid_curves(SIZES, seeds=2, noise=0.01, reach={"h16": (1e10, 2.2e11), "h128": (8.6e10, 1.3e12)})
    return fit_scaling(curves, synthetic.config(**SMALL), vocab_size=30, seq_len=21.0, reference=REFERENCE)


def test_metrics_hold_every_approach_in_both_losses_with_intervals(result):
    m = result.metrics
    truth = 10 ** (synthetic.SLOPE * 15 + synthetic.INTERCEPT)
    assert m["n_opt_at_1e15"] == pytest.approx(truth, rel=0.15)
    assert m["slope"] == pytest.approx(synthetic.SLOPE, abs=0.02)
    for loss in LOSSES:
        for approach in APPROACHES:
            values = m["estimates"][loss][approach]
            assert {"n_opt", "n_opt_low", "n_opt_high", "d_opt", "slope", "failed_draws"} <= set(values), (loss, approach)
    iso = m["estimates"]["val_loss"]["isoflop"]
    assert iso["n_opt"] == m["n_opt_at_1e15"] and iso["budgets_fitted"] == m["budgets_fitted"]
    assert iso["n_opt_lobo_min"] <= iso["n_opt"] <= iso["n_opt_lobo_max"]
    assert iso["n_opt_low"] <= truth <= iso["n_opt_high"]
    # The notebooks' loss is ours x 1.1 here: the same optimum.
    assert m["estimates"]["val_loss_batch_mean"]["isoflop"]["n_opt"] == pytest.approx(iso["n_opt"], rel=1e-6)
    json.dumps(m, allow_nan=False)  # no NaN reaches the metrics file


def test_the_budget_table_says_which_budgets_count_and_why(result):
    ours = result.table[result.table["loss"] == "val_loss"]
    assert len(ours) == 11 and list(ours["budget"]) == pytest.approx(np.geomspace(4e10, 1.28e12, 11), rel=1e-9)
    assert ours["counts"].all()
    first = ours.iloc[0]
    assert "h128: first evaluation at 8.6e+10 FLOPs, after the budget" in first["left_out"]
    assert "h16: training ended at 2.2e+11 FLOPs" in ours.iloc[-1]["left_out"]


def test_the_reference_setup_is_judged_against_its_interval(result):
    ref = result.metrics["reference_setup"]
    truth = 10 ** (synthetic.SLOPE * np.log10(8.6e12) + synthetic.INTERCEPT)
    assert ref["n_opt_low"] <= truth <= ref["n_opt_high"]
    assert ref["size_ratio"] == pytest.approx(268_062 / ref["n_opt"])


def test_larger_is_better_only_up_to_the_optimum(result):
    best = result.best.set_index("budget")
    truth = synthetic.n_opt(best.index.to_numpy())
    sizes = np.array([SIZES[m] for m in best["best"]])
    # The best member is the one nearest the known optimum in log10 N among those that reached the budget.
    assert np.all(np.abs(np.log10(sizes / truth)) <= 0.5)
    assert not best["larger_always_better"].all()


def _error(curves, **scaling) -> str:
    with pytest.raises(PipelineError) as caught:
        fit_scaling(curves, synthetic.config(**SMALL, **scaling), 30, 21.0, None)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_budgets_no_model_reaches():
    curves = synthetic.grid_curves(SIZES, seeds=1, first=1e9, last=1e10)
    assert _error(curves).startswith("params.yaml: isoflop.scaling.budgets: no model reaches any budget (4e+10 to 1.28e+12 FLOPs)")


def test_fewer_than_three_models_at_every_budget():
    reach = {m: ((1e10, 2e12) if m in ("h16", "h32") else (1e9, 1e10)) for m in SIZES}
    message = _error(synthetic.grid_curves(SIZES, seeds=1, reach=reach))
    assert message.startswith("params.yaml: isoflop.scaling.budgets: at most 2 model(s) reach any budget")


def test_too_few_budgets_count():
    message = _error(synthetic.grid_curves(SIZES, seeds=1), min_r2=1.0)
    assert message.startswith("params.yaml: isoflop.scaling: 0 budget(s) count for loss val_loss, the power laws need 2")


def test_finite_turns_nan_into_null():
    assert finite({"a": {"b": float("nan"), "c": 1.0}, "d": 2}) == {"a": {"b": None, "c": 1.0}, "d": 2}
