"""The shared classifier pieces: seeded batches, the probe table, the confusion table."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import confusion_matrix

from pipeline.classification.batches import EncodedBatch, ShuffledBatches
from pipeline.classification.evaluation import confusion_frame, probe_table


def encode_ids(n: int) -> EncodedBatch:
    return EncodedBatch(torch.arange(n).unsqueeze(1), torch.ones(n, 1, dtype=torch.long), torch.arange(n))


def test_batches_cover_every_row_once_per_epoch_in_a_seeded_order():
    batches = ShuffledBatches(encode_ids(10), batch_size=4, seed=3)
    epoch1 = torch.cat([b.labels for b in batches(1)])
    assert [len(b) for b in batches(1)] == [4, 4, 2]
    assert sorted(epoch1.tolist()) == list(range(10))
    assert torch.equal(epoch1, torch.cat([b.labels for b in batches(1)]))
    assert not torch.equal(epoch1, torch.cat([b.labels for b in batches(2)]))
    assert torch.cat([b.labels for b in batches.in_order()]).tolist() == list(range(10))
    # Rows stay together: each batch's ids are its labels (encode_ids makes them equal).
    assert all(torch.equal(b.input_ids[:, 0], b.labels) for b in batches(1))


def test_probe_table_reads_the_argmax_and_the_true_sign():
    probabilities = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    table = probe_table(["eight minus ten", "seven minus seven"], probabilities)
    assert table["prediction"].tolist() == ["negative", "positive"]
    assert table["truth"].tolist() == ["negative", "zero"]
    assert table["probability"].tolist() == pytest.approx([0.7, 0.6])
    assert table["p_zero"].tolist() == pytest.approx([0.2, 0.3])


def test_confusion_frame_rows_are_true_classes():
    truth, predicted = [0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 2, 0]
    table = confusion_frame(confusion_matrix(truth, predicted, labels=range(3)))
    assert list(table.columns) == ["true", "predicted negative", "predicted zero", "predicted positive"]
    assert table["true"].tolist() == ["negative", "zero", "positive"]
    # Counted here independently: row = true class, column = predicted class.
    expected = np.zeros((3, 3), dtype=int)
    for t, p in zip(truth, predicted):
        expected[t, p] += 1
    assert table.iloc[:, 1:].to_numpy().tolist() == expected.tolist()


def test_constant_predictions_are_flagged_as_collapsed_with_the_majority_beside():
    from pipeline.classification.evaluation import collapse_check

    train = np.array([2, 2, 2, 0, 1])  # majority: positive (index 2)
    truth = {"val": np.array([2, 0, 2, 2]), "test": np.array([0, 2, 1, 2, 2])}
    constant = {"val": np.full(4, 2), "test": np.full(5, 2)}
    found = collapse_check(constant, truth, train)
    # Counted by hand: val 3 of 4 positive, test 3 of 5.
    assert found == {
        "collapsed": 1,
        "predicted_classes": 1,
        "majority_class": 2,
        "majority_val_accuracy": 0.75,
        "majority_test_accuracy": 0.6,
    }
    # Constant on another class is collapsed too; the majority figures stay the training majority's.
    assert collapse_check({"val": np.zeros(4, int), "test": np.zeros(5, int)}, truth, train)["collapsed"] == 1
    # One sentence answered differently, in either split, is not a collapse.
    varied = {"val": np.array([2, 2, 2, 2]), "test": np.array([2, 2, 0, 2, 2])}
    assert collapse_check(varied, truth, train)["collapsed"] == 0
    assert collapse_check(varied, truth, train)["predicted_classes"] == 2
