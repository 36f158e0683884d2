"""The stages and the report section, run in a minimal copy of the project at tiny sizes
with a temporary MLflow store; the report's tables and conclusions also on a made-up run set."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from pipeline.core.io import file_sha256, read_metrics, staged_outputs, timing_keys
from pipeline.core.lineage import OUTPUTS_TAG
from pipeline.reporting import ReportContext
from pipeline.studies.add2digits import PREPARED, STATISTICS, STUDY, answers, params, report, stages
from pipeline.studies.add2digits.data import read_sequences
from pipeline.studies.add2digits.results import reference_lengths
from tests.params_helpers import PARAMS

ROOT = Path(__file__).resolve().parents[3]
LENGTHS = ["L4"]
SEEDS = [0, 1]
LINEAGE = [("metrics", ".json"), ("plots", ".csv"), ("timings", ".json")]  # a run's files, in the order hashed


def small(raw: dict) -> dict:
    """The real section at tiny sizes: 2 cells at one length, 1 + 2 runs each of a few epochs."""
    section = raw["add2digits"]
    section["matrix"] = {"cell": ["rnn", "lstm"], "length": LENGTHS}
    section["model"] = {"hidden_size": 8, "num_layers": 1}
    section["reference"].update(lengths=LENGTHS, examples=60, train_examples=40, epochs=3)
    section["extended"]["presets"]["default"].update(
        examples=80, val_examples=20, test_examples=20, batch_size=20, epochs=3, patience=1, seeds=SEEDS
    )
    return raw


def _project(root: Path, patch: pytest.MonkeyPatch, store: str) -> Path:
    patch.setenv("MLFLOW_TRACKING_URI", store)
    for name in ("DVC_ROOT", "DVC_STAGE"):
        patch.delenv(name, raising=False)
    raw = small(yaml.safe_load(PARAMS.read_text(encoding="utf-8")))
    (root / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    (root / "dvc.yaml").write_text("stages: {}\n")
    patch.chdir(root)
    return root


@pytest.fixture(scope="module")
def ran(tmp_path_factory) -> Path:
    """prepare, then every matrix entry, in its own project and MLflow store."""
    root = tmp_path_factory.mktemp("add2digits")
    store = f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"
    previous = __import__("torch").get_num_threads()
    __import__("torch").set_num_threads(1)
    with pytest.MonkeyPatch.context() as patch:
        _project(root, patch, store)
        stages.prepare()
        for cell in ("rnn", "lstm"):
            for length in LENGTHS:
                stages.train(run=f"{cell}-{length}")
        stages.measure()
        yield root
    __import__("torch").set_num_threads(previous)


def _runs() -> dict:
    from pipeline.core import tracking

    client = tracking.client()
    experiment = client.get_experiment_by_name(STUDY.experiment)
    return {run.info.run_name: run for run in client.search_runs([experiment.experiment_id])}


def test_prepare_writes_a_data_set_per_length_and_seed_with_its_statistics(ran: Path):
    stats = json.loads((ran / STATISTICS).read_text())
    assert stats["label_distribution_majority"] == pytest.approx(0.10)
    for length in LENGTHS:
        assert sorted(p.name for p in (ran / PREPARED / length).iterdir()) == ["extended-s0.csv", "extended-s1.csv", "reference.csv"]
        frame = pd.read_csv(ran / PREPARED / length / "reference.csv")
        assert len(frame) == 60 and all(len(s.split()) == int(length[1:]) for s in frame["sequence"])
        train, test = frame["label"][:40], frame["label"][40:]
        entry = stats[f"{length}/reference"]
        assert entry["train"]["rows"] == 40 and entry["test"]["rows"] == 20
        assert entry["train"]["class_histogram"] == np.bincount(train, minlength=19).tolist()
        majority = train.value_counts().sort_index().idxmax()  # the smallest of the commonest classes, like argmax
        assert entry["majority_class"] == majority
        assert entry["test"]["majority_accuracy"] == pytest.approx(round((test == majority).mean(), 4))
        extended = stats[f"{length}/extended-s1"]
        assert [extended[s]["rows"] for s in ("train", "val", "test")] == [40, 20, 20]
    # Seeds draw different data; the reference set is not a prefix of an extended one.
    first, second = (read_sequences(ran / PREPARED / "L4" / f"extended-s{s}.csv") for s in SEEDS)
    assert not np.array_equal(first.digits, second.digits)
    assert not np.array_equal(read_sequences(ran / PREPARED / "L4" / "reference.csv").digits[:20], first.digits[:20])


def test_training_writes_every_run_and_its_curve(ran: Path):
    for cell in ("rnn", "lstm"):
        for length in LENGTHS:
            name = f"{cell}-{length}"
            metrics = json.loads((ran / "metrics" / "add2digits" / f"{name}.json").read_text())
            curve = pd.read_csv(ran / "plots" / "add2digits" / f"{name}.csv")
            assert curve["epoch"].tolist() == [1, 2, 3] and curve["iterations"].tolist() == [1, 2, 3]  # full batch
            assert metrics["final_test_accuracy"] == pytest.approx(curve["test_accuracy"].iloc[-1])
            assert metrics["best_test_accuracy"] == pytest.approx(curve["test_accuracy"].max())
            assert (metrics["train_examples"], metrics["test_examples"], metrics["epochs_trained"]) == (40, 20, 3)
            assert not timing_keys(metrics)  # they are in the timings twin
            timings = json.loads((ran / "timings" / "add2digits" / f"{name}.json").read_text())
            assert sorted(timings) == ["seconds_per_epoch", "train_seconds"]
            assert (ran / "outputs" / "add2digits" / name / "model.safetensors").exists()
            for seed in SEEDS:
                extended = json.loads((ran / "metrics" / "add2digits" / f"{name}-extended" / f"s{seed}.json").read_text())
                seed_curve = pd.read_csv(ran / "plots" / "add2digits" / f"{name}-extended" / f"s{seed}.csv")
                assert list(seed_curve.columns)[-2:] == ["train_accuracy", "val_accuracy"]
                assert seed_curve["iterations"].iloc[0] == 2  # 40 training rows in batches of 20
                assert extended["best_epoch"] == seed_curve.loc[seed_curve["val_loss"].idxmin(), "epoch"]  # a validation loss here
                assert extended["replicate"] == seed and 0 <= extended["test_accuracy"] <= 1
                measured = read_metrics(ran, Path("metrics/add2digits") / f"{name}-extended" / f"s{seed}.json")
                assert "train_seconds" in measured and not timing_keys(extended)
                assert (ran / "outputs" / "add2digits" / f"{name}-extended" / f"s{seed}" / "model.safetensors").exists()


def test_one_finished_mlflow_run_per_run_tagged_with_its_files(ran: Path):
    runs = _runs()
    expected = {f"{c}-{n}{suffix}" for c in ("rnn", "lstm") for n in LENGTHS for suffix in ("", "-extended-s0", "-extended-s1")}
    assert set(runs) == expected | {"input-gradients"}
    runs.pop("input-gradients")
    for name, run in runs.items():
        assert run.info.status == "FINISHED"
        files = name.replace("-extended-", "-extended/")
        lineage = [ran / folder / "add2digits" / f"{files}{suffix}" for folder, suffix in LINEAGE]
        assert run.data.tags[OUTPUTS_TAG] == file_sha256(*lineage)
        assert run.data.tags["dvc_stage"] == f"train_add2digits@{name.split('-extended')[0]}"
        assert run.data.tags["grid"] == ("extended" if "extended" in name else "reference")
    from pipeline.core import tracking

    reference = runs["lstm-L4"]
    client = tracking.client()
    history = client.get_metric_history(reference.info.run_id, "test_accuracy")
    curve = pd.read_csv(ran / "plots" / "add2digits" / "lstm-L4.csv")
    assert [m.step for m in history] == [1, 2, 3]
    assert [m.value for m in sorted(history, key=lambda m: m.step)] == pytest.approx(curve["test_accuracy"].tolist())
    assert reference.data.params["protocol.batch_size"] == "full" and reference.data.params["cell"] == "lstm"


def test_reference_runs_call_their_test_loss_test_loss_and_every_summary_is_at_step_0(ran: Path):
    """The reference protocol has no validation split: its per-epoch held-out loss is a test loss."""
    from pipeline.core import tracking

    client = tracking.client()
    runs = _runs()

    def steps(run, key: str) -> list[int]:
        return sorted(m.step for m in client.get_metric_history(run.info.run_id, key))

    reference, extended = runs["lstm-L4"], runs["lstm-L4-extended-s0"]
    curve = pd.read_csv(ran / "plots" / "add2digits" / "lstm-L4.csv")
    test_loss = sorted(client.get_metric_history(reference.info.run_id, "test_loss"), key=lambda m: m.step)
    assert [m.step for m in test_loss] == [1, 2, 3]
    assert [m.value for m in test_loss] == pytest.approx(curve["test_loss"].tolist(), rel=1e-5)  # the CSV keeps 6 digits
    assert steps(reference, "val_loss") == []  # nothing calls the test loss a validation loss
    assert "val_loss" not in curve.columns
    seed_curve = pd.read_csv(ran / "plots" / "add2digits" / "lstm-L4-extended" / "s0.csv")
    assert steps(extended, "val_loss") == seed_curve["epoch"].tolist()  # the extended runs' is a validation loss
    assert steps(extended, "test_loss") == []
    # Summaries at step 0 like every study's, and no epoch-0 point in a curve.
    for run, summary in (
        (reference, "final_test_accuracy"),
        (reference, "first_epoch_train_accuracy_1"),
        (extended, "kept_val_accuracy"),
        (extended, "test_accuracy"),
    ):
        if summary in run.data.metrics:
            assert steps(run, summary) == [0], summary
    for run, per_epoch in ((reference, "test_loss"), (reference, "train_accuracy"), (extended, "val_accuracy")):
        assert 0 not in steps(run, per_epoch)


def test_runs_describe_themselves(ran: Path):
    from pipeline.core import tracking

    note = tracking.NOTE_TAG
    runs = _runs()
    assert runs["rnn-L4"].data.tags[note].startswith("Add2Digits reference protocol: RNN (hidden 8 x 1 layers), length 4, 40 ")
    assert "the held-out split is the test split" in runs["rnn-L4"].data.tags[note]
    assert runs["lstm-L4-extended-s1"].data.tags[note].startswith("Add2Digits extended grid, seed 1: LSTM")
    experiment = tracking.client().get_experiment_by_name(STUDY.experiment)
    assert experiment.tags[note] == STUDY.experiment_description


def test_measure_writes_the_input_gradients_of_every_model_and_logs_one_run(ran: Path):
    curves = pd.read_csv(ran / "plots" / "add2digits" / "input-gradients.csv")
    models = {f"{cell}-L4{suffix}" for cell in ("rnn", "lstm") for suffix in ("", "-extended-s0", "-extended-s1")}
    assert set(curves["model"]) == models
    assert len(curves) == len(models) * 2 * 4  # trained and initial weights, distances 0..3
    metrics = json.loads((ran / "metrics" / "add2digits" / "input-gradients.json").read_text())
    assert metrics["models"] == len(models) and not timing_keys(metrics)
    for model in models:
        for weights in ("trained", "initial"):
            curve = curves[(curves["model"] == model) & (curves["weights"] == weights)].set_index("distance")["gradient_norm"]
            assert metrics["first_over_last"][model][weights] == pytest.approx(curve[3] / curve[0], rel=1e-4)  # 6 digits
    run = _runs()["input-gradients"]
    files = [ran / folder / "add2digits" / f"input-gradients{suffix}" for folder, suffix in LINEAGE]
    assert run.info.status == "FINISHED" and run.data.tags[OUTPUTS_TAG] == file_sha256(*files)
    assert run.data.tags["dvc_stage"] == "measure_add2digits"
    assert run.data.metrics["first_over_last.lstm-L4.trained"] == pytest.approx(metrics["first_over_last"]["lstm-L4"]["trained"])


def test_the_initial_weights_measured_are_those_the_run_started_from(ran: Path, monkeypatch, tmp_path):
    """Training is cut off at `fit`, where the run's own model is captured, and compared with the rebuilt one."""
    from pipeline.studies.add2digits import gradients, train

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")  # the cut-off run stays out of ran's store
    setup = params.load(ran / "params.yaml")
    shared, config = setup.shared, setup.config
    started = {}

    class Captured(Exception):
        pass

    def capture(model, **_):
        started.update({k: v.clone() for k, v in model.state_dict().items()})
        raise Captured

    monkeypatch.setattr(train, "fit", capture)
    spec = train.run_specs("lstm", "L4", config, ran)[2]  # extended seed 1
    with pytest.raises(Captured):
        train.train_run(spec, shared, config, __import__("torch").device("cpu"), ran)
    rebuilt = gradients.initial_model(spec, shared, config).state_dict()
    assert started.keys() == rebuilt.keys() and all(bool((started[k] == rebuilt[k]).all()) for k in started)


