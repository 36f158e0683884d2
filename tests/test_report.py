"""The report's table of contents: one link per section heading, anchors as Markdown viewers make them."""

from __future__ import annotations

from pipeline.report import table_of_contents


def test_contents_link_every_heading_with_github_anchors():
    body = [
        "## Data: English -> Pig Latin",
        "text",
        "### Sample translations",
        "```",
        "## not a heading: inside a code block",
        "```",
        "## Transformer (MLflow experiment `nmt-transformer`)",
        "### Sample translations",
        "#### too deep to list",
    ]
    assert table_of_contents(body) == [
        "## Contents",
        "",
        "- [Data: English -> Pig Latin](#data-english---pig-latin)",
        "  - [Sample translations](#sample-translations)",
        "- [Transformer (MLflow experiment `nmt-transformer`)](#transformer-mlflow-experiment-nmt-transformer)",
        "  - [Sample translations](#sample-translations-1)",  # a repeated title gets GitHub's -1 suffix
        "",
    ]
