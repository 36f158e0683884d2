"""The step timer: each phase timed where it happens, and the training that follows left untouched."""

from __future__ import annotations

import time

import pytest
import torch
from torch import nn

from pipeline.classification.batches import EncodedBatch
from pipeline.classification.timing import time_training_steps

FORWARD, BACKWARD, STEP = 0.02, 0.2, 0.1  # seconds each phase is made to take: far enough apart that a
# phase timed with its neighbour's sleep shows, even on a busy machine


class SlowBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        time.sleep(BACKWARD)
        return grad


class SlowModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 3)
        self.dropout = nn.Dropout(0.5)  # draws random numbers: the timing must not shift the real run's draws

    def forward(self, x):
        time.sleep(FORWARD)
        return SlowBackward.apply(self.dropout(self.linear(x)))


class SlowSGD(torch.optim.SGD):
    def step(self, closure=None):
        time.sleep(STEP)
        return super().step(closure)


def loss_fn(model, batch):
    logits = model(batch.input_ids.float())
    return nn.functional.cross_entropy(logits, batch.labels), len(batch)


def test_each_phase_is_timed_where_it_happens_and_nothing_else_changes():
    torch.manual_seed(0)
    model = SlowModel()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    batches = [EncodedBatch(torch.randn(8, 4), torch.ones(8, 4, dtype=torch.long), torch.randint(0, 3, (8,))) for _ in range(4)]
    torch.manual_seed(1)
    expected_next_draw = torch.rand(3)
    torch.manual_seed(1)
    seconds = time_training_steps(model, batches, loss_fn, lambda m, lr: SlowSGD(m.parameters(), lr=lr), 0.1, 1.0, "cpu")
    assert torch.equal(torch.rand(3), expected_next_draw)  # the generators were forked, not advanced
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # a copy trained, not the model
    assert set(seconds) == {"forward_seconds_per_batch", "backward_seconds_per_batch", "optimizer_seconds_per_batch"}
    assert FORWARD <= seconds["forward_seconds_per_batch"] < STEP  # neither the backward's nor the step's sleep
    assert BACKWARD <= seconds["backward_seconds_per_batch"] < BACKWARD + STEP
    assert STEP <= seconds["optimizer_seconds_per_batch"] < BACKWARD


def test_too_few_batches_to_time_is_refused():
    with pytest.raises(ValueError, match="leave none to time"):
        time_training_steps(SlowModel(), [], loss_fn, lambda m, lr: SlowSGD(m.parameters(), lr=lr), 0.1, None, "cpu")