def test_the_answers_quote_the_runs(ran: Path):
    with staged_outputs(ran) as out:
        context = ReportContext(ran, out)
        given = {question: function(context) for question, function in report.SECTION.answers.items()}
        text = "\n".join(report.render(context))
    assert sorted(given) == ["HW3-1.1", "HW3-1.2-L10", "HW3-1.2-L30", "HW3-1.2-L5", "HW3-1.3"]
    for question in ("HW3-1.1", "HW3-1.3"):
        assert f"### {given[question].link}" in text and given[question].numbers
    assert given["HW3-1.2-L5"].text.startswith("Length 5 is not trained")  # this project trains length 4 only
    metrics = json.loads((ran / "metrics" / "add2digits" / "input-gradients.json").read_text())
    ratio = metrics["first_over_last"]["rnn-L4-extended-s0"]["initial"]
    assert any(
        label.startswith("gradient at the first input / at the last, initial weights, model `rnn-L4-extended-s0`")
        and value == f"{ratio:.3g}"
        for label, value in given["HW3-1.1"].numbers
    )
    final = json.loads((ran / "metrics" / "add2digits" / "lstm-L4.json").read_text())["final_test_accuracy"]
    assert f"LSTM {final:.2f}" in given["HW3-1.3"].text
    assert "diag(f_t)" in given["HW3-1.1"].text and "(ii) Weaknesses" in given["HW3-1.3"].text


