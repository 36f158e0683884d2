"""Lineage: import closures and code fingerprints on a fake project, and finding and marking
the MLflow runs behind the current outputs on a real (temporary) MLflow store."""

from __future__ import annotations

import itertools
import textwrap
from pathlib import Path

import pytest

from pipeline.core.errors import PipelineError
from pipeline.core.io import file_sha256
from pipeline.core.lineage import (
    CURRENT_TAG,
    OUTPUTS_TAG,
    code_deps,
    code_fingerprint,
    find_run,
    function_closure,
    import_closure,
    import_graph,
    mark_current,
    module_file,
    module_name,
    outputs_fingerprint,
    rewrite_code_deps,
    stage_fingerprint,
    stage_function,
)

# A fake project: module -> source. Comments say which kind of import each file exercises.
FAKE_PROJECT = {
    "stages/__init__.py": "",
    "stages/__main__.py": """
        import sys  # not the project's: ignored
        from pipeline.core.errors import run_cli  # a function of a module: the module counts
    """,
    "pipeline/__init__.py": "",
    "pipeline/core/__init__.py": "",
    "pipeline/core/errors.py": "def run_cli():\n    pass\n",
    "pipeline/core/io.py": "from pipeline.core.errors import run_cli\n",
    "pipeline/study/__init__.py": "",
    "pipeline/study/stages.py": """
        import os
        import pipeline.core.io  # a top-level import of a dotted module
        from pipeline.study import helpers  # `from pkg import submodule`
        from . import sibling  # relative, one level
        from .. import shared  # relative, two levels: pipeline.shared

        def train():
            from pipeline.heavy.model import Model  # deferred inside a function, still followed
            return Model
    """,
    "pipeline/study/helpers.py": "VALUE = 1\n",
    "pipeline/study/sibling.py": "",
    "pipeline/study/report.py": "from pipeline.study import stages\n",  # imports the stage; nobody imports it
    "pipeline/shared.py": "",
    "pipeline/heavy/__init__.py": "",
    "pipeline/heavy/model.py": "from .layers import Layer  # relative `from .module import name`\n\nModel = Layer\n",
    "pipeline/heavy/layers.py": "Layer = object\n",
    "pipeline/unused.py": "import pipeline.shared\n",
    "elsewhere/not_project.py": "",  # not a project package: never followed
}
ENTRY = ["stages.__main__", "pipeline.study.stages"]
EXPECTED = [
    "pipeline/__init__.py",
    "pipeline/core/__init__.py",
    "pipeline/core/errors.py",
    "pipeline/core/io.py",
    "pipeline/heavy/__init__.py",
    "pipeline/heavy/layers.py",
    "pipeline/heavy/model.py",
    "pipeline/shared.py",
    "pipeline/study/__init__.py",
    "pipeline/study/helpers.py",
    "pipeline/study/sibling.py",
    "pipeline/study/stages.py",
    "stages/__init__.py",
    "stages/__main__.py",
]


@pytest.fixture
def fake(tmp_path) -> Path:
    for name, source in FAKE_PROJECT.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    return tmp_path


def _relative(paths: list[Path], root: Path) -> list[str]:
    return [str(p.relative_to(root)) for p in paths]


def test_closure_is_exactly_the_imported_files(fake):
    assert _relative(import_closure(ENTRY, fake), fake) == EXPECTED


def test_closure_of_one_module_includes_its_packages(fake):
    assert _relative(import_closure(["pipeline.heavy.model"], fake), fake) == [
        "pipeline/__init__.py",
        "pipeline/heavy/__init__.py",
        "pipeline/heavy/layers.py",
        "pipeline/heavy/model.py",
    ]
    assert import_closure(["elsewhere.not_project", "json"], fake) == []


def test_import_graph_and_module_names(fake):
    graph = import_graph(fake)
    assert graph["pipeline.study.stages"] == {
        "pipeline",
        "pipeline.core",
        "pipeline.core.io",
        "pipeline.study",
        "pipeline.study.helpers",
        "pipeline.study.sibling",
        "pipeline.shared",
        "pipeline.heavy",
        "pipeline.heavy.model",
    }
    assert graph["pipeline.heavy.model"] == {"pipeline", "pipeline.heavy", "pipeline.heavy.layers"}
    assert "elsewhere.not_project" not in graph
    assert module_name(fake / "pipeline/heavy/__init__.py", fake) == "pipeline.heavy"
    assert module_file("pipeline.heavy", fake) == fake / "pipeline/heavy/__init__.py"
    assert module_file("pipeline.heavy.layers.Layer", fake) is None


