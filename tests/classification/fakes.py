"""Classifier runs made up here, shaped as `classification.report.load_runs` reads them from MLflow.

Each fake run answers the real 160 test sentences (and the probes) with a rule given by the
test, so what the report and the answers must say about it is known in advance.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix

from pipeline.classification.report import ClassifierRun
from pipeline.datasets.arithmetic.data import LABELS, read_examples, sign_class

ROOT = Path(__file__).resolve().parents[2]
TEST = read_examples(ROOT / "data/raw/verbal_arithmetic_test.csv")
REFERENCE = {
    "lr": "5e-05",
    "epochs": "3",
    "batch_size": "32",
    "warmup_fraction": "0.1",
    "weight_decay": "0.01",
    "grad_clip": "1.0",
    "eps": "1e-08",
}
PREPARED = {"source": "prepared", "val_fraction": "0.3", "seed": "42", "stratify": "True"}

Rule = Callable[[str, int], int]  # (sentence, true class) -> predicted class


def always(label: str) -> Rule:
    return lambda sentence, truth: LABELS.index(label)


def right_except(*wrong: str) -> Rule:
    """Right on every sentence but `wrong`, where it answers "positive" (or "negative" if that is the truth)."""
    return lambda sentence, truth: (2 if truth != 2 else 0) if sentence in wrong else truth


def fake_run(
    study: str,
    name: str,
    rule: Rule,
    *,
    frozen: bool = False,
    pretrained: bool = True,
    recipe: dict | None = None,
    split: dict | None = None,
    confidence: float = 0.9,
    probes: list[str] = ("eight minus ten", "seven minus seven", "four plus seven"),
    metrics: dict | None = None,
) -> ClassifierRun:
    """A run answering with `rule`, giving its answer probability `confidence` (the rest split evenly)."""

    def probabilities(sentences: list[str]) -> tuple[np.ndarray, np.ndarray]:
        truth = np.array([sign_class(s) for s in sentences])
        predicted = np.array([rule(s, t) for s, t in zip(sentences, truth)])
        p = np.full((len(sentences), len(LABELS)), (1 - confidence) / (len(LABELS) - 1))
        p[np.arange(len(sentences)), predicted] = confidence
        return truth, p

    texts = [e.text for e in TEST]
    truth, p = probabilities(texts)
    predicted = p.argmax(1)
    test_predictions = pd.DataFrame(
        {"index": [e.index for e in TEST], "input": texts, "label": truth, "prediction": predicted, "correct": predicted == truth}
    )
    probe_truth, probe_p = probabilities(list(probes))
    probe_table = pd.DataFrame(
        {
            "sentence": list(probes),
            "truth": [LABELS[t] for t in probe_truth],
            "prediction": [LABELS[i] for i in probe_p.argmax(1)],
            "probability": probe_p.max(1),
        }
    )
    for i, label in enumerate(LABELS):
        test_predictions[f"p_{label}"] = p[:, i]
        probe_table[f"p_{label}"] = probe_p[:, i]
    accuracy = float((predicted == truth).mean())
    majority = float((truth == 2).mean())
    epochs = int((recipe or REFERENCE)["epochs"])
    logged = {f"recipe.{k}": str(v) for k, v in (recipe or REFERENCE).items()}
    logged |= {f"split.{k}": str(v) for k, v in (split or PREPARED).items()}
    logged |= {"variant.checkpoint": "main", "checkpoint.pretrained": str(pretrained), "timed_batches": "3"}
    return ClassifierRun(
        study=study,
        name=name,
        model="some checkpoint" if pretrained else "some checkpoint, same architecture, no pretraining (random init)",
        frozen=frozen,
        pretrained=pretrained,
        params=logged,
        metrics={
            "val_accuracy": accuracy,
            "test_accuracy": accuracy,
            "final_train_loss": 1.0 - accuracy,
            "epochs_trained": epochs,
            "collapsed": int(len(set(predicted)) == 1),
            "majority_class": 2,
            "majority_val_accuracy": majority,
            "majority_test_accuracy": majority,
            "val_mean_top_probability": confidence,
            "head_weight_change": 0.5,
            "initial_pooled_scale": 0.05,
            "trainable_parameters": 1_155 if frozen else 22_714_371,
            "parameters": 22_714_371,
            "train_rows": 448,
            "val_rows": 160,
            "test_rows": 160,
            "train_seconds": 4.0 if frozen else 15.0,
            "forward_seconds_per_batch": 0.1,
            "backward_seconds_per_batch": 0.001 if frozen else 0.2,
            "optimizer_seconds_per_batch": 0.0001 if frozen else 0.05,
            **(metrics or {}),
        },
        curve=pd.DataFrame(
            {
                "epoch": range(1, epochs + 1),
                "iterations": [14 * e for e in range(1, epochs + 1)],
                "train_loss": np.linspace(1.0, 1.0 - accuracy, epochs),
                "val_loss": np.linspace(1.0, 0.5, epochs),
                "val_accuracy": np.linspace(majority, accuracy, epochs),
            }
        ),
        probes=probe_table,
        confusion_test=confusion_matrix(truth, predicted, labels=range(len(LABELS))),
        test_predictions=test_predictions,
    )


# ------------------------------------------------------------ the studies' runs, made up

TUNED = {**REFERENCE, "lr": "0.0001", "epochs": "10"}
HEAD = {**REFERENCE, "lr": "0.1", "epochs": "10"}
NOTEBOOK = {**REFERENCE, "epochs": "4", "warmup_fraction": "0.0", "weight_decay": "0.0"}
NOTEBOOK_SPLIT = {"source": "train CSV", "val_fraction": "0.2", "seed": "2021", "stratify": "False"}


def bert_runs(scratch_collapses: bool = False) -> list[ClassifierRun]:
    """The six variants of params.yaml, each wrong on the test sentences named here (and on every zero)."""
    negative = [e.text for e in TEST if e.label == 0]
    zero = [e.text for e in TEST if e.label == 1]
    # An untrained head: near-uniform answers, right on every third sentence or so.
    untrained = lambda sentence, truth: len(sentence) % 3  # noqa: E731
    return [
        fake_run("bert", "finetune", right_except(*zero, *negative[:2]), recipe=TUNED),
        fake_run("bert", "finetune_reference", right_except(*zero, *negative[:10])),
        fake_run(
            "bert",
            "frozen",
            right_except(*zero, *negative[:20]),
            frozen=True,
            recipe=HEAD,
            confidence=0.77,
            metrics={"head_weight_change": 17.8},
        ),
        fake_run("bert", "frozen_reference", untrained, frozen=True, confidence=0.34, metrics={"head_weight_change": 0.031}),
        fake_run(
            "bert",
            "no_pretraining",
            always("positive") if scratch_collapses else right_except(*zero, *negative[:25]),
            pretrained=False,
            recipe=TUNED,
        ),
        fake_run("bert", "gpt_recipe", right_except(*zero, *negative[:3]), recipe=NOTEBOOK, split=NOTEBOOK_SPLIT),
    ]


def gpt_runs() -> list[ClassifierRun]:
    negative = [e.text for e in TEST if e.label == 0]
    zero = [e.text for e in TEST if e.label == 1]
    return [
        fake_run(
            "gpt",
            "finetune",
            right_except(*zero[:1], *negative[1:7]),
            recipe=NOTEBOOK,
            split=NOTEBOOK_SPLIT,
            metrics={"trainable_parameters": 134_516_736, "train_seconds": 127.0},
        )
    ]


def fake_context(tmp_path: Path, out, bert: list[ClassifierRun], gpt: list[ClassifierRun]):
    """A ReportContext at `tmp_path` whose runs are the given ones (as `load_runs` would have memoised them)."""
    import shutil

    from pipeline.datasets.arithmetic import STATISTICS
    from pipeline.reporting import ReportContext

    (tmp_path / STATISTICS).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / STATISTICS, tmp_path / STATISTICS)
    ctx = ReportContext(tmp_path, out)
    ctx._memo[f"classifier-runs:bert:{','.join(run.name for run in bert)}"] = bert
    ctx._memo[f"classifier-runs:gpt:{','.join(run.name for run in gpt)}"] = gpt
    continuations = pd.DataFrame(
        {
            "prompt": ["One, two, three, four,", "seven minus nine is"],
            "continuation": [" five, six, seven. Eight", " 11."],
            "new_tokens": [12, 3],
        }
    )
    ctx._memo["gpt-continuations"] = (continuations, {"new_tokens": 15.0, "generation_seconds": 1.5}, "tiny-llama")
    return ctx