def test_a_length_answer_states_the_protocol_and_attributes_the_later_variant(ran: Path):
    """HW3-1.2 at a length the project trains, with the later variant's figure present at that length."""
    from pipeline.studies.add2digits.answers import protocol_answer

    config = params.load(ran / "params.yaml").config
    variant = config.published.later_variant.model_copy(update={"test_accuracy": {"rnn-L4": 0.5, "lstm-L4": 1.0}})
    patched = config.model_copy(update={"published": config.published.model_copy(update={"later_variant": variant})})
    with staged_outputs(ran) as out:
        context = ReportContext(ran, out)
        context.memo("add2digits:params", lambda: patched)
        answer = protocol_answer("L4")(context)
    metrics = {cell: json.loads((ran / "metrics" / "add2digits" / f"{cell}-L4.json").read_text()) for cell in ("rnn", "lstm")}
    assert (
        f"Final test accuracy RNN {metrics['rnn']['final_test_accuracy']:.3f} / LSTM {metrics['lstm']['final_test_accuracy']:.3f}"
        in answer.text
    )
    assert (
        "A later published variant of the course, not the homework's protocol (5,000 training examples, 20 epochs), "
        "reported RNN 0.500 / LSTM 1.000 at this length."
    ) in answer.text
    assert "one run per cell" in answer.text and answer.link == "Homework protocol at length 4"


