"""The English -> Pig Latin task every translator study trains on.

Stage `prepare_piglatin` validates the raw pairs shipped in `data/raw/`, checks every
target against the Pig Latin rule, splits each dataset 80/20 (seeded) and writes, per
dataset, `train.txt`, `val.txt`, `vocab.json` and statistics. The section `piglatin`
of params.yaml also holds how every translator is evaluated (`eval`), so the word
accuracies of all architectures compare.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.core.paths import Study

STUDY = Study("piglatin")
PREPARED = Path("data/prepared/piglatin")  # <dataset>/{train.txt, val.txt, vocab.json, stats.json}
STATISTICS = Path("metrics/data/piglatin.json")


def prepared_dir(dataset: str) -> Path:
    return PREPARED / dataset
