"""A classifier run end to end on a tiny model: what `train_classifier` writes and logs, collapse included."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from pipeline.classification.batches import EncodedBatch
from pipeline.classification.run import train_classifier
from pipeline.core import tracking
from pipeline.core.params import SharedParams, StudySetup
from pipeline.core.paths import Study
from pipeline.datasets.arithmetic.data import LABELS, NUMBER_WORDS, Example, sign_class
from pipeline.reporting import artifact_table

STUDY = Study("democlassifier", experiment="unit-classifier-run")
WORDS = {word: i for i, word in enumerate([*NUMBER_WORDS, "plus", "minus"])}


class BagOfWords(nn.Module):
    """Sentence -> sum of word embeddings -> Linear(8, 3): small enough to train in a second."""

    def __init__(self):
        super().__init__()
        self.embed = nn.EmbeddingBag(len(WORDS), 8, mode="sum")
        self.head = nn.Linear(8, len(LABELS))

    def forward(self, input_ids):
        return self.head(self.embed(input_ids))  # (B, C)


def tokenize(texts: list[str]) -> dict:
    """One id per word: every sentence of the task is three tokens."""
    return {"input_ids": [[WORDS[w] for w in text.split()] for text in texts]}


def encode(tokenizer, texts: list[str], labels: list[int], max_length: int) -> EncodedBatch:
    ids = torch.tensor(tokenizer(texts)["input_ids"])  # (B, 3)
    return EncodedBatch(ids, torch.ones_like(ids), torch.tensor(labels))


def sentence_logits(model, batch):
    return model(batch.input_ids)


@torch.no_grad()
def predict_proba(model, tokenizer, texts, max_length, device="cpu"):
    return sentence_logits(model, encode(tokenizer, texts, [0] * len(texts), max_length)).softmax(-1)


# What a study's model module provides, for the bag of words.
FAMILY = SimpleNamespace(
    encode=encode,
    sentence_logits=sentence_logits,
    classification_loss=lambda m, batch: (nn.functional.cross_entropy(sentence_logits(m, batch), batch.labels), len(batch)),
    predict_proba=predict_proba,
    save_classifier=lambda folder, model, tokenizer, info: folder.mkdir(parents=True),
)


@dataclass
class Recipe:
    lr: float
    max_length: int = 3
    batch_size: int = 8
    epochs: int = 2
    eps: float = 1e-8
    warmup_fraction: float = 0.0
    grad_clip: float = 1.0
    weight_decay: float = 0.0

    def model_dump(self) -> dict:
        return asdict(self)


def examples(sentences: list[str]) -> list[Example]:
    return [Example(i, s, sign_class(s)) for i, s in enumerate(sentences)]


SPLITS = {
    "train": examples([f"{a} {op} {b}" for a in NUMBER_WORDS[:12] for b in NUMBER_WORDS[:12] for op in ("plus", "minus")][::3]),
    "val": examples(["eight minus ten", "four plus seven", "seven minus seven", "one plus one"]),
    "test": examples(["three minus nine", "nineteen minus eighteen", "zero plus zero", "two plus two", "five minus six"]),
}


def run_tiny(name: str, lr: float, bias: list[float] | None = None):
    """Train the bag of words as variant `name`; (its metrics, its timings, its MLflow run, the model, the head's initial weights)."""
    torch.manual_seed(0)
    model = BagOfWords()
    if bias is not None:
        with torch.no_grad():
            model.head.bias.copy_(torch.tensor(bias))
    initial = model.head.weight.detach().clone()
    section = SimpleNamespace(checkpoint_set="none", probes=["eight minus ten"], timed_batches=2)
    setup = StudySetup(SharedParams(profile="test", seed=0, device="cpu"), section, None)
    train_classifier(
        STUDY,
        name,
        setup,
        Recipe(lr=lr),
        torch.device("cpu"),
        model=model,
        tokenizer=tokenize,
        head=model.head,
        family=FAMILY,
        splits=SPLITS,
        files=dict.fromkeys(SPLITS, Path("words.csv")),
        checkpoint="bag of words",
        description="a bag of words",
        params={"variant": name},
        info={},
        measure=lambda encoded: {},
        heading=name,
        timing=lambda result: "",
    )
    paths = STUDY.paths(name)
    metrics = json.loads(paths.metrics_file.read_text())
    timings = json.loads(paths.timings_file.read_text())
    (mlflow_run,) = tracking.client().search_runs(
        [tracking.client().get_experiment_by_name(STUDY.experiment).experiment_id], f"attributes.run_name = '{name}'"
    )
    return metrics, timings, mlflow_run, model, initial


@pytest.mark.usefixtures("workdir")
def test_a_run_writes_its_checks_and_timings_and_logs_the_test_probabilities():
    metrics, timings, mlflow_run, model, initial = run_tiny("learns", lr=0.5)
    # What the run is: its stage, the variant's and the recipe's params, the sizes counted here by hand.
    assert mlflow_run.data.tags["dvc_stage"] == "train_democlassifier@learns"
    assert mlflow_run.data.params["variant"] == "learns" and mlflow_run.data.params["recipe.lr"] == "0.5"
    assert metrics["parameters"] == metrics["trainable_parameters"] == len(WORDS) * 8 + 8 * len(LABELS) + len(LABELS)
    assert (metrics["truncated_sentences"], metrics["train_rows"], metrics["test_rows"]) == (0, len(SPLITS["train"]), 5)
    assert metrics["head_weight_change"] == pytest.approx(float((model.head.weight.detach() - initial).norm() / initial.norm()), rel=1e-5)
    train_labels = np.array([e.label for e in SPLITS["train"]])
    majority = np.bincount(train_labels, minlength=3).argmax()
    assert metrics["majority_class"] == majority
    assert metrics["majority_test_accuracy"] == pytest.approx(np.mean([e.label == majority for e in SPLITS["test"]]))
    assert set(timings) == {"train_seconds", "forward_seconds_per_batch", "backward_seconds_per_batch", "optimizer_seconds_per_batch"}
    assert mlflow_run.data.metrics["collapsed"] == metrics["collapsed"]
    assert mlflow_run.data.metrics["forward_seconds_per_batch"] == pytest.approx(timings["forward_seconds_per_batch"])
    table = artifact_table(tracking.client(), mlflow_run.info.run_id, "tables/test_predictions.json")
    probabilities = table[[f"p_{label}" for label in LABELS]].to_numpy()
    assert np.allclose(probabilities.sum(1), 1, atol=1e-3) and (probabilities.argmax(1) == table["prediction"]).all()


@pytest.mark.usefixtures("workdir")
def test_a_run_that_answers_one_class_is_flagged_collapsed(capsys):
    # lr 0: nothing trains, and a head biased hard towards "positive" answers it for every sentence.
    metrics, _, mlflow_run, _, _ = run_tiny("constant", lr=0.0, bias=[-50.0, -50.0, 50.0])
    assert metrics["collapsed"] == 1 and metrics["predicted_classes"] == 1
    assert metrics["test_accuracy"] == pytest.approx(metrics["majority_test_accuracy"])  # positive is the majority here
    assert metrics["head_weight_change"] == 0.0
    assert "warning: constant: collapsed: every validation and test sentence is classified 'positive'" in capsys.readouterr().err
    assert mlflow_run.data.metrics["collapsed"] == 1.0
