"""The character-level transformer encoder-decoder (assignment part 1).

Four runs with the assignment's hyperparameters, a matrix of hidden size x dataset:
`train_transformer@h32-small` ... `@h64-large`, each an MLflow run named after it in
the experiment below. Runs listed in `transformer.extra_seeds` are trained again with
each extra seed (`train_transformer_seeds@<run>`, runs `<run>-seeds/s<offset>`): the
run-to-run spread the report judges differences against. Model:
`pipeline/translators/models/transformer.py`.
"""

from __future__ import annotations

from pipeline.core import glossary
from pipeline.core.paths import Study

STUDY = Study(
    "transformer",
    experiment="nmt-transformer",
    description="English -> Pig Latin, character by character, with a transformer encoder-decoder (assignment part 1): "
    "four runs with the assignment's hyperparameters, hidden size 32 or 64 on the small or large data set; "
    "runs named `<run>-seeds/s<offset>` repeat a run with seed `seed` + offset (the run-to-run spread).",
    metrics=glossary.TRANSLATOR,
)


def seed_run(run: str, offset: int) -> str:
    """The run trained again with seed `seed` + `offset`: its files live in `<run>-seeds/s<offset>.*`."""
    return f"{run}-seeds/s{offset}"
