"""Classify verbal-arithmetic sentences with a trained BERT variant.

    python -m pipeline.studies.bert.predict --variant finetune "three minus nine" "four plus seven"

Prints the predicted class and every class probability (and the true answer when the
sentence is a well-formed expression). Runs offline from `outputs/bert/<variant>/`.
"""

from __future__ import annotations

import argparse
import os

from pipeline.core.errors import PipelineError, run_cli
from pipeline.core.params import load_section
from pipeline.core.paths import project_root
from pipeline.studies.bert import STUDY, stage_name
from pipeline.studies.bert.params import BertParams


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="finetune", help="variant name from bert.variants (default: finetune)")
    parser.add_argument("sentences", nargs="+", help='e.g. "three minus nine"')
    args = parser.parse_args(argv)

    config = load_section(STUDY.name, BertParams)
    if args.variant not in config.variants:
        raise PipelineError(
            f"params.yaml: {STUDY.name}.variants.{args.variant}: no such variant (known: {', '.join(config.variants)})"
        )
    folder = project_root() / STUDY.paths(args.variant).output_dir
    if not folder.is_dir():
        raise PipelineError(f"{folder}: no trained variant {args.variant!r}; run `dvc repro {stage_name(args.variant)}` first")

    os.environ["HF_HUB_OFFLINE"] = "1"  # everything needed is in the output folder
    from pipeline.studies.arithmetic.data import sign_class
    from pipeline.studies.bert.model import load_classifier, predict_proba

    model, tokenizer, info = load_classifier(folder)
    probabilities = predict_proba(model, tokenizer, args.sentences, info["max_length"])
    for sentence, probs in zip(args.sentences, probabilities.tolist()):
        best = max(range(len(probs)), key=probs.__getitem__)
        spread = ", ".join(f"{label} {p:.3f}" for label, p in zip(info["labels"], probs))
        try:
            truth = f"; true: {info['labels'][sign_class(sentence)]}"
        except ValueError:
            truth = ""  # not a well-formed expression: the model still answers
        print(f"{sentence} -> {info['labels'][best]} ({spread}{truth})")


if __name__ == "__main__":
    run_cli(main)

