"""The verbal-arithmetic sentences: stage `prepare_arithmetic` and its report section.

The data itself (schema of the `arithmetic` params, reading, splitting, where the prepared
files live) is the datasets layer `pipeline.datasets.arithmetic`, which every study that
trains on it imports instead of this study.
"""

from __future__ import annotations

from pipeline.datasets.arithmetic import STUDY  # noqa: F401 - the study is the dataset's
