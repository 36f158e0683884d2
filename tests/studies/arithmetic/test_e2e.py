"""End to end, verbal-arithmetic data: the prepared split and its report section after the shared `dvc repro`."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.e2e


def test_data_is_split_like_the_reference(project: Path):
    counts = json.loads((project / "metrics" / "data" / "arithmetic.json").read_text())
    assert {split: c["rows"] for split, c in counts.items()} == {"train": 448, "val": 192, "test": 160}
    val = pd.read_csv(project / "data" / "prepared" / "arithmetic" / "val.csv")
    assert len(val) == 192 and set(val["label"]) == {0, 1, 2}


def test_report_section_shows_the_counts(project: Path):
    report = (project / "reports" / "report.md").read_text()
    section = report.split("## Verbal arithmetic data", 1)[1].split("\n## ", 1)[0]
    counts = json.loads((project / "metrics" / "data" / "arithmetic.json").read_text())
    for split, c in counts.items():
        assert any(line.split("|")[1].strip() == split and str(c["rows"]) in line for line in section.splitlines() if "|" in line)
