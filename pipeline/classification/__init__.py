"""Shared sentence-classification machinery: the verbal-arithmetic classifier studies (bert, gpt)
train, evaluate and answer through it; each study keeps its own model, params and recipe.

- `batches`: pre-tokenized sentence batches, shuffled per (seed, epoch)
- `data`: a reference notebook's train/validation split of the shipped train CSV
- `run`: the run every classifier study hands its built model to (track, time a step, train, evaluate)
- `timing`: the forward, backward and optimizer phases of a training step, timed
- `evaluation`: the per-epoch validation accuracy, the curve, and a finished run's
  metrics, collapse check, confusion matrices, probe predictions, outputs and MLflow artifacts
- `figures`: the training curve and confusion matrices (light: the reports import it)
- `report`: the tables, figures and comparisons both studies' report sections write (light)
- `predict`: the core of the `predict` CLIs (sentence-form check, variant lookup, printing)
- `checkpoints`: a hub id's local snapshot (light: no torch/transformers)

It may import pipeline.core, pipeline.datasets.arithmetic (the task's data) and libraries, never
a classifier study.
"""

# What every classifier run logs besides `core.glossary.CLASSIFIER` (the studies' `Study.metrics` add it).
METRICS: dict[str, str] = {
    "collapsed": "1 if every validation and test sentence got the same class: the run is a majority baseline, not a model",
    "predicted_classes": "how many distinct classes the run predicted over the validation and test sentences",
    "majority_class": "index (negative, zero, positive) of the training split's most frequent class",
    "majority_val_accuracy": "accuracy of always answering `majority_class`, on the validation split",
    "majority_test_accuracy": "accuracy of always answering `majority_class`, on the test split",
    "val_mean_top_probability": "mean over validation sentences of the highest class probability (1/3: no preference)",
    "head_weight_change": "norm of (trained - initial) classification-head weights over the initial norm",
    "forward_seconds_per_batch": "median wall time of one training batch's forward pass and loss (`timed_batches` timed)",
    "backward_seconds_per_batch": "median wall time of one training batch's backward pass",
    "optimizer_seconds_per_batch": "median wall time of one optimizer step, gradient clipping included",
}
