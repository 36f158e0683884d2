"""The `isoflop` section of params.yaml: the grid, its shared training, the budget stop and the fits."""

from __future__ import annotations

import pytest

from pipeline.core.errors import PipelineError
from pipeline.studies.isoflop import params, stages
from tests.params_helpers import PARAMS, params_error, write_params


def _grid(raw: dict) -> dict:
    return raw["isoflop"]


def test_real_params_match_the_assignment():
    grid = params.load(PARAMS).config
    assert grid.matrix.hidden_sizes() == {"h16": 16, "h32": 32, "h48": 48, "h64": 64, "h96": 96, "h128": 128}
    assert grid.matrix.seed == [0, 1]
    assert grid.matrix.runs()["h64-s1"] == ("h64", 1) and len(grid.matrix.runs()) == 12
    budgets = grid.scaling.budgets.values()
    # Half-octave steps from 4e10 to 1.28e12: the assignment's five budgets are among them.
    assert budgets == pytest.approx([4e10 * 2 ** (i / 2) for i in range(11)], rel=1e-11)
    assert {8e10, 1.6e11, 3.2e11, 6.4e11, 1.28e12} <= set(budgets)
    assert grid.stop_at_flops == pytest.approx(1.28e12)
    assert (grid.scaling.min_models_per_budget, grid.scaling.min_r2) == (4, 0.5)
    run = grid.train.run(48)
    assert (run.hidden_size, run.dataset, run.num_layers, run.epochs) == (48, "small", 4, 100)


def test_unedited_copy_loads(tmp_path):
    params.load(write_params(tmp_path, lambda raw: None))


def _budgets(raw: dict) -> dict:
    return raw["isoflop"]["scaling"]["budgets"]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda raw: _budgets(raw).update(high=4e10), "isoflop.scaling.budgets.high: must be above low (4e+10), got 4e+10"),
        (lambda raw: _budgets(raw).update(low=0), "isoflop.scaling.budgets.low: Input should be greater than 0, got 0"),
        (lambda raw: _budgets(raw).update(count=1), "isoflop.scaling.budgets.count: Input should be greater than or equal to 2"),
        (lambda raw: _budgets(raw).pop("count"), "isoflop.scaling.budgets.count: required key is missing"),
        (
            lambda raw: _grid(raw)["scaling"].update(min_models_per_budget=2),
            "isoflop.scaling.min_models_per_budget: Input should be greater than or equal to 3, got 2",
        ),
        (lambda raw: _grid(raw)["scaling"].update(min_r2=1.5), "isoflop.scaling.min_r2: Input should be less than or equal to 1"),
        (
            lambda raw: _grid(raw)["scaling"]["bootstrap"].update(resamples=0),
            "isoflop.scaling.bootstrap.resamples: Input should be greater than or equal to 10",
        ),
        (lambda raw: _grid(raw)["scaling"]["bootstrap"].update(level=1.0), "isoflop.scaling.bootstrap.level: Input should be less than 1"),
        (
            lambda raw: _grid(raw)["scaling"]["parametric"].update(starts=0),
            "isoflop.scaling.parametric.starts: Input should be greater than or equal to 1",
        ),
    ],
    ids=["high-not-above-low", "zero", "one-budget", "no-count", "two-models", "r2-above-one", "no-draws", "level-one", "no-starts"],
)
def test_bad_scaling_settings_name_the_key(tmp_path, edit, expected):
    assert expected in params_error(params.load, write_params(tmp_path, edit))


@pytest.mark.parametrize(
    ("seeds", "expected"),
    [
        ([], "isoflop.matrix.seed: List should have at least 1 item after validation, not 0"),
        ([0, 0], "isoflop.matrix.seed: seeds must be unique, got [0, 0]"),
        ([-1], "isoflop.matrix.seed.0: Input should be greater than or equal to 0, got -1"),
    ],
    ids=["empty", "repeated", "negative"],
)
def test_bad_seeds_name_the_key(tmp_path, seeds, expected):
    assert expected in params_error(params.load, write_params(tmp_path, lambda raw: _grid(raw)["matrix"].update(seed=seeds)))


def test_stop_at_flops_below_the_largest_budget(tmp_path):
    message = params_error(params.load, write_params(tmp_path, lambda raw: _grid(raw).update(stop_at_flops=1e11)))
    assert message.endswith(
        ": isoflop.stop_at_flops: must be at least the largest budget isoflop.scaling.budgets.high (1.28e+12) or null, got 1e+11"
    )


@pytest.mark.parametrize("stop", [1.28e12, 5e12, None], ids=["equal", "above", "null"])
def test_stop_at_flops_at_or_above_the_largest_budget_or_null(tmp_path, stop):
    assert params.load(write_params(tmp_path, lambda raw: _grid(raw).update(stop_at_flops=stop))).config.stop_at_flops == stop


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
        (
            lambda raw: _grid(raw)["train"].update(dataset="medium"),
            ["isoflop.train.dataset: must be one of ['large', 'small'] (piglatin.files), got 'medium'"],
        ),
        (lambda raw: _grid(raw)["train"].update(hidden_size=32), ["isoflop.train.hidden_size", "unknown key"]),
        (lambda raw: _grid(raw)["train"].update(lr_decay=0), ["isoflop.train.lr_decay", "greater than 0"]),
        (lambda raw: _grid(raw).pop("stop_at_flops"), ["isoflop.stop_at_flops", "missing"]),
        (lambda raw: _grid(raw)["published"].update(slope=[0.4]), ["isoflop.published.slope.1", "missing"]),
    ],
    ids=["unknown-dataset", "hidden-size-in-train", "zero-decay", "no-stop", "range-of-one"],
)
def test_bad_training_settings_name_the_key(tmp_path, edit, fragments):
    message = params_error(params.load, write_params(tmp_path, edit))
    for fragment in fragments:
        assert fragment in message, message


@pytest.mark.parametrize("run", ["h40-s0", "h64-s7", "h64"])
def test_stage_with_an_unknown_run_is_one_line(tmp_path, monkeypatch, run):
    write_params(tmp_path, lambda raw: None)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PipelineError) as caught:
        stages.train(run=run)
    assert str(caught.value).startswith(f"params.yaml: isoflop.matrix: no run {run!r} (model x seed: h16-s0, h16-s1, h32-s0, ")


def test_run_and_stage_names_match_the_dvc_matrix():
    from pipeline.studies.isoflop import run_name, stage_name

    assert run_name("h64", 1) == "h64-s1" and stage_name("h64-s1") == "isoflop@h64-1"
