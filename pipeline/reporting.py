"""What every report section shares: where tables and figures go, and reading runs from MLflow.

A section renders one study. It finds the MLflow runs that produced the study's
current DVC outputs through `ReportContext.run_for` (by their outputs hash, see
`pipeline.core.lineage`), reads their metrics, curves and tables from MLflow, writes
its tables and figures through `ctx.out.path(...)` (staged: committed only if the
whole report succeeds) and returns its markdown lines. Sections import this module
and their own study's code, never the report module that lists them.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.core.io import StagedOutputs, require_inputs
from pipeline.core.lineage import find_run, outputs_fingerprint
from pipeline.core.paths import Study
from pipeline.core.tracking import client as mlflow_client

REPORT = Path("reports/report.md")
FIGURES = Path("reports/figures")
TABLES = Path("reports/tables")


@dataclass
class ReportContext:
    root: Path
    out: StagedOutputs
    selected: list = field(default_factory=list)  # every run a section used: marked current afterwards
    _client: Any = None
    _memo: dict = field(default_factory=dict)

    @property
    def client(self):
        if self._client is None:
            self._client = mlflow_client()
        return self._client

    def run_for(self, study: Study, run: str, stage: str, lineage: list[Path] | None = None):
        """The finished MLflow run that produced `run`'s current files (by default `RunPaths.lineage`:
        metrics, curve and timings, the files `TrackedRun` hashes)."""
        files = [self.root / p for p in (lineage or study.paths(run).lineage)]
        key = ("run", study.experiment, tuple(files))
        if key not in self._memo:
            require_inputs(files, stage)
            found = find_run(self.client, study.experiment, outputs_fingerprint(*files), stage)
            self.selected.append(found)
            self._memo[key] = found
        return self._memo[key]

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """`compute()` once per report: sections that show the same runs share one read."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]


@dataclass(frozen=True)
class Answer:
    """One entry of `reports/answers.md`: a question of the assignment, by its id, answered from runs.

    `text` keeps within the question's sentence limit, and any sentence in it that states a
    result is computed from `numbers`. Each number names the MLflow run it was read from.
    `code` holds the functions or classes that implement a "show your implementation" item:
    the sheet prints their source as it is at report time, with file:line. `link` is the
    report.md heading the answer rests on (its table or figure).
    """

    text: str
    numbers: tuple[tuple[str, str], ...] = ()  # (what, value), e.g. ("lowest val loss, notebook definition, run `h32-small`", "0.439")
    code: tuple[Any, ...] = ()
    link: str = ""  # a heading of report.md, e.g. "Loss curves"


AnswerFunction = Callable[[ReportContext], Answer]


@dataclass(frozen=True)
class Heading:
    level: int  # 2 for `##`
    title: str
    anchor: str  # the fragment GitHub and most Markdown viewers give it
    line: int  # its index in the lines it was found in


def markdown_headings(lines: list[str]) -> list[Heading]:
    """Every heading outside code blocks, in order, with its anchor: lower case, punctuation dropped,
    spaces to `-`, and `-1`, `-2`... on repeats. The table of contents and the answer sheet's links
    both use it, so a link made here lands where the contents link does. `lines` may hold
    multi-line strings (a rendered table): they are split first, and `line` counts split lines."""
    headings, seen, in_code = [], {}, False
    for number, line in enumerate("\n".join(lines).split("\n")):
        in_code ^= line.startswith("```")
        match = re.match(r"^(#{1,6}) (.+)$", line)
        if in_code or not match:
            continue
        title = match.group(2).strip()
        anchor = re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        headings.append(Heading(len(match.group(1)), title, f"{anchor}-{count}" if count else anchor, number))
    return headings


@dataclass(frozen=True)
class Section:
    key: str  # the params.yaml section it reads (its study's name)
    render: Callable[[ReportContext], list[str]]
    answers: dict[str, AnswerFunction] = field(default_factory=dict)  # question id -> its answer


def metric_curve(client, run_id: str, keys: tuple[str, ...] = ("iterations", "train_loss", "val_loss")) -> pd.DataFrame:
    """Per-epoch metric histories of a run as one frame, one row per epoch (= step)."""
    columns = {}
    for key in keys:
        history = client.get_metric_history(run_id, key)
        columns[key] = pd.Series({m.step: m.value for m in history})
    curve = pd.DataFrame(columns).rename_axis("epoch").reset_index()
    return curve.sort_values("epoch").reset_index(drop=True)


