"""Shared sentence-classification machinery: the verbal-arithmetic classifier studies (bert, gpt)
train, evaluate and answer through it; each study keeps its own model, params and recipe.

- `batches`: pre-tokenized sentence batches, shuffled per (seed, epoch)
- `evaluation`: the per-epoch validation accuracy, the curve, and a finished run's
  metrics, confusion matrices, probe predictions, outputs and MLflow artifacts
- `figures`: the training curve and confusion matrices (light: the reports import it)
- `predict`: the core of the `predict` CLIs (sentence-form check, variant lookup, printing)
- `checkpoints`: a hub id's local snapshot (light: no torch/transformers)

It may import pipeline.core, pipeline.studies.arithmetic (the task's data) and libraries, never
a classifier study.
"""
