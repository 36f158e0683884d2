"""Classify verbal-arithmetic sentences with a trained GPT-style variant.

    python -m pipeline.studies.gpt.predict "four plus seven" "three minus nine"
    python -m pipeline.studies.gpt.predict --variant frozen "four plus seven"

Prints the predicted class, every class probability and the true answer. Only sentences
of the task's form `<number> plus|minus <number>` (numbers zero..nineteen) are accepted:
the classifier has never seen anything else, and would still answer confidently. Runs
offline from `outputs/gpt/<variant>/`.
"""

from __future__ import annotations

from pipeline.classification.predict import classify
from pipeline.core.errors import run_cli
from pipeline.studies.gpt import STUDY
from pipeline.studies.gpt.params import GptParams


def model_module():
    from pipeline.studies.gpt import model  # torch only once the input is checked

    return model


def main(argv: list[str] | None = None) -> None:
    classify(argv, STUDY, GptParams, model_module, example="four plus seven", doc=__doc__)


if __name__ == "__main__":
    run_cli(main)
