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
from types import ModuleType

from pipeline.core.errors import PipelineError
from pipeline.core.params import Schema, load_section, require_known, section_checks
from pipeline.core.paths import Study
from pipeline.datasets.arithmetic.data import parse_expression, sign_class


def classify(
    argv: list[str] | None, study: Study, params: type[Schema], model_module: Callable[[], ModuleType], *, example: str, doc: str
) -> None:
    """The CLI of `study` (its params section `params`, its module docstring `doc`).

    `model_module` imports the study's model module (`run.ModelModule`: `load_classifier`, `predict_proba`),
    called only once the input is checked, so a bad sentence fails before torch is imported.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--variant", default="finetune", help=f"variant name from {study.name}.variants (default: finetune)")
    parser.add_argument("sentences", nargs="+", help=f'e.g. "{example}"')
    args = parser.parse_args(argv)
    for position, sentence in enumerate(args.sentences, start=1):  # before anything is loaded
        try:
            parse_expression(sentence)
        except ValueError as error:
            raise PipelineError(f"sentence {position}: {error}") from None

    config = load_section(study.name, params)
    with section_checks():
        require_known(f"{study.name}.variants", args.variant, config.variants, "variant")
    folder = study.trained_output_dir(args.variant, "variant")

    os.environ["HF_HUB_OFFLINE"] = "1"  # everything needed is in the output folder
    model = model_module()
    classifier, tokenizer, info = model.load_classifier(folder)
    labels = info["labels"]
    probabilities = model.predict_proba(classifier, tokenizer, args.sentences, info["max_length"])  # (N, C)
    for sentence, probs in zip(args.sentences, probabilities.tolist()):
        best = max(range(len(probs)), key=probs.__getitem__)
        spread = ", ".join(f"{label} {p:.3f}" for label, p in zip(labels, probs))
        print(f"{sentence} -> {labels[best]} ({spread}; true: {labels[sign_class(sentence)]})")
