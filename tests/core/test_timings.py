"""Results and timings apart: the split of a metrics dict, the twin path under timings/, the
staged write of both files, the refusal of a timing that reaches a metrics file another way,
and the merged read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.core.errors import PipelineError
from pipeline.core.io import (
    is_timing_key,
    merge_timings,
    read_metrics,
    split_timings,
    staged_outputs,
    timing_keys,
    write_json,
    write_metrics,
)
from pipeline.core.paths import RunPaths, timings_file

# Keys of today's metrics files (translators, isoflop, add2digits, turkish, gpt, written) and a
# nested one, with the split written out by hand.
METRICS = {
    "best_val_loss": 0.25,
    "epochs_trained": 3,
    "stopped_early": False,
    "train_seconds": 12.5,
    "tokens_per_second": 900.0,
    "flops_per_second": 1.5e9,
    "seconds_per_epoch": 4.1,
    "load_seconds": 2.0,
    "attention": {"connections_match": True, "step_seconds_ratio": 1.67},
    "timing_only": {"seconds_per_step": 0.01},
    "empty": {},
    "tables": {"attention_timing": [{"decoder": "rnn", "seconds_per_step": 0.0097}]},
    "second_checkpoint_accuracy": 0.9,
}
RESULTS = {
    "best_val_loss": 0.25,
    "epochs_trained": 3,
    "stopped_early": False,
    "attention": {"connections_match": True},
    "empty": {},
    "tables": {"attention_timing": [{"decoder": "rnn", "seconds_per_step": 0.0097}]},
    "second_checkpoint_accuracy": 0.9,
}
TIMINGS = {
    "train_seconds": 12.5,
    "tokens_per_second": 900.0,
    "flops_per_second": 1.5e9,
    "seconds_per_epoch": 4.1,
    "load_seconds": 2.0,
    "attention": {"step_seconds_ratio": 1.67},
    "timing_only": {"seconds_per_step": 0.01},
}


@pytest.mark.parametrize(
    "key", ["train_seconds", "tokens_per_second", "flops_per_second", "seconds_per_epoch", "load_seconds", "step_seconds_ratio"]
)
def test_every_timing_key_of_the_metrics_files_is_a_timing(key: str):
    assert is_timing_key(key)


@pytest.mark.parametrize("key", ["best_val_loss", "second_checkpoint_accuracy", "secondary"])
def test_results_are_not_timings(key: str):
    assert not is_timing_key(key)


def test_split_moves_timings_nested_dicts_too():
    results, timings = split_timings(METRICS)
    assert results == RESULTS
    assert timings == TIMINGS
    assert list(results) == [k for k in METRICS if k in RESULTS]  # the results keep their order


def test_merge_undoes_the_split():
    assert merge_timings(*split_timings(METRICS)) == METRICS


def test_timing_keys_are_dotted_paths_like_dvc_names_them():
    assert timing_keys(METRICS) == [
        "train_seconds",
        "tokens_per_second",
        "flops_per_second",
        "seconds_per_epoch",
        "load_seconds",
        "attention.step_seconds_ratio",
        "timing_only.seconds_per_step",
    ]


def test_timings_file_is_the_twin_path_under_timings():
    assert timings_file(Path("metrics/transformer/h32-small.json")) == Path("timings/transformer/h32-small.json")
    assert timings_file(Path("metrics/decoder_only")) == Path("timings/decoder_only")
    paths = RunPaths("add2digits", "rnn-L5-extended/s0")
    assert paths.timings_file == Path("timings/add2digits/rnn-L5-extended/s0.json")
    assert paths.lineage == (paths.metrics_file, paths.curve_file, paths.timings_file)


def test_write_metrics_stages_results_and_timings_apart(tmp_path: Path):
    metrics_file = Path("metrics/demo/r1.json")
    with staged_outputs(tmp_path) as out:
        write_metrics(out, metrics_file, METRICS)
        assert not (tmp_path / "metrics").exists() and not (tmp_path / "timings").exists()  # staged
    written = json.loads((tmp_path / metrics_file).read_text())
    assert written == RESULTS and not timing_keys(written)
    assert json.loads((tmp_path / "timings/demo/r1.json").read_text()) == TIMINGS
    assert read_metrics(tmp_path, metrics_file) == METRICS


def test_write_metrics_writes_an_empty_twin_without_timings(tmp_path: Path):
    """dvc.yaml declares the twin for every run of the stage: it must exist."""
    with staged_outputs(tmp_path) as out:
        write_metrics(out, tmp_path / "metrics/demo/skipped.json", {"reference_protocol": "not run"})
    assert json.loads((tmp_path / "timings/demo/skipped.json").read_text()) == {}


@pytest.mark.parametrize("target", ["metrics/demo/r1.json", "metrics/demo/seeds"])
def test_a_timing_written_to_a_metrics_file_another_way_is_refused(tmp_path: Path, target: str):
    with staged_outputs(tmp_path) as out:
        write_json(out.path("metrics/demo/r1.json"), {"loss": 1.0})
    before = (tmp_path / "metrics/demo/r1.json").read_text()

    with (
        pytest.raises(PipelineError, match=r"r1\.json|s0\.json") as caught,
        staged_outputs(tmp_path, clear=[tmp_path / "metrics/demo"]) as out,
    ):
        staged = out.path(target)
        file = staged if staged.suffix == ".json" else staged / "s0.json"
        write_json(file, {"loss": 0.5, "attention": {"step_seconds_ratio": 1.7}})
        write_json(out.path("plots/demo/r1.json"), {"train_seconds": 1.0})  # outside metrics/: allowed
    assert "['attention.step_seconds_ratio']" in str(caught.value) and "write_metrics" in str(caught.value)
    assert (tmp_path / "metrics/demo/r1.json").read_text() == before  # nothing cleared, nothing moved
    assert not (tmp_path / "plots").exists()


def test_read_metrics_of_a_file_without_twin_is_the_file(tmp_path: Path):
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics/old.json").write_text('{"loss": 1.0, "train_seconds": 3.0}')
    assert read_metrics(tmp_path, Path("metrics/old.json")) == {"loss": 1.0, "train_seconds": 3.0}
