"""A classifier run end to end on a tiny model: what `train_classifier` writes and logs, collapse included."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from pipeline.classification.batches import EncodedBatch
from pipeline.classification.run import train_classifier
from pipeline.core import tracking
from pipeline.core.params import SharedParams
from pipeline.core.paths import Study
from pipeline.core.run import TrackedRun
from pipeline.core.training import FitConfig
from pipeline.reporting import artifact_table
from pipeline.datasets.arithmetic.data import LABELS, NUMBER_WORDS, Example, sign_class

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


def encode(examples: list[Example]) -> EncodedBatch:
    ids = torch.tensor([[WORDS[w] for w in e.text.split()] for e in examples])  # (B, 3)
    return EncodedBatch(ids, torch.ones_like(ids), torch.tensor([e.label for e in examples]))


def examples(sentences: list[str]) -> list[Example]:
    return [Example(i, s, sign_class(s)) for i, s in enumerate(sentences)]


SPLITS = {
    "train": examples([f"{a} {op} {b}" for a in NUMBER_WORDS[:12] for b in NUMBER_WORDS[:12] for op in ("plus", "minus")][::3]),
    "val": examples(["eight minus ten", "four plus seven", "seven minus seven", "one plus one"]),
    "test": examples(["three minus nine", "nineteen minus eighteen", "zero plus zero", "two plus two", "five minus six"]),
}


def run_tiny(name: str, lr: float, bias: list[float] | None = None):
    torch.manual_seed(0)
    model = BagOfWords()
    if bias is not None:
        with torch.no_grad():
            model.head.bias.copy_(torch.tensor(bias))
    initial = model.head.weight.detach().clone()
    encoded = {split: encode(ex) for split, ex in SPLITS.items()}

    def loss_fn(m, batch):
        return nn.functional.cross_entropy(m(batch.input_ids), batch.labels), len(batch)

    def predict(sentences):
        with torch.no_grad():
            return model(encode(examples(sentences)).input_ids).softmax(-1)

    config = FitConfig(epochs=2, patience=2, lr=lr, make_optimizer=lambda m, lr: torch.optim.SGD(m.parameters(), lr=lr),
                       restore_best=False)
    with TrackedRun(STUDY, name, stage=f"train_demo@{name}", shared=SharedParams(profile="test", seed=0, device="cpu"),
                    dataset="toy", model="bag of words") as run:
        train_classifier(
            run, model=model, head=model.head, splits=SPLITS, encoded=encoded, batch_size=8, seed=0, config=config,
            loss_fn=loss_fn, logits=lambda m, b: m(b.input_ids), predict=predict, probes=["eight minus ten"],
            details={"parameters": 1}, save_classifier=lambda folder: folder.mkdir(parents=True), timed_batches=2,
            device=torch.device("cpu"),
        )
    return run, model, initial


@pytest.mark.usefixtures("workdir")
def test_a_run_writes_its_checks_and_timings_and_logs_the_test_probabilities():
    run, model, initial = run_tiny("learns", lr=0.5)
    metrics = json.loads((run.root / run.paths.metrics_file).read_text())
    timings = json.loads((run.root / run.paths.timings_file).read_text())
    assert metrics["head_weight_change"] == pytest.approx(float((model.head.weight.detach() - initial).norm() / initial.norm()), rel=1e-5)
    train_labels = np.array([e.label for e in SPLITS["train"]])
    majority = np.bincount(train_labels, minlength=3).argmax()
    assert metrics["majority_class"] == majority
    assert metrics["majority_test_accuracy"] == pytest.approx(np.mean([e.label == majority for e in SPLITS["test"]]))
    assert set(timings) == {"train_seconds", "forward_seconds_per_batch", "backward_seconds_per_batch", "optimizer_seconds_per_batch"}
    mlflow_run = tracking.client().get_run(run.tracker.run_id)
    assert mlflow_run.data.metrics["collapsed"] == metrics["collapsed"]
    assert mlflow_run.data.metrics["forward_seconds_per_batch"] == pytest.approx(timings["forward_seconds_per_batch"])
    table = artifact_table(tracking.client(), run.tracker.run_id, "tables/test_predictions.json")
    probabilities = table[[f"p_{label}" for label in LABELS]].to_numpy()
    assert np.allclose(probabilities.sum(1), 1, atol=1e-3) and (probabilities.argmax(1) == table["prediction"]).all()


@pytest.mark.usefixtures("workdir")
def test_a_run_that_answers_one_class_is_flagged_collapsed(capsys):
    # lr 0: nothing trains, and a head biased hard towards "positive" answers it for every sentence.
    run, _, _ = run_tiny("constant", lr=0.0, bias=[-50.0, -50.0, 50.0])
    metrics = json.loads((run.root / run.paths.metrics_file).read_text())
    assert metrics["collapsed"] == 1 and metrics["predicted_classes"] == 1
    assert metrics["test_accuracy"] == pytest.approx(metrics["majority_test_accuracy"])  # positive is the majority here
    assert metrics["head_weight_change"] == 0.0
    assert "warning: constant: collapsed: every validation and test sentence is classified 'positive'" in capsys.readouterr().err
    assert tracking.client().get_run(run.tracker.run_id).data.metrics["collapsed"] == 1.0
