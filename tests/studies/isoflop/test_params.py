"""The `isoflop` section of params.yaml: the grid, its shared training, the budget stop and the fits."""

from __future__ import annotations

import pytest

from pipeline.core.errors import PipelineError
from pipeline.studies.isoflop import params, stages
from tests.params_helpers import PARAMS, params_error, write_params


def _grid(raw: dict) -> dict:
    return raw["isoflop"]


def test_real_params_match_the_assignment():
    grid = params.load(PARAMS).isoflop
    assert grid.matrix.hidden_sizes() == {"h16": 16, "h32": 32, "h48": 48, "h64": 64, "h96": 96, "h128": 128}
    assert grid.scaling.budgets == pytest.approx([8e10, 1.6e11, 3.2e11, 6.4e11, 1.28e12])
    assert grid.stop_at_flops == pytest.approx(1.28e12)
    assert grid.scaling.min_models_per_budget == 3
    run = grid.train.run(48)
    assert (run.hidden_size, run.dataset, run.num_layers, run.epochs) == (48, "small", 4, 100)


def test_unedited_copy_loads(tmp_path):
    params.load(write_params(tmp_path, lambda raw: None))


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda raw: _grid(raw)["scaling"].update(budgets=[1e11, 8e10]),
            "isoflop.scaling.budgets.1: budgets must be strictly increasing, got 8e+10 after 1e+11",
        ),
        (
            lambda raw: _grid(raw)["scaling"].update(budgets=[1e11, 1e11]),
            "isoflop.scaling.budgets.1: budgets must be strictly increasing, got 1e+11 after 1e+11",
        ),
        (lambda raw: _grid(raw)["scaling"].update(budgets=[0, 8e10]), "isoflop.scaling.budgets.0: Input should be greater than 0, got 0"),
        (lambda raw: _grid(raw)["scaling"].update(budgets=[8e10]), "isoflop.scaling.budgets: List should have at least 2 items"),
        (
            lambda raw: _grid(raw)["scaling"].update(min_models_per_budget=2),
            "isoflop.scaling.min_models_per_budget: Input should be greater than or equal to 3, got 2",
        ),
    ],
    ids=["decreasing", "repeated", "zero", "one-budget", "two-models"],
)
def test_bad_budgets_name_the_key(tmp_path, edit, expected):
    assert expected in params_error(params.load, write_params(tmp_path, edit))


def test_stop_at_flops_below_the_largest_budget(tmp_path):
    message = params_error(params.load, write_params(tmp_path, lambda raw: _grid(raw).update(stop_at_flops=1e11)))
    assert message.endswith(
        ": isoflop.stop_at_flops: must be at least the largest budget in isoflop.scaling.budgets (1.28e+12) or null, got 1e+11"
    )


@pytest.mark.parametrize("stop", [1.28e12, 5e12, None], ids=["equal", "above", "null"])
def test_stop_at_flops_at_or_above_the_largest_budget_or_null(tmp_path, stop):
    assert params.load(write_params(tmp_path, lambda raw: _grid(raw).update(stop_at_flops=stop))).isoflop.stop_at_flops == stop


@pytest.mark.parametrize(
    ("models", "expected"),
    [
        (["h16", "h33", "h64"], "isoflop.matrix.model: hidden size must be even, got 'h33'"),
        (["h16", "big", "h64"], "isoflop.matrix.model: model names must look like h<hidden size>, e.g. h64, got 'big'"),
        (["h16", "h0", "h64"], "isoflop.matrix.model: model names must look like h<hidden size>, e.g. h64, got 'h0'"),
        (["h16", "h16", "h64"], "isoflop.matrix.model: model names must be unique, got ['h16', 'h16', 'h64']"),
        (["h16", "h64"], "isoflop.matrix.model: List should have at least 3 items"),
    ],
    ids=["odd", "not-a-size", "zero", "duplicate", "too-few"],
)
def test_bad_grid_members_name_the_key(tmp_path, models, expected):
    assert expected in params_error(params.load, write_params(tmp_path, lambda raw: _grid(raw)["matrix"].update(model=models)))


@pytest.mark.parametrize(
    ("edit", "fragments"),
    [
        (lambda raw: _grid(raw)["train"].update(dataset="medium"), [
            "isoflop.train.dataset: must be one of ['large', 'small'] (piglatin.files), got 'medium'"]),
        (lambda raw: _grid(raw)["train"].update(hidden_size=32), ["isoflop.train.hidden_size", "unknown key"]),
        (lambda raw: _grid(raw)["train"].update(lr_decay=0), ["isoflop.train.lr_decay", "greater than 0"]),
        (lambda raw: _grid(raw).pop("stop_at_flops"), ["isoflop.stop_at_flops", "missing"]),
        (lambda raw: _grid(raw).update(published_slope=[0.4]), ["isoflop.published_slope.1", "missing"]),
    ],
    ids=["unknown-dataset", "hidden-size-in-train", "zero-decay", "no-stop", "range-of-one"],
)
def test_bad_training_settings_name_the_key(tmp_path, edit, fragments):
    message = params_error(params.load, write_params(tmp_path, edit))
    for fragment in fragments:
        assert fragment in message, message


def test_stage_with_an_unknown_member_is_one_line(tmp_path, monkeypatch):
    write_params(tmp_path, lambda raw: None)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PipelineError) as caught:
        stages.train(model="h40")
    assert str(caught.value) == (
        "params.yaml: isoflop.matrix.model: no member 'h40' (members: h16, h32, h48, h64, h96, h128)"
    )
