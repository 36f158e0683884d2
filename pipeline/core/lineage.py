"""What a result depends on, and which MLflow run produced it.

Outputs to runs: a run is tagged with the SHA-256 of its small, git-tracked outputs
(metrics JSON, per-epoch curve and timings JSON: with the timings, a rerun with identical
results still gets a hash of its own). The report recomputes that hash from the files it
depends on and asks MLflow for the run carrying it: exactly the run that produced the
current outputs, with no run id written into any DVC-tracked file. The report then
marks those runs `dvc_current=true` (and every other run of their experiments false),
so the MLflow UI tells a forced rerun's twin apart from the run behind the outputs.

Code to results: `stage_closure` is the code a stage runs: its entry's imports, and for
`python -m stages <study> <stage>` the study module's top-level imports plus the imports
inside the stage function (and inside the module's functions it calls), each followed
through the project's own modules (`import_closure`). That closure is exactly the
stage's code `deps` in dvc.yaml (a test checks equality; `python -m pipeline.core.lineage`
rewrites them) and its code fingerprint (resume files and run groups are keyed by it),
so editing a figure module reruns the stage that draws it, not the training before it.
"""

from __future__ import annotations

import ast
import hashlib
import re
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


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported_modules(path: Path, module: str) -> set[str]:
    """Every module name `path` imports, wherever the import statement stands."""
    return _imports_in([_parse(path)], package_of(path, module))


def package_of(path: Path, module: str) -> str:
    """The package relative imports in `path` resolve against."""
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _imports_in(nodes: Iterable[ast.AST], package: str) -> set[str]:
    """Every module name the import statements anywhere inside `nodes` name."""
    names: set[str] = set()
    for node in (inner for outer in nodes for inner in ast.walk(outer)):
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
    return files_fingerprint(import_closure(modules, root), root)


