"""What a result depends on, and which MLflow run produced it.

Outputs to runs: a run is tagged with the SHA-256 of its small, git-tracked outputs
(metrics JSON, per-epoch curve and timings JSON: with the timings, a rerun with identical
results still gets a hash of its own). The report recomputes that hash from the files it
depends on and asks MLflow for the run carrying it: exactly the run that produced the
current outputs, with no run id written into any DVC-tracked file. The report then
marks those runs `dvc_current=true` (and every other run of their experiments false),
so the MLflow UI tells a forced rerun's twin apart from the run behind the outputs.

Code to results: `import_closure` follows a stage's imports (also those inside
functions) through the project's own modules. The same closure is the stage's code
fingerprint (resume files and run groups are keyed by it) and what its `deps` in
dvc.yaml must cover (a test checks every stage).
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable
from pathlib import Path

from pipeline.core.errors import PipelineError
from pipeline.core.io import file_sha256

OUTPUTS_TAG = "dvc_outputs_sha256"
CURRENT_TAG = "dvc_current"  # "true" only on the runs behind the current outputs (set by the report)
PROJECT_PACKAGES = ("pipeline", "stages")  # top-level packages whose modules count as the project's code


def outputs_fingerprint(*files: Path) -> str:
    return file_sha256(*files)


def find_run(mlflow_client, experiment_name: str, fingerprint: str, label: str):
    """The newest finished run of `experiment_name` tagged with `fingerprint`."""
    experiment = mlflow_client.get_experiment_by_name(experiment_name)
    if experiment is None:
        raise PipelineError(f"MLflow has no experiment {experiment_name!r}; run `dvc repro` to train {label}")
    runs = mlflow_client.search_runs(
        [experiment.experiment_id],
        filter_string=f"tags.{OUTPUTS_TAG} = '{fingerprint}' and attributes.status = 'FINISHED'",
        order_by=["attributes.end_time DESC"],
        max_results=1,
    )
    if not runs:
        raise PipelineError(
            f"no finished MLflow run in {experiment_name!r} produced the current outputs of {label} "
            f"(tag {OUTPUTS_TAG}={fingerprint[:12]}...); rerun its stage with `dvc repro -f -s <stage>` to log it"
        )
    return runs[0]


def mark_current(mlflow_client, runs: Iterable) -> None:
    """Tag `runs` `dvc_current=true` and every other run of their experiments `false`."""
    selected = {run.info.run_id: run.info.experiment_id for run in runs}
    for experiment_id in set(selected.values()):
        for run in mlflow_client.search_runs([experiment_id], max_results=50000):
            current = "true" if run.info.run_id in selected else "false"
            if run.data.tags.get(CURRENT_TAG) != current:
                mlflow_client.set_tag(run.info.run_id, CURRENT_TAG, current)


# ------------------------------------------------------------------ code lineage


def module_file(module: str, root: Path) -> Path | None:
    """The source file of a project module (`pipeline.core.io` -> pipeline/core/io.py), if any."""
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_modules(path: Path, module: str) -> set[str]:
    """Every module name `path` imports, wherever the import statement stands."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from . import x / from ..core import y
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            names.add(target)
            names.update(f"{target}.{alias.name}" for alias in node.names)  # `from pkg import submodule`
    return names


def module_name(path: Path, root: Path) -> str:
    """pipeline/core/io.py -> pipeline.core.io; pipeline/core/__init__.py -> pipeline.core."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the project modules it imports (its parent packages included, since
    importing `a.b.c` runs `a` and `a.b` first), over every source file of the project."""
    graph: dict[str, set[str]] = {}
    for package in PROJECT_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            name = module_name(path, root)
            targets = set()
            for imported in _imported_modules(path, name):
                parts = imported.split(".")
                for i in range(1, len(parts) + 1):
                    candidate = ".".join(parts[:i])
                    if candidate != name and parts[0] in PROJECT_PACKAGES and module_file(candidate, root):
                        targets.add(candidate)
            graph[name] = targets
    return graph


def import_closure(modules: Iterable[str], root: Path) -> list[Path]:
    """The project's source files that importing `modules` loads, package `__init__`s included.

    Follows imports statically, also those inside functions (a stage's heavy imports
    are deferred but still run), so the closure is what the stage can execute.
    """
    seen: dict[str, Path] = {}
    todo = list(modules)
    while todo:
        name = todo.pop()
        if name in seen or name.split(".")[0] not in PROJECT_PACKAGES:
            continue
        parts = name.split(".")
        for i in range(1, len(parts)):  # importing a.b.c runs a/__init__ and a/b/__init__ first
            todo.append(".".join(parts[:i]))
        path = module_file(name, root)
        if path is None:  # an attribute (`from pkg import function`), not a module
            continue
        seen[name] = path
        todo.extend(_imported_modules(path, name) - seen.keys())
    return sorted(set(seen.values()))


def code_fingerprint(modules: Iterable[str], root: Path) -> str:
    """A hash of every project source file `modules` import: changes when their code does."""
    digest = hashlib.sha256()
    for path in import_closure(modules, root):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()
