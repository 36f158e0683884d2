"""The project's layout rules, checked on the real code and the real dvc.yaml.

- every DVC stage's code `deps` are exactly the files its stage function runs (its closure):
  a file missing there could change a result without `dvc repro` noticing, an extra one
  reruns the stage (a training) when an unrelated figure changes;
- no import circle anywhere;
- the core imports nothing outside itself, and no study imports the report module;
- every study folder has the same files, and a stage in dvc.yaml.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from pipeline.core.lineage import code_deps, import_graph

ROOT = Path(__file__).resolve().parents[1]
STUDIES = sorted(p.name for p in (ROOT / "pipeline" / "studies").iterdir() if (p / "__init__.py").exists())
STUDY_FILES = ("__init__.py", "params.py", "stages.py", "report.py")


def dvc_stages() -> dict[str, dict]:
    return yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


@pytest.mark.parametrize("stage", sorted(dvc_stages()))
def test_stage_code_deps_are_exactly_what_its_stage_function_runs(stage: str):
    """Not more: a figure edit must not retrain models. Not less: a change must rerun the stage."""
    definition = dvc_stages()[stage]
    body = definition.get("do", definition)  # foreach stages keep their definition under `do`
    listed = sorted(d for d in body["deps"] if re.match(r"(stages|pipeline)(/|$)", d))
    expected = code_deps(body["cmd"], ROOT)
    assert len(expected) > 5, expected  # the closure was really followed
    assert listed == expected, (
        f"dvc.yaml: {stage}: code deps differ from the stage's closure "
        f"(missing {sorted(set(expected) - set(listed))}, extra {sorted(set(listed) - set(expected))}); "
        "run `python -m pipeline.core.lineage` to rewrite them"
    )


def test_closure_follows_imports_inside_the_stage_function_only():
    train = code_deps("python -m stages transformer train --run h32-small", ROOT)
    # `train` imports the translator run lazily, after the params are checked.
    assert "pipeline/translators/train.py" in train
    assert "pipeline/core/training.py" in train
    assert "pipeline/studies/transformer/report.py" not in train  # training never loads the report
    grid_member = code_deps("python -m stages isoflop train --model h16", ROOT)
    fit = code_deps("python -m stages isoflop fit", ROOT)
    # The figures are drawn by the fit, inside `fit`: editing them reruns the fit, not the grid.
    assert "pipeline/studies/isoflop/figures.py" in fit
    assert "pipeline/studies/isoflop/figures.py" not in grid_member
    # Data preparation tracks nothing in MLflow.
    assert "pipeline/core/tracking.py" not in code_deps("python -m stages piglatin prepare", ROOT)


def test_resume_fingerprint_hashes_the_same_files_as_the_deps():
    from pipeline.core.lineage import files_fingerprint, function_fingerprint
    from pipeline.studies.transformer.stages import train

    deps = code_deps("python -m stages transformer train --run h32-small", ROOT)
    assert function_fingerprint(train, ROOT) == files_fingerprint([ROOT / d for d in deps], ROOT)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circles():
    assert _cycles(import_graph(ROOT)) == []


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


# A study imports the core, the family layers (translation, classification) and the datasets,
# never a sibling study, except where the DVC graph has the same edge: the importing stage
# depends on the other study's outputs and reads its params to find them.
SIBLING_IMPORTS_ON_A_DVC_EDGE = {
    ("isoflop", "decoder_only"): ("fit_scaling", "metrics/decoder_only")  # the verdict on the decoder-only setup
}


def _study(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[:2] == ["pipeline", "studies"] else None


def test_studies_never_import_a_sibling():
    edges = {}
    for module, targets in import_graph(ROOT).items():
        source = _study(module)
        for target in targets:
            if source and _study(target) not in (None, source):
                edges.setdefault((source, _study(target)), []).append(module)
    unexplained = {edge: modules for edge, modules in edges.items() if edge not in SIBLING_IMPORTS_ON_A_DVC_EDGE}
    assert not unexplained, f"study-to-study imports: {unexplained}"
    for (source, target), (stage, dep) in SIBLING_IMPORTS_ON_A_DVC_EDGE.items():
        assert (source, target) in edges, f"stale exception {source} -> {target}"
        assert dep in dvc_stages()[stage]["deps"], f"{source} -> {target} no longer mirrors a DVC edge ({stage} on {dep})"


def test_the_layers_below_the_studies_never_import_a_study():
    for module, targets in import_graph(ROOT).items():
        if module.startswith(("pipeline.translators", "pipeline.classification", "pipeline.datasets", "pipeline.core")):
            studies = sorted(t for t in targets if _study(t))
            assert not studies, f"{module} imports {studies}"


def test_core_imports_only_core():
    for module, targets in import_graph(ROOT).items():
        if module.startswith("pipeline.core"):
            outside = {t for t in targets if t != "pipeline" and not t.startswith("pipeline.core")}
            assert not outside, f"{module} imports {outside}"


def test_nothing_but_the_stage_entry_imports_the_report_module():
    importers = [m for m, targets in import_graph(ROOT).items() if "pipeline.report" in targets]
    assert importers == [], importers


def test_training_code_never_imports_a_report_section():
    for module, targets in import_graph(ROOT).items():
        if module.endswith((".stages", ".train", ".run")) or module.startswith("pipeline.translators"):
            sections = {t for t in targets if t.endswith(".report") or t == "pipeline.reporting"}
            assert not sections, f"{module} imports {sections}"


@pytest.mark.parametrize("study", STUDIES)
def test_every_study_has_the_same_files_and_a_stage(study: str):
    folder = ROOT / "pipeline" / "studies" / study
    assert [name for name in STUDY_FILES if not (folder / name).exists()] == []
    commands = [(body.get("do", body))["cmd"] for body in dvc_stages().values()]
    assert any(cmd.startswith(f"python -m stages {study} ") for cmd in commands)
    assert (ROOT / "tests" / "studies" / study).is_dir()


def test_every_study_has_a_report_section():
    from pipeline.report import SECTIONS

    keys = [section.key for section in SECTIONS]
    comparisons = [key for key in keys if key.startswith("comparisons.")]  # pipeline/comparisons/<module>.py
    studies = [key for key in keys if key not in comparisons]
    assert sorted(studies) == STUDIES
    assert keys == studies + comparisons  # comparisons across studies come after every study
    assert all((ROOT / "pipeline" / f"{key.replace('.', '/')}.py").exists() for key in comparisons), comparisons


def _outputs(definition: dict) -> list[tuple[str, dict]]:
    """Every output a stage declares (`outs`, `metrics`, `plots`) with its flags."""
    entries = []
    for kind in ("outs", "metrics", "plots"):
        for entry in definition.get(kind, []):
            entries += [(entry, {})] if isinstance(entry, str) else list(entry.items())
    return entries


@pytest.mark.parametrize("stage", sorted(dvc_stages()))
def test_every_output_persists_while_its_stage_runs(stage: str):
    """Without `persist`, `dvc repro` deletes a stage's outputs before running it, and a stage that then
    fails has lost them (`cache: false` ones live only in git; `dvc checkout` cannot bring them back)."""
    definition = dvc_stages()[stage]
    outputs = _outputs(definition.get("do", definition))  # a foreach stage declares them under `do`
    assert outputs, f"{stage} declares no output"
    for path, flags in outputs:
        assert (flags or {}).get("persist") is True, f"dvc.yaml: {stage}: {path} is not persist: true"


def test_the_report_depends_on_every_param_by_value_not_on_the_file():
    """A comment in params.yaml must not make the report stale; a new (or misspelt) section must."""
    report = dvc_stages()["report"]
    assert "params.yaml" not in report["deps"]
    assert report["params"] == [{"params.yaml": None}]  # `- params.yaml:`: every param of the file, by value


def test_the_committed_lock_records_only_stages_dvc_yaml_defines():
    """DVC never removes the lock entry of a renamed or deleted stage; a stale entry misleads
    `dvc.lock` readers (and `dvc status` readers of old hashes), so the committed lock holds none."""
    from dvc.repo import Repo

    with Repo(str(ROOT)) as repo:
        defined = {stage.addressing for stage in repo.index.stages}
    locked = set(yaml.safe_load((ROOT / "dvc.lock").read_text())["stages"])
    assert locked - defined == set(), f"dvc.lock: entries of stages dvc.yaml no longer defines: {sorted(locked - defined)}"
