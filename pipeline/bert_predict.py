"""Classify verbal-arithmetic sentences with a trained BERT variant.

    python -m pipeline.bert_predict --variant finetune "three minus nine" "four plus seven"

Prints the predicted class and every class probability (and the true answer when the
sentence is a well-formed expression). Runs offline from `outputs/bert/<variant>/`.
"""

from __future__ import annotations

import argparse
import os

from pipeline.errors import PipelineError, run_cli
from pipeline.params import load_params
from pipeline.paths import bert_output_dir, project_root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="finetune", help="variant name from bert.variants (default: finetune)")
    parser.add_argument("sentences", nargs="+", help='e.g. "three minus nine"')
    args = parser.parse_args()

    params = load_params()
    if args.variant not in params.bert.variants:
        raise PipelineError(f"params.yaml: bert.variants.{args.variant}: no such variant (known: {', '.join(params.bert.variants)})")
    folder = project_root() / bert_output_dir(args.variant)
    if not folder.is_dir():
        raise PipelineError(f"{folder}: no trained variant {args.variant!r}; run `dvc repro train_bert@{args.variant}` first")

    os.environ["HF_HUB_OFFLINE"] = "1"  # everything needed is in the output folder
    from pipeline.bert.model import load_classifier, predict_proba
    from pipeline.data.arithmetic import sign_class

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
