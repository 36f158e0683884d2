"""Report section: the verbal-arithmetic splits (from the prepare stage's label counts)."""

from __future__ import annotations

import json

import pandas as pd

from pipeline.datasets.arithmetic import STATISTICS, STUDY
from pipeline.reporting import ReportContext, Section


def render(ctx: ReportContext) -> list[str]:
    if not (ctx.root / STATISTICS).exists():
        return []
    counts = pd.DataFrame(json.loads((ctx.root / STATISTICS).read_text())).T.rename_axis("split").reset_index()
    return [
        "## Verbal arithmetic data",
        "",
        "Sentences `a plus b` / `a minus b` (a, b in zero..nineteen) labelled with the sign of the result;",
        "rows and label counts per split (validation: stratified from the train CSV; the test CSV is held out).",
        "",
        counts.to_markdown(index=False),
        "",
    ]


SECTION = Section(STUDY.name, render)