def artifact_table(client, run_id: str, artifact: str) -> pd.DataFrame:
    """A table the run logged with `log_table`, as a frame."""
    with tempfile.TemporaryDirectory() as scratch:
        path = client.download_artifacts(run_id, artifact, scratch)
        payload = json.loads(Path(path).read_text())
    return pd.DataFrame(payload["data"], columns=payload["columns"])


def save_figure(ctx: ReportContext, figure, file: str, alt: str) -> str:
    """Saves `figure` as reports/figures/`file` (staged with the report) and returns the Markdown line that
    shows it: the file written and the file linked are named once."""
    from pipeline.core import figures  # matplotlib, only for the sections that draw

    figures.save(figure, ctx.out.path(FIGURES / file))
    return f"![{alt}](figures/{file})"


def versus(value: float, published: tuple[float, float] | None) -> str:
    """Where `value` falls against a published [min, max]: below, inside, above (n/a without one)."""
    if published is None:
        return "n/a"
    low, high = published
    return "below" if value < low else "inside" if value <= high else "above"


# ------------------------------------------------------------------- run-to-run spread


def seed_spread(values: list[float]) -> float | None:
    """The run-to-run spread of one configuration: max - min of a result over its seeds (None from one seed)."""
    return max(values) - min(values) if len(values) > 1 else None


def told_apart(a_value: float, b_value: float, spread: float | None) -> bool:
    """Whether two results differ by more than the run-to-run spread (never when none was measured)."""
    return spread is not None and abs(a_value - b_value) > spread


def compare(a: str, a_value: float, b: str, b_value: float, spread: float | None, digits: int = 3) -> str:
    """`a` against `b` (lower is better) as a clause: their difference only where it exceeds `spread`.

    `spread` is the run-to-run spread the two are judged against (e.g. the larger `seed_spread`
    of their configurations); None says none was measured, and the clause says so.
    """
    gap = abs(a_value - b_value)
    if spread is not None and not told_apart(a_value, b_value, spread):
        return (
            f"{a} ({a_value:.{digits}f}) and {b} ({b_value:.{digits}f}) cannot be told apart: they differ by "
            f"{gap:.{digits}f}, within the run-to-run spread of {spread:.{digits}f}"
        )
    (low, low_value), (high, high_value) = sorted(((a, a_value), (b, b_value)), key=lambda item: item[1])
    clause = f"{low} ({low_value:.{digits}f}) is lower than {high} ({high_value:.{digits}f}) by {gap:.{digits}f}"
    if spread is None:
        return f"{clause}, but no run-to-run spread was measured for them, so this may be noise"
    return f"{clause}, beyond the run-to-run spread of {spread:.{digits}f}"


# ------------------------------------------------------------------- translators


@dataclass
class TranslatorResult:
    name: str
    run_id: str
    params: dict[str, str]
    metrics: dict[str, float]
    curve: pd.DataFrame  # epoch, iterations, train_loss, val_loss (+ requested extras)
    translations: pd.DataFrame  # sentence, translation


def load_results(
    ctx: ReportContext, study: Study, names: list[str], stage_of: Callable[[str], str], extra_curves: tuple[str, ...] = ()
) -> list[TranslatorResult]:
    """The runs behind the current outputs of `names`; read once per report, whoever asks."""

    def load() -> list[TranslatorResult]:
        results = []
        for name in names:
            run = ctx.run_for(study, name, stage_of(name))
            run_id = run.info.run_id
            results.append(
                TranslatorResult(
                    name=name,
                    run_id=run_id,
                    params=run.data.params,
                    metrics=run.data.metrics,
                    curve=metric_curve(ctx.client, run_id, ("iterations", "train_loss", "val_loss", *extra_curves)),
                    translations=artifact_table(ctx.client, run_id, "tables/sample_translations.json"),
                )
            )
        return results

    return ctx.memo(f"translators:{study.name}:{','.join(names)}:{','.join(extra_curves)}", load)


def translations_table(results: list[TranslatorResult], label: Callable[[str], str] = str) -> pd.DataFrame:
    """One row per evaluation sentence, one column per run."""
    table = pd.DataFrame({"sentence": results[0].translations["sentence"]})
    for result in results:
        by_sentence = result.translations.set_index("sentence")["translation"]
        table[label(result.name)] = by_sentence.loc[table["sentence"]].to_numpy()
    return table
