"""Classify verbal-arithmetic sentences with a trained GPT-style variant.

    python -m pipeline.studies.gpt.predict "four plus seven" "three minus nine"
    python -m pipeline.studies.gpt.predict --variant frozen "four plus seven"

Prints the predicted class, every class probability and the true answer. Only sentences
of the task's form `<number> plus|minus <number>` (numbers zero..nineteen) are accepted:
the classifier has never seen anything else, and would still answer confidently. Runs
offline from `outputs/gpt/<variant>/`.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.classification.predict import classify
from pipeline.core.errors import run_cli
from pipeline.studies.gpt import STUDY, stage_name
from pipeline.studies.gpt.params import GptParams


def load(folder: Path):
    from pipeline.studies.gpt.model import load_classifier, predict_proba  # torch only once the input is checked

    model, tokenizer, info = load_classifier(folder)
    return (lambda sentences: predict_proba(model, tokenizer, sentences, info["max_length"])), info["labels"]


def main(argv: list[str] | None = None) -> None:
    classify(argv, study=STUDY, params=GptParams, stage_name=stage_name, description=__doc__.splitlines()[0],
             example="four plus seven", load=load)


if __name__ == "__main__":
    run_cli(main)
