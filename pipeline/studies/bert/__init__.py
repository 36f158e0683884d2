"""BERT-family sentence classifiers on verbal arithmetic (MLflow experiment `bert`).

A pretrained encoder + Linear(hidden, 3) classifies the sentences of the `arithmetic`
study by the sign of their result. Each entry of `bert.variants` in params.yaml is one
DVC stage `train_bert@<variant>` (checkpoint, frozen or fine-tuned encoder, the shared
recipe with optional values of its own, the prepared split or its own split of the train
CSV); it writes `outputs/bert/<variant>/` (the classifier, loadable offline),
`metrics/bert/<variant>.json` and the per-epoch curve `plots/bert/<variant>.csv`, and
logs one MLflow run `bert <variant>`, with the step's timing by phase and a collapse check.

Modules: `params` (the section's schema), `checkpoints` (where a checkpoint param
points), `model` (the classifier), `train` (one variant end to end), `stages`, `results`
(the runs as the report reads them, and the statements computed from them), `report`,
`answers` (the answer sheet's 2025 §3 and 2022 Part 3 entries), `predict` (a CLI
classifying sentences with a trained variant).
"""

from __future__ import annotations

from pipeline.classification import METRICS
from pipeline.core import glossary
from pipeline.core.paths import Study

STUDY = Study(
    "bert",
    experiment="bert",
    description="BERT-family sentence classifiers on verbal arithmetic: a pretrained encoder + `Linear(hidden, 3)` on the "
    "[CLS] output says whether `a plus b` / `a minus b` is negative, zero or positive; one run per variant of `bert.variants` "
    "(fine-tuned, frozen encoder, no pretraining, ...).",
    metrics=glossary.CLASSIFIER
    | METRICS
    | {"initial_pooled_scale": "mean |x| of the pooled [CLS] features the head reads, before training (validation sentences)"},
    run_prefix="bert",  # the gpt-classifier experiment has variants of the same names
)
