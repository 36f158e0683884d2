"""Classify verbal-arithmetic sentences with a trained BERT variant.

    python -m pipeline.studies.bert.predict --variant finetune "three minus nine" "four plus seven"

Prints the predicted class, every class probability and the true answer. A sentence not of
the task's form `<number> plus|minus <number>` is refused (the classifier would still answer
it, confidently and meaninglessly). Runs offline from `outputs/bert/<variant>/`.
"""

from __future__ import annotations

from pipeline.classification.predict import classify
from pipeline.core.errors import run_cli
from pipeline.studies.bert import STUDY
from pipeline.studies.bert.params import BertParams


def model_module():
    from pipeline.studies.bert import model  # torch only once the input is checked

    return model


def main(argv: list[str] | None = None) -> None:
    classify(argv, STUDY, BertParams, model_module, example="three minus nine", doc=__doc__)


if __name__ == "__main__":
    run_cli(main)
