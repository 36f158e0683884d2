"""The classifier, its loss and per-epoch accuracies, and a tiny training run."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pipeline.core.callbacks import CallbackList, Callbacks
from pipeline.core.training import FitConfig, fit
from pipeline.studies.add2digits.data import generate
from pipeline.studies.add2digits.model import Add2DigitsModel, CountingLoss, accuracy, encode, load_model, save_model
from pipeline.studies.add2digits.train import Accuracies, ShuffledBatches, curve_frame, reference_metrics

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_shapes_and_parameter_count(cell):
    model = Add2DigitsModel(cell, hidden_size=128, num_layers=2)
    batch = encode(generate(4, 7, np.random.default_rng(0)))
    assert batch.x.shape == (4, 7, 11) and torch.equal(batch.x.sum(-1), torch.ones(4, 7))
    assert model(batch.x).shape == (4, 19)
    gates = {"rnn": 1, "lstm": 4}[cell]
    recurrent = gates * ((11 * 128 + 128 * 128 + 2 * 128) + (128 * 128 + 128 * 128 + 2 * 128))  # two biases per layer
    assert sum(p.numel() for p in model.parameters()) == recurrent + 128 * 19 + 19


def test_rnn_logits_are_the_head_of_a_tanh_recurrence_at_the_last_step():
    torch.manual_seed(0)
    model = Add2DigitsModel("rnn", hidden_size=6, num_layers=2).eval()
    x = encode(generate(3, 5, np.random.default_rng(2))).x.numpy()
    p = {k: v.detach().numpy() for k, v in model.named_parameters()}
    states = [np.zeros((3, 6)), np.zeros((3, 6))]
    for t in range(5):
        inputs = x[:, t]
        for layer in range(2):
            w, u = p[f"recurrent.weight_ih_l{layer}"], p[f"recurrent.weight_hh_l{layer}"]
            b = p[f"recurrent.bias_ih_l{layer}"] + p[f"recurrent.bias_hh_l{layer}"]
            states[layer] = np.tanh(inputs @ w.T + states[layer] @ u.T + b)
            inputs = states[layer]
    expected = states[1] @ p["head.weight"].T + p["head.bias"]
    np.testing.assert_allclose(model(torch.from_numpy(x)).detach().numpy(), expected, rtol=1e-5, atol=1e-6)


def test_unknown_cell_is_refused():
    with pytest.raises(ValueError, match="unknown cell 'gru'"):
        Add2DigitsModel("gru")


def test_counting_loss_is_cross_entropy_and_counts_per_mode():
    torch.manual_seed(1)
    model = Add2DigitsModel("lstm", hidden_size=8, num_layers=1)
    batch = encode(generate(10, 4, np.random.default_rng(3)))
    loss = CountingLoss()
    value, count = loss(model.train(), batch)
    logits = model(batch.x).detach().numpy()
    log_probs = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    assert count == 10 and value.item() == pytest.approx(-log_probs[np.arange(10), batch.y.numpy()].mean(), rel=1e-5)
    right = int((logits.argmax(1) == batch.y.numpy()).sum())
    loss(model.eval(), batch)
    loss(model.eval(), batch)
    assert loss.take() == (right / 10, right / 10)
    assert loss.take() == (0.0, 0.0)  # reset


def test_batches_cover_every_row_once_in_a_seeded_order():
    batch = encode(generate(10, 4, np.random.default_rng(3)))
    batch.y = torch.arange(10)
    batches = ShuffledBatches(batch, 4, seed=3)
    assert [len(b) for b in batches(1)] == [4, 4, 2]
    assert sorted(torch.cat([b.y for b in batches(1)]).tolist()) == list(range(10))
    assert torch.equal(torch.cat([b.y for b in batches(1)]), torch.cat([b.y for b in batches(1)]))
    assert not torch.equal(torch.cat([b.y for b in batches(1)]), torch.cat([b.y for b in batches(2)]))
    assert [b.y.tolist() for b in ShuffledBatches(batch, None, 0)(5)] == [list(range(10))]


class _MeasuredAfterEpoch(Callbacks):
    """Accuracy of the weights after each epoch, measured by a separate forward pass."""

    def __init__(self, model, train, test):
        self.model, self.train, self.test = model, train, test
        self.before = [accuracy(model, train)]  # the weights the first epoch's step starts from
        self.test_after = []
        model.train()

    def on_epoch_end(self, record):
        self.before.append(accuracy(self.model, self.train))
        self.test_after.append(accuracy(self.model, self.test))
        self.model.train()


def test_tiny_full_batch_run_learns_and_its_accuracies_match_separate_measurements():
    """Length 3 puts the marker first: the label is the sum of the last two digits. 64 rows,
    trained and tested on themselves, are learnt by heart within 150 full-batch steps."""
    torch.manual_seed(0)
    data = encode(generate(64, 3, np.random.default_rng(4)))
    model = Add2DigitsModel("lstm", hidden_size=32, num_layers=1)
    loss = CountingLoss()
    measured = _MeasuredAfterEpoch(model, data, data)
    result = fit(
        model,
        ShuffledBatches(data, None, 0),
        [data],
        loss,
        FitConfig(epochs=150, patience=150, lr=0.02, restore_best=False),
        callbacks=CallbackList(Accuracies(loss, "test"), measured),
    )
    curve = curve_frame(result.history, "test")
    # The reference's held-out set is its test split: the loop's validation loss is the test loss.
    assert list(curve.columns) == ["epoch", "iterations", "train_loss", "test_loss", "train_accuracy", "test_accuracy"]
    assert curve["test_loss"].tolist() == pytest.approx([r.val_loss for r in result.history])
    assert curve["iterations"].tolist() == list(range(1, 151))  # one full-batch step per epoch
    # The train accuracy of epoch e: the weights before its step; the test accuracy: after it.
    assert curve["train_accuracy"].tolist() == pytest.approx(measured.before[:-1])
    assert curve["test_accuracy"].tolist() == pytest.approx(measured.test_after)
    assert curve["test_accuracy"].iloc[-1] == 1.0 and accuracy(model, data) == 1.0
    metrics = reference_metrics(curve)
    assert metrics["final_test_accuracy"] == 1.0 and metrics["best_test_accuracy"] == 1.0
    first = metrics["first_epoch_train_accuracy_1"]
    assert curve.loc[curve["epoch"] == first, "train_accuracy"].item() == 1.0
    assert (curve.loc[curve["epoch"] < first, "train_accuracy"] < 1.0).all()
    assert metrics["best_test_epoch"] == curve.loc[curve["test_accuracy"] == 1.0, "epoch"].min()


def test_saved_model_predicts_the_same(tmp_path):
    torch.manual_seed(0)
    model = Add2DigitsModel("rnn", hidden_size=8, num_layers=2).eval()
    x = encode(generate(5, 6, np.random.default_rng(0))).x
    save_model(tmp_path / "m", model, {"grid": "reference"})
    torch.testing.assert_close(load_model(tmp_path / "m")(x), model(x))
    assert F.softmax(model(x), -1).sum(-1).detach().numpy() == pytest.approx(np.ones(5))
