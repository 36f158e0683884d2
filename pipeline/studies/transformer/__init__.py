"""The character-level transformer encoder-decoder (assignment part 1).

Four runs with the assignment's hyperparameters, a matrix of hidden size x dataset:
`train_transformer@h32-small` ... `@h64-large`, each an MLflow run named after it in
the experiment below. Model: `pipeline/translation/models/transformer.py`.
"""

from __future__ import annotations

from pipeline.core import glossary
from pipeline.core.paths import Study

STUDY = Study(
    "transformer",
    experiment="nmt-transformer",
    description="English -> Pig Latin, character by character, with a transformer encoder-decoder (assignment part 1): "
    "four runs with the assignment's hyperparameters, hidden size 32 or 64 on the small or large data set.",
    metrics=glossary.TRANSLATOR,
)


def stage_name(run: str) -> str:
    """The DVC stage of one run (the matrix block in dvc.yaml)."""
    return f"train_transformer@{run}"
