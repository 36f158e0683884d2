"""The stage `written_checks` and the report section, run in a minimal copy of the project
with a temporary MLflow store (small settings)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.answers.questions import BY_ID
from pipeline.answers.sentences import count_sentences
from pipeline.core.errors import PipelineError
from pipeline.core.io import file_sha256, staged_outputs, timing_keys
from pipeline.core.lineage import OUTPUTS_TAG
from pipeline.reporting import ReportContext
from pipeline.studies.written import CURVES, LINEAGE, METRICS, OUTPUTS, PLOTS, STUDY, TIMINGS, answers, checks, report, stages
from pipeline.studies.written.figures import FILES
from tests.params_helpers import PARAMS
from tests.studies.written.settings import small


def _project(root: Path, patch: pytest.MonkeyPatch, store: str) -> Path:
    patch.setenv("MLFLOW_TRACKING_URI", store)
    for name in ("DVC_ROOT", "DVC_STAGE"):
        patch.delenv(name, raising=False)
    raw = yaml.safe_load(PARAMS.read_text(encoding="utf-8"))
    raw["written"] = small()
    (root / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    (root / "dvc.yaml").write_text("stages: {}\n")
    patch.chdir(root)
    return root


@pytest.fixture(scope="module")
def ran(tmp_path_factory) -> Path:
    """The stage run once, in its own project and MLflow store; yields the project root."""
    root = tmp_path_factory.mktemp("written")
    store = f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        _project(root, patch, store)
        stages.check()
        yield root


def _mlflow_runs():
    from pipeline.core import tracking

    client = tracking.client()
    experiment = client.get_experiment_by_name(STUDY.experiment)
    return client, ([] if experiment is None else client.search_runs([experiment.experiment_id]))


def test_stage_writes_every_output(ran: Path):
    metrics = json.loads((ran / METRICS).read_text())
    assert metrics["checks_failed"] == 0
    assert not timing_keys(metrics) and metrics["attention"] == {"networks_match": True}
    assert list(json.loads((ran / TIMINGS).read_text())) == ["attention"]  # its step_seconds_ratio, apart
    assert sorted(p.name for p in (ran / PLOTS).iterdir()) == sorted(f"{name}.csv" for name in CURVES)
    assert sorted(p.name for p in (ran / OUTPUTS).iterdir()) == sorted(FILES.values())
    relu = metrics["relu_chain"]
    assert relu["all_pre_activations_positive"] + relu["some_pre_activation_not_positive"] == small()["samples"]
    assert relu["max_violation"] == 0
    for name in CURVES:  # the curves in plots/ are the tables of the metrics file
        curve = pd.read_csv(ran / PLOTS / f"{name}.csv")
        recorded = pd.DataFrame(metrics["tables"][name])
        assert list(curve.columns) == list(recorded.columns)
        pd.testing.assert_frame_equal(curve, recorded, check_dtype=False, rtol=1e-9)
    assert pd.read_csv(ran / PLOTS / "jacobian.csv")["n"].tolist() == [2, 3, 4, 5]
    assert pd.read_csv(ran / PLOTS / "maxpool.csv")["scale"].tolist() == [1, 10, 100]
    counts = pd.DataFrame(metrics["tables"]["classifier_counts"])
    mlp = counts[counts["network"] == "mlp"]
    assert mlp[["L", "logits", "parameters"]].values.tolist() == [
        [10, 1, 322_305],
        [10, 2, 322_562],
        [40, 1, 1_090_305],
        [40, 2, 1_090_562],
    ]
    assert metrics["relu_chain"]["unit_weights_derivative_one"] == metrics["relu_chain"]["unit_weights_positive_inputs"]


def test_one_finished_mlflow_run_tagged_with_the_outputs_hash(ran: Path):
    client, runs = _mlflow_runs()
    assert len(runs) == 1
    run = runs[0]
    assert run.info.status == "FINISHED" and run.info.run_name == "checks"
    assert run.data.tags[OUTPUTS_TAG] == file_sha256(*(ran / path for path in LINEAGE))
    assert run.data.tags["dvc_stage"] == "written_checks"
    metrics = json.loads((ran / METRICS).read_text())
    assert run.data.metrics["maxpool.violations"] == 0
    timing = json.loads((ran / TIMINGS).read_text())["attention"]["step_seconds_ratio"]
    assert run.data.metrics["attention.step_seconds_ratio"] == pytest.approx(timing)  # MLflow keeps the timing
    assert run.data.metrics["relu_chain.attains_bound"] == metrics["relu_chain"]["attains_bound"]
    assert run.data.metrics["sigmoid_jacobian.random_max_ratio"] == pytest.approx(metrics["sigmoid_jacobian"]["random_max_ratio"])
    assert run.data.params["maxpool_k"] == "2" and run.data.params["chain_layers"] == "5"
    artifacts = {a.path for folder in ("tables", "figures") for a in client.list_artifacts(run.info.run_id, folder)}
    assert {f"figures/{name}" for name in FILES.values()} <= artifacts
    assert {f"tables/{name}.json" for name in ("jacobian", "conv", "maxpool", "encoder_counts", "classifier_counts")} <= artifacts


def test_report_section_reads_the_run(ran: Path):
    assert report.SECTION.key == "written"
    with staged_outputs(ran) as out:
        lines = report.render(ReportContext(ran, out))
    text = "\n".join(lines)
    assert lines[0] == "## Written questions, answered by code (MLflow experiment `written-questions`)"
    for heading in (
        answers.RELU,
        answers.JACOBIAN,
        answers.CONV,
        answers.MAXPOOL,
        answers.ENCODERS,
        answers.NETWORKS,
        answers.ADDITIVE,
        answers.CLASSIFIERS,
    ):
        assert f"### {heading}" in text
    assert "Kernel w = [2, 0, 1]." in text and "window **mean**" in text
    assert "module counts against formulas: all equal" in text and "Every count and the formulas: **equal**" in text
    for name in FILES.values():
        assert f"](figures/written_{name})" in text
        assert (ran / "reports" / "figures" / f"written_{name}").stat().st_size > 10_000
    matches = pd.read_csv(ran / "reports" / "tables" / "written_published_classifier_matches.csv")
    assert matches["matches"].tolist()[-1] == "2-layer nn.RNN, one bias per layer, 2 logits, embedding not counted"
    # Read back from MLflow at full precision (its JSON tables keep 10 decimals: 16^-4 = 1.5e-5 would lose digits).
    metrics = json.loads((ran / METRICS).read_text())
    jacobian = pd.read_csv(ran / "reports" / "tables" / "written_jacobian.csv")
    pd.testing.assert_frame_equal(jacobian, pd.DataFrame(metrics["tables"]["jacobian"]), check_dtype=False, rtol=1e-15)
    assert jacobian["bound"].iloc[-1] == 16.0**-4


def _answers(ran: Path) -> dict:
    with staged_outputs(ran) as out:
        context = ReportContext(ran, out)
        return {question: function(context) for question, function in report.SECTION.answers.items()}


def test_every_answer_keeps_its_limit_links_its_heading_and_quotes_the_run(ran: Path):
    given = _answers(ran)
    with staged_outputs(ran) as out:
        text = "\n".join(report.render(ReportContext(ran, out)))
    assert sorted(given) == sorted(
        [
            "A25-1.1.1",
            "A25-1.1.2",
            "A25-1.2.1",
            "A25-1.3.1",
            "A25-1.3.2",
            "A22-P1.1a",
            "A21-P1.1a",
            "A22-P1.3",
            "A21-P1.3",
            "A22-P2.1.1",
            "A21-P2.1",
            "A22-P2.1.4",
            "A21-P2.4",
            "HW3-3.1a",
            "HW3-3.1b",
            "HW3-3.1c",
        ]
    )
    for question, answer in given.items():
        assert BY_ID[question].within_limit(count_sentences(answer.text)), (question, answer.text)
        assert f"### {answer.link}" in text, question
        assert answer.numbers or answer.code, question
    assert [obj.__name__ for obj in given["A22-P1.1a"].code] == ["GRUCell"]
    assert [obj.__name__ for obj in given["A21-P1.1a"].code] == ["LSTMCell"]


def test_answers_state_the_numbers_of_the_run(ran: Path):
    given = _answers(ran)
    metrics = json.loads((ran / METRICS).read_text())
    relu = metrics["relu_chain"]
    assert f"f' = 1 for {relu['unit_weights_derivative_one']:,} of" in given["A25-1.1.1"].text
    assert "p_1 = log 2, p_-1 = log 1 = 0 (offset i - j), p = -inf at offset 0 and at every |i - j| > 1" in given["A25-1.3.1"].text
    assert "W_V = sum(w) = 3" in given["A25-1.3.1"].text
    # The homework's figures quoted as published, and the readings that give them, counted by hand in test_parameter_counts.
    assert "MLP 322,562" in given["HW3-3.1a"].text and "RNN 223,234" in given["HW3-3.1a"].text
    assert (
        "223,234 is the 2-layer nn.RNN, one bias per layer, 2 logits, embedding not counted (one logit: 222,977)" in given["HW3-3.1a"].text
    )
    assert "MLP 1,090,562" in given["HW3-3.1b"].text and "(one logit: 1,090,305)" in given["HW3-3.1b"].text
    assert "3.4x" in given["HW3-3.1c"].text  # 1,090,562 / 322,562
    decoders = pd.DataFrame(metrics["tables"]["decoder_network"])
    largest = decoders[decoders["cell"] == "lstm"].iloc[-1]
    assert f"{int(largest['connections']):,}" in dict(given["A21-P2.4"].numbers).values()
    assert "K[4H(D + 2H) + HV] + K^2(2H^2 + 2H)" in given["A21-P2.4"].text
    assert "K[3H(D + 2H) + HV] + K^2(2H^2 + 2H)" in given["A22-P2.1.4"].text
    assert "all equal the formulas" in given["A21-P1.3"].text


def test_a_failed_check_records_nothing(tmp_path, monkeypatch):
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    (tmp_path / "project").mkdir()
    root = _project(tmp_path / "project", monkeypatch, store)
    real = checks.compute

    def broken(config):
        results = real(config)
        results.failures.append("1.3.2: made up")
        return results

    monkeypatch.setattr(checks, "compute", broken)
    with pytest.raises(PipelineError, match=r"^written_checks: a written answer failed its check: 1.3.2: made up$"):
        stages.check()
    assert not any((root / folder).exists() for folder in ("metrics", "timings", "outputs", "plots"))
    assert _mlflow_runs()[1] == []
