"""Evaluating a trained sentence classifier, and writing and logging what a run produced.

Every classifier study's run ends the same way: accuracies and confusion matrices on the
validation and test splits, the per-epoch curve, the probe sentences' predictions, the
stage's outputs (classifier folder, metrics, curve) written before the last MLflow calls,
then the summary metrics, figures and tables logged under the same artifact names.

Every run is also checked for collapse: a classifier that gives every validation and test
sentence the same class has learned nothing a constant could not, so it is flagged
(`collapsed: 1`, with the majority class's accuracy beside) and the report calls it the
majority baseline rather than a model.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import accuracy_score, confusion_matrix

from pipeline.classification.batches import EncodedBatch
from pipeline.classification.figures import confusion_figure, training_figure
from pipeline.core.callbacks import Callbacks, EpochRecord
from pipeline.core.io import write_metrics
from pipeline.core.tracked_run import TrackedRun
from pipeline.core.training import FitResult
from pipeline.datasets.arithmetic.data import LABELS, Example, sign_class

CURVE_COLUMNS = ["epoch", "iterations", "train_loss", "val_loss", "val_accuracy"]

Logits = Callable[[torch.nn.Module, EncodedBatch], torch.Tensor]  # (model, batch) -> (B, C)
PredictProba = Callable[[list[str]], torch.Tensor]  # sentences -> (N, C) class probabilities


class ValidationAccuracy(Callbacks):
    """After each epoch: the share of validation sentences classified right, as `record.extra["val_accuracy"]`."""

    def __init__(self, model: torch.nn.Module, val_batches: list[EncodedBatch], device: torch.device | str, logits: Logits):
        self.model = model
        self.val_batches = val_batches
        self.device = device
        self.logits = logits

    @torch.no_grad()
    def on_evaluate(self, record: EpochRecord) -> None:
        self.model.eval()
        correct = sum(
            (self.logits(self.model, b).argmax(-1) == b.labels).sum().item() for b in (batch.to(self.device) for batch in self.val_batches)
        )
        self.model.train()
        record.extra["val_accuracy"] = correct / sum(len(b) for b in self.val_batches)


def curve_frame(history: list[EpochRecord]) -> pd.DataFrame:
    """The per-epoch curve `plots/<study>/<variant>.csv`: one row per epoch, CURVE_COLUMNS."""
    return pd.DataFrame(
        {
            "epoch": record.epoch,
            "iterations": record.iterations,
            "train_loss": record.train_loss,
            "val_loss": record.val_loss,
            "val_accuracy": record.extra["val_accuracy"],
        }
        for record in history
    )


def frame(examples: list[Example]) -> pd.DataFrame:
    return pd.DataFrame({"index": [e.index for e in examples], "input": [e.text for e in examples], "label": [e.label for e in examples]})


@dataclass
class Evaluation:
    metrics: dict  # every number: metrics/<study>/<variant>.json holds the results, timings/... the timings
    probes: pd.DataFrame  # probe_table of the params' probe sentences


def finish_run(
    run: TrackedRun,
    name: str,
    result: FitResult,
    splits: dict[str, list[Example]],
    predict: PredictProba,
    probes: list[str],
    details: dict,
    save_classifier: Callable[[Path], None],
    extra_tables: dict[str, pd.DataFrame] | None = None,
) -> Evaluation:
    """Evaluate the trained model on val/test and the probes, write the stage's outputs, log the rest.

    `details` (parameter counts, timings...) follow the accuracies in the metrics; `save_classifier`
    writes the classifier folder it is given; `extra_tables` are logged after the confusion tables.
    """
    probabilities = {split: predict([e.text for e in splits[split]]) for split in ("val", "test")}
    predicted = {split: probs.argmax(-1).numpy() for split, probs in probabilities.items()}
    truth = {split: np.array([e.label for e in splits[split]]) for split in ("val", "test")}
    confusion = {split: confusion_matrix(truth[split], predicted[split], labels=range(len(LABELS))) for split in truth}
    curve = curve_frame(result.history)
    collapse = collapse_check(predicted, truth, np.array([e.label for e in splits["train"]]))
    metrics = {
        "val_accuracy": float(accuracy_score(truth["val"], predicted["val"])),
        "test_accuracy": float(accuracy_score(truth["test"], predicted["test"])),
        "best_val_accuracy": float(curve["val_accuracy"].max()),
        "final_train_loss": result.history[-1].train_loss,
        "final_val_loss": result.history[-1].val_loss,
        "epochs_trained": len(result.history),
        **collapse,
        # How far from uniform (1/3) the classifier's answers are: an untrained head stays near it.
        "val_mean_top_probability": float(probabilities["val"].max(-1).values.mean()),
        **details,
    }
    if collapse["collapsed"]:
        only = LABELS[int(predicted["val"][0])]
        print(f"warning: {name}: collapsed: every validation and test sentence is classified {only!r}", file=sys.stderr)
    probe_predictions = probe_table(probes, predict(probes))
    test_predictions = frame(splits["test"]).assign(prediction=predicted["test"], correct=predicted["test"] == truth["test"])
    for i, label in enumerate(LABELS):
        test_predictions[f"p_{label}"] = probabilities["test"][:, i].numpy().round(4)

    with run.outputs() as out:
        save_classifier(out.path(run.paths.output_dir))
        write_metrics(out, run.paths.metrics_file, metrics)
        curve.to_csv(out.path(run.paths.curve_file), index=False, float_format="%.6g")

    # At step 0 like every study's summary, leaving out what the epochs logged (their curves
    # start at step 1): one value per (metric, step).
    run.log_summary(metrics, skip=CURVE_COLUMNS)
    run.log_figure(training_figure({name: curve}), "figures/training_curve.png")
    run.log_figure(confusion_figure({f"{name}, test": confusion["test"], f"{name}, validation": confusion["val"]}), "figures/confusion.png")
    for split in ("val", "test"):
        run.tracker.log_table(confusion_frame(confusion[split]), f"tables/confusion_{split}.json")
    for artifact, table in (extra_tables or {}).items():
        run.tracker.log_table(table, artifact)
    run.tracker.log_table(probe_predictions, "tables/probe_predictions.json")
    run.tracker.log_table(test_predictions, "tables/test_predictions.json")
    return Evaluation(metrics, probe_predictions)


def collapse_check(predicted: dict[str, np.ndarray], truth: dict[str, np.ndarray], train_labels: np.ndarray) -> dict:
    """Whether the predictions of every split in `predicted` are one and the same class, beside what
    always answering the training split's majority class scores on each split of `truth`.

    {"collapsed": 0 | 1, "predicted_classes": distinct classes predicted, "majority_class": its index,
    "majority_<split>_accuracy": ...}
    """
    majority = int(np.bincount(train_labels, minlength=len(LABELS)).argmax())
    used = np.unique(np.concatenate(list(predicted.values())))
    return {
        "collapsed": int(len(used) == 1),
        "predicted_classes": len(used),
        "majority_class": majority,
        **{f"majority_{split}_accuracy": float(np.mean(labels == majority)) for split, labels in truth.items()},
    }


def print_summary(heading: str, evaluation: Evaluation, timing: str) -> None:
    """The run's one-line result and its probe predictions, on stderr."""
    metrics = evaluation.metrics
    print(f"{heading}: val accuracy {metrics['val_accuracy']:.4f}, test accuracy {metrics['test_accuracy']:.4f}; {timing}", file=sys.stderr)
    for row in evaluation.probes.itertuples():
        print(f"  {row.sentence} -> {row.prediction} ({row.probability:.2f}; true: {row.truth})", file=sys.stderr)


def probe_table(sentences: list[str], probabilities: torch.Tensor) -> pd.DataFrame:
    """One row per sentence: the true sign, the predicted class and every class probability."""
    table = pd.DataFrame(
        {
            "sentence": sentences,
            "truth": [LABELS[sign_class(s)] for s in sentences],
            "prediction": [LABELS[i] for i in probabilities.argmax(-1).tolist()],
            "probability": probabilities.max(-1).values.numpy().round(4),
        }
    )
    for i, label in enumerate(LABELS):
        table[f"p_{label}"] = probabilities[:, i].numpy().round(4)
    return table


def confusion_frame(matrix: np.ndarray) -> pd.DataFrame:
    """Rows: true class; columns: predicted class (scikit-learn's convention)."""
    columns = [f"predicted {label}" for label in LABELS]
    return pd.DataFrame(matrix, columns=columns).assign(true=list(LABELS))[["true", *columns]]