def test_report_section_comes_from_the_runs(ran: Path):
    assert report.SECTION.key == "add2digits"
    with staged_outputs(ran) as out:
        lines = report.render(ReportContext(ran, out))
    text = "\n".join(lines)
    assert lines[0] == "## Add2Digits: RNN vs LSTM over sequence length (MLflow experiment `add2digits`)"
    for heading in (
        "### Homework protocol at length 4",
        f"### {answers.PROTOCOL_TABLE}",
        f"### {answers.EXTENDED}",
        f"### {answers.GRADIENTS}",
    ):
        assert heading in text
    for figure in ("add2digits_reference_L4.png", "add2digits_input_gradients.png"):
        assert f"](figures/{figure})" in text
        assert (ran / "reports" / "figures" / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    gradients = pd.read_csv(ran / "reports" / "tables" / "add2digits_input_gradients.csv")
    assert gradients[["length", "cell"]].values.tolist() == [[4, "RNN"], [4, "LSTM"]]
    table = pd.read_csv(ran / "reports" / "tables" / "add2digits_reference.csv")
    for row in table.itertuples():
        metrics = json.loads((ran / "metrics" / "add2digits" / f"{row.cell.lower()}-L{row.length}.json").read_text())
        assert row._3 == pytest.approx(round(metrics["final_test_accuracy"], 3))  # final test accuracy
    extended = pd.read_csv(ran / "reports" / "tables" / "add2digits_extended.csv")
    for row in extended.itertuples():
        values = [
            json.loads((ran / "metrics" / "add2digits" / f"{row.cell.lower()}-L{row.length}-extended" / f"s{s}.json").read_text())[
                "test_accuracy"
            ]
            for s in SEEDS
        ]
        assert row._3 == f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"
    assert "In the homework's protocol" in text and "majority-class baseline" in text


def _fake(config, reference_accuracy, extended_accuracy, baselines) -> report.Results:
    """A made-up run set: every reference run and every seed's test accuracy, and the majority baselines, as given."""
    keys = [(c, n) for c in config.matrix.cell for n in config.matrix.length]
    reference = {
        key: {
            "final_test_accuracy": reference_accuracy[key],
            "best_test_accuracy": reference_accuracy[key] + 0.01,
            "best_test_epoch": 7,
            "final_train_accuracy": 1.0,
            "first_epoch_train_accuracy_1": 50,
            "seconds_per_epoch": 0.1,
        }
        for key in keys
    }
    extended = {
        key: [
            {
                "test_accuracy": a,
                "kept_train_accuracy": 1.0,
                "kept_val_accuracy": a,
                "best_epoch": 4,
                "epochs_trained": 6,
                "seconds_per_epoch": 0.5,
            }
            for a in extended_accuracy[key]
        ]
        for key in keys
    }
    return report.Results(config, baselines, reference, {}, extended)


def test_conclusions_and_tables_on_a_made_up_run_set():
    config = params.load(PARAMS).config
    reference = {(c, n): 0.3 if n == "L5" else 0.1 for c in ("rnn", "lstm") for n in ("L5", "L10", "L30")}
    extended = {
        ("lstm", "L5"): [1.0, 1.0, 0.99],
        ("rnn", "L5"): [0.6, 0.62, 0.58],
        ("lstm", "L10"): [0.97, 0.98, 0.91],
        ("rnn", "L10"): [0.12, 0.14, 0.12],
        ("lstm", "L30"): [0.11, 0.51, 0.09],
        ("rnn", "L30"): [0.10, 0.12, 0.10],
    }
    results = _fake(config, reference, extended, {"L5/reference": 0.09, "L10/reference": 0.12, "L30/reference": 0.1})
    text = report.conclusions(results)
    assert "at length 5 the LSTM is ahead: every one of its seeds scores above every seed of the other cell (mean difference +0.40)" in text
    assert "at length 10 the LSTM is ahead" in text and "(mean difference +0.83)" in text
    # A length where neither cell learns makes no claim, whatever the means (here +0.13).
    assert (
        "at length 30 neither cell learns the task with 2,000 training examples (mean test accuracy below 0.5), so this "
        "data size cannot compare them there"
    ) in text
    assert "The RNN fails (mean test accuracy below 0.5) from length 10 on." in text
    assert "The LSTM fails (mean test accuracy below 0.5) from length 30 on." in text
    assert "6 of 6 runs reach training accuracy 1.0 while their final test accuracy is 0.10-0.30" in text
    assert "majority-class baseline of 0.09-0.12" in text

    table = report.extended_table(results)
    lstm10 = table[(table["length"] == 10) & (table["cell"] == "LSTM")].iloc[0]
    assert lstm10["test accuracy"] == f"{np.mean([0.97, 0.98, 0.91]):.3f} ± {np.std([0.97, 0.98, 0.91], ddof=1):.3f}"
    rnn30 = table[(table["length"] == 30) & (table["cell"] == "RNN")].iloc[0]
    assert rnn30["later variant (5,000 train, 20 epochs)"] == "0.16"
    reference_table = report.reference_table(results)
    assert reference_table["published"].tolist()[:2] == ["best ≈0.32, final ≈0.29, train 1.0 by epoch ≈90", "n/a"]
    assert reference_table.loc[2, "published"] == "≈0.13, train 1.0 by epoch ≈60"  # rnn at length 10


def test_a_length_without_the_reference_protocol_trains_only_the_extended_grid(ran: Path, tmp_path):
    from pipeline.studies.add2digits.train import run_specs, write_reference_not_run

    config = params.load(ran / "params.yaml").config
    skipping = config.model_copy(update={"reference": config.reference.model_copy(update={"lengths": ["L9"]})})
    assert [spec.grid for spec in run_specs("rnn", "L4", skipping, ran)] == ["extended", "extended"]
    assert [spec.grid for spec in run_specs("rnn", "L4", config, ran)] == ["reference", "extended", "extended"]
    write_reference_not_run("rnn", "L4", skipping, tmp_path)  # DVC's declared outputs exist and say why
    metrics = json.loads((tmp_path / "metrics/add2digits/rnn-L4.json").read_text())
    assert metrics == {"reference_protocol": "not run: add2digits.reference.lengths is ['L9']"}
    assert json.loads((tmp_path / "timings/add2digits/rnn-L4.json").read_text()) == {}
    assert pd.read_csv(tmp_path / "plots/add2digits/rnn-L4.csv").empty
    assert "not run" in (tmp_path / "outputs/add2digits/rnn-L4/NOT_RUN.txt").read_text()


def test_the_shipped_default_runs_the_homework_protocol_at_every_length():
    config = params.load(PARAMS).config
    assert reference_lengths(config) == ["L5", "L10", "L30"] and report.not_run_lines(config) == []
    skipping = config.model_copy(update={"reference": config.reference.model_copy(update={"lengths": ["L5", "L10"]})})
    text = " ".join(report.not_run_lines(skipping))
    assert "not run at length 30 (`add2digits.reference.lengths`)" in text
    assert "`dvc exp run -S 'add2digits.reference.lengths=[L5,L10,L30]'`" in text


def test_when_the_rnn_learns_every_length_nothing_fails():
    config = params.load(PARAMS).config
    everything = {(c, n): [0.99, 1.0, 1.0] for c in ("rnn", "lstm") for n in ("L5", "L10", "L30")}
    text = report.conclusions(_fake(config, {k: 0.2 for k in everything}, everything, {"L5/reference": 0.1}))
    assert text.count("cannot be told apart: their seeds overlap") == 3 and "is ahead" not in text
    assert "The RNN does not fail at any length tried" in text and "The LSTM does not fail" in text


# ---- the stage's errors, as a user sees them -------------------------------------------


def _stage(folder: Path, *args: str, edit=None) -> subprocess.CompletedProcess:
    raw = small(yaml.safe_load(PARAMS.read_text(encoding="utf-8")))
    if edit:
        edit(raw["add2digits"])
    (folder / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    (folder / "dvc.yaml").write_text("stages: {}\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}"}
    return subprocess.run(
        [sys.executable, "-m", "stages", "add2digits", *args], cwd=folder, env=env, capture_output=True, text=True, timeout=120
    )


def test_a_too_short_length_fails_in_one_line_and_writes_nothing(tmp_path):
    result = _stage(tmp_path, "prepare", edit=lambda s: s["matrix"].update(length=["L5", "L2"]))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: params.yaml: add2digits.matrix.length.1: sequence length must be at least 3 (the marker, the digit "
        "after it and a different last digit), got 'L2'"
    ]
    assert not (tmp_path / "data").exists() and not (tmp_path / "metrics").exists()


def test_an_unknown_run_or_missing_data_fails_in_one_line(tmp_path):
    result = _stage(tmp_path, "train", "--run", "gru-L3")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["error: params.yaml: add2digits.matrix: no run 'gru-L3' (known: rnn-L4, lstm-L4)"]
    result = _stage(tmp_path, "train", "--run", "rnn-L4")
    assert result.returncode == 2
    missing = tmp_path.resolve() / "data/prepared/add2digits/L4/reference.csv"
    assert result.stderr.strip().splitlines() == [f"error: {missing}: missing; run `dvc repro prepare_add2digits` first"]
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "metrics").exists()
