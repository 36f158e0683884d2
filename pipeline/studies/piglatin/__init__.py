"""The English -> Pig Latin pairs: stage `prepare_piglatin` and its report section.

The data itself (schema of the `piglatin` params, reading, splitting, where the prepared
files live) is the datasets layer `pipeline.datasets.piglatin`, which every study that
trains on it imports instead of this study.
"""

from __future__ import annotations

from pipeline.datasets.piglatin import STUDY  # noqa: F401 - the study is the dataset's
