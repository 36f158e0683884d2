"""The core of a classifier study's `predict` CLI: check the sentences, find the trained variant,
print each sentence's predicted class, every class probability and the true answer.

Only sentences of the task's form `<number> plus|minus <number>` (numbers zero..nineteen) are
accepted: the classifier has never seen anything else, and would still answer confidently.
Everything needed is in the variant's output folder, so it runs offline.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.core.errors import PipelineError
from pipeline.core.params import Section, load_section
from pipeline.core.paths import Study, project_root
from pipeline.datasets.arithmetic.data import parse_expression, sign_class

# The output folder -> (sentences -> class probabilities (N, C) as a tensor; the classifier's labels).
Loader = Callable[[Path], tuple[Callable[[list[str]], Any], list[str]]]


def classify(argv: list[str] | None, *, study: Study, params: type[Section], stage_name: Callable[[str], str],
             description: str, example: str, load: Loader) -> None:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--variant", default="finetune", help=f"variant name from {study.name}.variants (default: finetune)")
    parser.add_argument("sentences", nargs="+", help=f'e.g. "{example}"')
    args = parser.parse_args(argv)
    for position, sentence in enumerate(args.sentences, start=1):  # before anything is loaded
        try:
            parse_expression(sentence)
        except ValueError as error:
            raise PipelineError(f"sentence {position}: {error}") from None

    config = load_section(study.name, params)
    if args.variant not in config.variants:
        raise PipelineError(
            f"params.yaml: {study.name}.variants.{args.variant}: no such variant (known: {', '.join(config.variants)})"
        )
    folder = project_root() / study.paths(args.variant).output_dir
    if not folder.is_dir():
        raise PipelineError(f"{folder}: no trained variant {args.variant!r}; run `dvc repro {stage_name(args.variant)}` first")

    os.environ["HF_HUB_OFFLINE"] = "1"  # everything needed is in the output folder
    predict, labels = load(folder)
    for sentence, probs in zip(args.sentences, predict(args.sentences).tolist()):
        best = max(range(len(probs)), key=probs.__getitem__)
        spread = ", ".join(f"{label} {p:.3f}" for label, p in zip(labels, probs))
        print(f"{sentence} -> {labels[best]} ({spread}; true: {labels[sign_class(sentence)]})")