def files_fingerprint(paths: Iterable[Path], root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(set(paths)):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def function_closure(module: str, function: str, root: Path) -> list[Path]:
    """The project's source files that running `module.function` can execute.

    Importing `module` runs its top-level statements (their imports count, not the
    imports inside its other functions); calling `function` runs the imports inside
    it and inside the module's own functions and classes it refers to, transitively.
    Every module reached that way counts with its whole import closure.
    """
    path = module_file(module, root)
    if path is None:
        raise PipelineError(f"no source file for module {module!r} under {root}")
    tree = _parse(path)
    definitions = {node.name: node for node in tree.body if isinstance(node, _DEFINITIONS)}
    if function not in definitions:
        raise PipelineError(f"{path.relative_to(root)}: no function {function!r}")
    top_level = [node for node in tree.body if not isinstance(node, _DEFINITIONS)]
    # A class body runs at import too; only its methods wait until called.
    top_level += [stmt for node in tree.body if isinstance(node, ast.ClassDef) for stmt in node.body if not isinstance(stmt, _DEFINITIONS)]
    reached, todo = set(), [function]
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        reached.add(name)
        referenced = {n.id for n in ast.walk(definitions[name]) if isinstance(n, ast.Name)} - _local_names(definitions[name])
        todo.extend(sorted((referenced & definitions.keys()) - reached))
    imports = _imports_in([*top_level, *(definitions[name] for name in reached)], package_of(path, module))
    parents = [".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)]
    return sorted({path, *import_closure([*parents, *imports], root)})


def _local_names(function: ast.AST) -> set[str]:
    """The names a function binds itself (arguments, assignments, loop and `with` targets): in Python a
    name assigned anywhere in a function is local to all of it, so `train, val = ...` inside a stage
    function does not call the module's `train` stage."""
    names = {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        arguments = function.args
        every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg]
        names |= {argument.arg for argument in every if argument is not None}
    return names


def stage_function(cmd: str, root: Path) -> tuple[str, str] | None:
    """The (module, function) a `python -m stages <study> <stage> ...` command runs, from the
    study's `STAGES` table; None for a command that runs a whole module (`python -m <module>`)."""
    match = re.fullmatch(r"python -m stages (\w+) (\w+)(?: .*)?", cmd.strip())
    if match is None:
        return None
    study, stage = match.groups()
    module = f"pipeline.studies.{study}.stages"
    path = module_file(module, root)
    if path is None:
        raise PipelineError(f"dvc.yaml: `{cmd}`: no study {study!r} (no {module.replace('.', '/')}.py)")
    for node in _parse(path).body:
        targets = [t.id for t in getattr(node, "targets", []) if isinstance(t, ast.Name)]
        if "STAGES" in targets and isinstance(node.value, ast.Dict):
            table = {
                k.value: v.id for k, v in zip(node.value.keys, node.value.values) if isinstance(k, ast.Constant) and isinstance(v, ast.Name)
            }
            if stage not in table:
                raise PipelineError(
                    f"dvc.yaml: `{cmd}`: {path.relative_to(root)} has no stage {stage!r} in STAGES (stages: {', '.join(table)})"
                )
            return module, table[stage]
    raise PipelineError(f"{path.relative_to(root)}: no literal `STAGES = {{...}}` table")


def stage_closure(cmd: str, root: Path) -> list[Path]:
    """The project's source files a DVC stage command runs: exactly its code deps."""
    target = stage_function(cmd, root)
    if target is not None:
        return sorted({*import_closure(["stages.__main__"], root), *function_closure(*target, root)})
    match = re.fullmatch(r"python -m ([\w.]+)", cmd.strip())
    if match is None:
        raise PipelineError(
            f"dvc.yaml: unexpected stage command {cmd!r} (expected `python -m stages <study> <stage>` or `python -m <module>`)"
        )
    return import_closure([match.group(1)], root)


def function_fingerprint(function, root: Path) -> str:
    """The code fingerprint of a stage function: the same files as its dvc.yaml code deps."""
    return stage_fingerprint(function.__module__, function.__name__, root)


def stage_fingerprint(module: str, function: str, root: Path) -> str:
    """`function_fingerprint` by name, for code that cannot import its stage module."""
    return files_fingerprint({*import_closure(["stages.__main__"], root), *function_closure(module, function, root)}, root)


# ------------------------------------------------------------------ dvc.yaml's code deps

_CODE_DEP = re.compile(r"^(stages|pipeline)(/|$)")


def code_deps(cmd: str, root: Path) -> list[str]:
    """What dvc.yaml lists as the code deps of a stage running `cmd`."""
    return [str(path.relative_to(root)) for path in stage_closure(cmd, root)]


def rewrite_code_deps(text: str, root: Path) -> str:
    """dvc.yaml's text with every stage's code deps replaced by its closure (data deps,
    comments and order kept): the code deps sit where the first one stood."""
    lines = text.splitlines(keepends=True)
    result: list[str] = []
    cmd = None
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("cmd:"):
            cmd = stripped.removeprefix("cmd:").strip()
        if stripped == "deps:" and cmd is not None:
            result.append(line)
            i += 1
            item_indent = None
            kept: list[str] = []
            code_at = None
            while (
                i < len(lines) and lines[i].lstrip().startswith("- ") and (item_indent is None or lines[i].startswith(item_indent + "- "))
            ):
                item_indent = item_indent or lines[i][: len(lines[i]) - len(lines[i].lstrip())]
                path = lines[i].strip()[2:].strip()
                if _CODE_DEP.match(path) and "${" not in path:
                    code_at = len(kept) if code_at is None else code_at
                else:
                    kept.append(lines[i])
                i += 1
            generated = [f"{item_indent}- {dep}\n" for dep in code_deps(cmd, root)]
            code_at = len(kept) if code_at is None else code_at
            result += kept[:code_at] + generated + kept[code_at:]
            cmd = None
            continue
        result.append(line)
        i += 1
    return "".join(result)


def main() -> None:
    """`python -m pipeline.core.lineage`: rewrite dvc.yaml's code deps from the stages' closures."""
    from pipeline.core.paths import project_root

    root = project_root()
    path = root / "dvc.yaml"
    before = path.read_text(encoding="utf-8")
    after = rewrite_code_deps(before, root)
    if after != before:
        path.write_text(after, encoding="utf-8")
        print("dvc.yaml: code deps rewritten from the stages' import closures")
    else:
        print("dvc.yaml: code deps already match the stages' import closures")


if __name__ == "__main__":
    from pipeline.core.errors import run_cli

    run_cli(main)
