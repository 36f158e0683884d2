"""The `piglatin` section of params.yaml: read and validated by the datasets layer."""

from __future__ import annotations

from pipeline.datasets.piglatin.params import load  # noqa: F401 - one place reads the section
