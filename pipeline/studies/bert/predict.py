"""Classify verbal-arithmetic sentences with a trained BERT variant.

    python -m pipeline.studies.bert.predict --variant finetune "three minus nine" "four plus seven"

Prints the predicted class, every class probability and the true answer. A sentence not of
the task's form `<number> plus|minus <number>` is refused (the classifier would still answer
it, confidently and meaninglessly). Runs offline from `outputs/bert/<variant>/`.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.classification.predict import classify
from pipeline.core.errors import run_cli
from pipeline.studies.bert import STUDY, stage_name
from pipeline.studies.bert.params import BertParams


def load(folder: Path):
    from pipeline.studies.bert.model import load_classifier, predict_proba  # torch only once the input is checked

    model, tokenizer, info = load_classifier(folder)
    return (lambda sentences: predict_proba(model, tokenizer, sentences, info["max_length"])), info["labels"]


def main(argv: list[str] | None = None) -> None:
    classify(argv, study=STUDY, params=BertParams, stage_name=stage_name, description=__doc__.splitlines()[0],
             example="three minus nine", load=load)


if __name__ == "__main__":
    run_cli(main)
