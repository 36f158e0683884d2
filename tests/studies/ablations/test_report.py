"""The report section on made-up runs: its tables, figures and the headings the answers link to."""

from __future__ import annotations

import pandas as pd

from pipeline.core.io import staged_outputs
from pipeline.reporting import markdown_headings
from pipeline.studies.ablations import report
from pipeline.studies.ablations.answers import ANSWERS
from tests.studies.ablations.fake_results import context, results


def test_report_section_renders_the_headings_the_answers_link_to(tmp_path, monkeypatch):
    made_up = results(close=False)
    predictions = pd.DataFrame({"source": ["air"], "target": ["airway"], "prediction": ["airway"], "correct": [True]})
    monkeypatch.setattr(report, "artifact_table", lambda client, run_id, artifact: predictions)
    with staged_outputs(tmp_path) as out:
        lines = report.render(context(made_up, tmp_path, out))
    titles = {heading.title for heading in markdown_headings(lines)}
    links = {answer(context(made_up)).link for answer in ANSWERS.values()}
    assert links <= titles
    text = "\n".join(lines)
    assert "| sinusoidal | 0.275 (0.250-0.300) |" in text  # mean (range) over the replicates
    assert (tmp_path / "reports/figures/ablations_length_generalisation.png").exists()