def test_fingerprint_changes_with_imported_code_only(fake):
    before = code_fingerprint(ENTRY, fake)
    assert before == code_fingerprint(ENTRY, fake)  # stable

    (fake / "pipeline/unused.py").write_text("CHANGED = True\n")
    (fake / "pipeline/study/report.py").write_text("CHANGED = True\n")
    (fake / "elsewhere/not_project.py").write_text("CHANGED = True\n")
    assert code_fingerprint(ENTRY, fake) == before

    layers = fake / "pipeline/heavy/layers.py"  # reached only through an import inside a function
    layers.write_text("Layer = int\n")
    changed = code_fingerprint(ENTRY, fake)
    assert changed != before
    layers.write_text(FAKE_PROJECT["pipeline/heavy/layers.py"])
    assert code_fingerprint(ENTRY, fake) == before


def test_fingerprint_changes_when_a_new_import_is_added(fake):
    before = code_fingerprint(ENTRY, fake)
    helpers = fake / "pipeline/study/helpers.py"
    helpers.write_text("import pipeline.unused\n\nVALUE = 1\n")
    assert "pipeline/unused.py" in _relative(import_closure(ENTRY, fake), fake)
    assert code_fingerprint(ENTRY, fake) != before


# A study module with two stage functions: `train` (and the helper it calls) and `draw`.
TWO_STAGES = """
    from pipeline.core.io import run_cli  # top level: counts for every stage of the module

    def train():
        return _fit()

    def _fit():  # called by train: its import counts for train
        from pipeline.heavy.model import Model
        return Model

    def draw():
        from pipeline.shared import palette  # only the figure stage runs this
        train = palette  # a local name, not a call of the `train` stage: its imports do not count
        return train

    STAGES = {"train": train, "draw": draw}
"""


@pytest.fixture
def two_stages(fake) -> Path:
    study = fake / "pipeline/studies/study"
    study.mkdir(parents=True)
    (fake / "pipeline/studies/__init__.py").write_text("")
    (study / "__init__.py").write_text("")
    (study / "stages.py").write_text(textwrap.dedent(TWO_STAGES).lstrip(), encoding="utf-8")
    return fake


def test_function_closure_is_the_module_top_level_plus_what_the_function_runs(two_stages):
    train = _relative(function_closure("pipeline.studies.study.stages", "train", two_stages), two_stages)
    draw = _relative(function_closure("pipeline.studies.study.stages", "draw", two_stages), two_stages)
    common = [
        "pipeline/__init__.py",
        "pipeline/core/__init__.py",
        "pipeline/core/errors.py",
        "pipeline/core/io.py",
        "pipeline/studies/__init__.py",
        "pipeline/studies/study/__init__.py",
        "pipeline/studies/study/stages.py",
    ]
    assert train == sorted([*common, "pipeline/heavy/__init__.py", "pipeline/heavy/layers.py", "pipeline/heavy/model.py"])
    assert draw == sorted([*common, "pipeline/shared.py"])


def test_editing_one_stage_function_s_import_changes_only_its_fingerprint(two_stages):
    before = {name: stage_fingerprint("pipeline.studies.study.stages", name, two_stages) for name in ("train", "draw")}
    (two_stages / "pipeline/shared.py").write_text("palette = ['red']\n")
    after = {name: stage_fingerprint("pipeline.studies.study.stages", name, two_stages) for name in ("train", "draw")}
    assert after["train"] == before["train"]
    assert after["draw"] != before["draw"]


def test_stage_commands_resolve_through_the_stages_table(two_stages):
    assert stage_function("python -m stages study draw", two_stages) == ("pipeline.studies.study.stages", "draw")
    assert stage_function("python -m pipeline.report", two_stages) is None
    with pytest.raises(PipelineError, match=r"no stage 'plot' in STAGES \(stages: train, draw\)"):
        stage_function("python -m stages study plot", two_stages)
    with pytest.raises(PipelineError, match="no study 'nosuch'"):
        stage_function("python -m stages nosuch train", two_stages)


