"""The prepare stage and the report section, run in a minimal copy of the project."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.core.errors import PipelineError
from pipeline.core.io import staged_outputs
from pipeline.datasets.arithmetic import PREPARED, SPLITS, STATISTICS
from pipeline.datasets.arithmetic.data import label_counts, read_examples
from pipeline.reporting import ReportContext
from pipeline.studies.arithmetic import report, stages

ROOT = Path(__file__).resolve().parents[3]
RAW = ("data/raw/verbal_arithmetic_train.csv", "data/raw/verbal_arithmetic_test.csv")


@pytest.fixture()
def project(tmp_path, monkeypatch) -> Path:
    """params.yaml, dvc.yaml and the raw CSVs: what `prepare` reads."""
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    for name in RAW:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_prepare_writes_the_reference_split_and_its_counts(project):
    stages.prepare()
    counts = json.loads((project / STATISTICS).read_text())
    # The label counts of the reference split (448 / 192 held-out 160), as committed by earlier runs.
    assert counts == {
        "train": {"rows": 448, "negative": 100, "zero": 13, "positive": 335},
        "val": {"rows": 192, "negative": 43, "zero": 6, "positive": 143},
        "test": {"rows": 160, "negative": 47, "zero": 2, "positive": 111},
    }
    for split in SPLITS:
        examples = read_examples(project / PREPARED / f"{split}.csv")
        assert {"rows": len(examples), **label_counts(examples)} == counts[split]
    assert read_examples(project / PREPARED / "test.csv") == read_examples(project / RAW[1])
    assert sorted(p.name for p in (project / PREPARED).iterdir()) == ["test.csv", "train.csv", "val.csv"]


def test_prepare_writes_nothing_when_a_row_is_wrong(project):
    path = project / RAW[0]
    lines = path.read_text().splitlines(keepends=True)
    index, text, label = lines[5].strip().split(",")
    lines[5] = f"{index},{text},{(int(label) + 1) % 3}\n"
    path.write_text("".join(lines))
    with pytest.raises(PipelineError, match=rf"verbal_arithmetic_train.csv:6: label {(int(label) + 1) % 3} "):
        stages.prepare()
    assert not (project / PREPARED).exists() and not (project / STATISTICS).exists()


def test_report_section_lists_rows_and_labels_per_split(project):
    assert report.SECTION.key == "arithmetic"
    with staged_outputs(project) as out:
        assert report.render(ReportContext(project, out)) == []  # nothing prepared yet: no section
        stages.prepare()
        lines = report.render(ReportContext(project, out))
    assert lines[0] == "## Verbal arithmetic data"
    table = "\n".join(lines)
    assert "| split   |   rows |   negative |   zero |   positive |" in table
    assert "| val     |    192 |         43 |      6 |        143 |" in table
