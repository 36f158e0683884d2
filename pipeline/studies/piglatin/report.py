"""Report section: the Pig Latin datasets (from the prepare stage's statistics)."""

from __future__ import annotations

import json

import pandas as pd

from pipeline.datasets.piglatin import STATISTICS, STUDY
from pipeline.reporting import ReportContext, Section


def render(ctx: ReportContext) -> list[str]:
    if not (ctx.root / STATISTICS).exists():
        return []
    stats = pd.DataFrame(json.loads((ctx.root / STATISTICS).read_text())).T.rename_axis("dataset").reset_index()
    return ["## Data: English -> Pig Latin", "", stats.to_markdown(index=False), ""]


SECTION = Section(STUDY.name, render)