def test_rewrite_code_deps_replaces_only_code_entries(two_stages):
    text = textwrap.dedent("""
        stages:
          draw_study:
            # a comment stays
            cmd: python -m stages study draw
            deps:
              - data/raw/x.txt
              - stages
              - pipeline/core
              - data/prepared/${item}
            outs:
              - out
    """).lstrip()
    expected_code = [f"      - {p}\n" for p in code_deps("python -m stages study draw", two_stages)]
    rewritten = rewrite_code_deps(text, two_stages)
    lines = rewritten.splitlines(keepends=True)
    start = lines.index("      - data/raw/x.txt\n") + 1
    assert lines[start : start + len(expected_code)] == expected_code
    assert lines[start + len(expected_code)] == "      - data/prepared/${item}\n"
    assert "    # a comment stays\n" in lines and "      - out\n" in lines
    assert rewrite_code_deps(rewritten, two_stages) == rewritten  # idempotent


def test_outputs_fingerprint_is_the_sha256_of_the_files_in_order(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.csv"
    a.write_text("{}\n")
    b.write_text("epoch\n1\n")
    assert outputs_fingerprint(a, b) == file_sha256(a, b)
    assert outputs_fingerprint(a, b) != outputs_fingerprint(b, a)


# ------------------------------------------------------------------ runs in a real MLflow store


@pytest.fixture
def mlflow_client(mlflow_store, monkeypatch):
    """A client of the project's tracking code on a temporary SQLite store."""
    from pipeline.core import tracking

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_store)
    return tracking.client()


END_TIMES = itertools.count(1_700_000_000_000, 1000)  # distinct end times: "newest" is well defined


def _runs(client, experiment: str, count: int, fingerprint: str | None = None) -> list:
    from pipeline.core.tracking import experiment_id

    exp_id = experiment_id(client, experiment)
    runs = []
    for i in range(count):
        tags = {OUTPUTS_TAG: fingerprint} if fingerprint else {}
        run = client.create_run(exp_id, run_name=f"run{i}", tags=tags)
        client.set_terminated(run.info.run_id, "FINISHED", end_time=next(END_TIMES))
        runs.append(client.get_run(run.info.run_id))
    return runs


def _current(client, runs) -> list[str | None]:
    return [client.get_run(run.info.run_id).data.tags.get(CURRENT_TAG) for run in runs]


def test_mark_current_tags_the_selected_runs_and_clears_the_others(mlflow_client):
    first = _runs(mlflow_client, "lineage-a", 3)
    second = _runs(mlflow_client, "lineage-b", 2)
    untouched = _runs(mlflow_client, "lineage-c", 1)

    mark_current(mlflow_client, [first[1], second[0]])
    assert _current(mlflow_client, first) == ["false", "true", "false"]
    assert _current(mlflow_client, second) == ["true", "false"]
    assert _current(mlflow_client, untouched) == [None]  # not an experiment of the selected runs

    mark_current(mlflow_client, [first[2]])  # a newer run is now behind the outputs
    assert _current(mlflow_client, first) == ["false", "false", "true"]
    assert _current(mlflow_client, second) == ["true", "false"]  # other experiments keep their marks


def test_find_run_returns_the_newest_finished_run_with_the_fingerprint(mlflow_client):
    older, newer = _runs(mlflow_client, "lineage-find", 2, fingerprint="f" * 64)
    _runs(mlflow_client, "lineage-find", 1, fingerprint="0" * 64)
    exp_id = mlflow_client.get_experiment_by_name("lineage-find").experiment_id
    failed = mlflow_client.create_run(exp_id, tags={OUTPUTS_TAG: "f" * 64})
    mlflow_client.set_terminated(failed.info.run_id, "FAILED", end_time=next(END_TIMES))

    found = find_run(mlflow_client, "lineage-find", "f" * 64, "train_x")
    assert found.info.run_id == newer.info.run_id != older.info.run_id


def test_find_run_errors_are_one_line(mlflow_client):
    with pytest.raises(PipelineError) as caught:
        find_run(mlflow_client, "no-such-experiment", "f" * 64, "train_x")
    assert str(caught.value) == "MLflow has no experiment 'no-such-experiment'; run `dvc repro` to train train_x"

    _runs(mlflow_client, "lineage-missing", 1, fingerprint="0" * 64)
    with pytest.raises(PipelineError) as caught:
        find_run(mlflow_client, "lineage-missing", "a" * 64, "train_x")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("no finished MLflow run in 'lineage-missing' produced the current outputs of train_x")
    assert f"{OUTPUTS_TAG}={'a' * 12}..." in message and "dvc repro -f -s <stage>" in message
