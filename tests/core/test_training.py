"""The training loop: determinism, exact resume, early stopping, lr decay, loss accounting."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from pipeline.core import training
from pipeline.core.errors import PipelineError
from pipeline.core.training import CallbackList, Callbacks, FitConfig, evaluate_loss, fit
from pipeline.datasets.piglatin.data import read_pairs, split_pairs, vocabulary
from pipeline.translators.batching import LengthBucketBatcher
from pipeline.translators.encoder_decoder import seq2seq_loss
from pipeline.translators.models.transformer import Seq2SeqTransformer, TransformerConfig

ROOT = Path(__file__).resolve().parents[2]
VOCAB = vocabulary()
HIDDEN = 16


pytestmark = pytest.mark.usefixtures("one_torch_thread", "resume_file_every_epoch")


@pytest.fixture
def resume_file_every_epoch(monkeypatch):
    """These tests crash in a given epoch and expect the resume file of the epoch before."""
    monkeypatch.setattr(training, "RESUME_EVERY_S", 0.0)


@pytest.fixture(scope="module")
def data():
    pairs = read_pairs(ROOT / "data/raw/pig_latin_small.txt")
    # A few hundred short words keep every epoch well under a second.
    short = [p for p in pairs if len(p.source) <= 5]
    train, val = split_pairs(short[:400], 0.25, seed=0)
    train_batcher = LengthBucketBatcher(train, VOCAB, 32, seed=7)
    val_batches = LengthBucketBatcher(val, VOCAB, 32, seed=7, shuffle=False).batches()
    return train_batcher, val_batches


def _model(seed: int) -> Seq2SeqTransformer:
    torch.manual_seed(seed)
    return Seq2SeqTransformer(TransformerConfig(vocab_size=len(VOCAB), hidden_size=HIDDEN, num_layers=1))


class CountRows(Callbacks):
    """Accumulates a per-batch quantity into `totals`, as the FLOP counter does."""

    def __init__(self):
        self.resumed_history = None
        self.epochs_seen = []

    def on_resume(self, history):
        self.resumed_history = list(history)

    def on_batch_end(self, batch, totals):
        totals["rows"] = totals.get("rows", 0.0) + len(batch.index)

    def on_epoch_end(self, record):
        self.epochs_seen.append(record.epoch)


class Crash(Exception):
    pass


class CrashInEpoch(CountRows):
    def __init__(self, epoch: int, after_batches: int):
        super().__init__()
        self.epoch, self.after_batches, self.batches_in_epoch = epoch, after_batches, 0

    def on_batch_end(self, batch, totals):
        super().on_batch_end(batch, totals)
        if len(self.epochs_seen) == self.epoch - 1:
            self.batches_in_epoch += 1
            if self.batches_in_epoch == self.after_batches:
                raise Crash


def _fit(data, config, *, init_seed=0, **kwargs):
    train_batcher, val_batches = data
    model = _model(init_seed)
    result = fit(model, train_batcher.batches, val_batches, seq2seq_loss, config, **kwargs)
    return model, result


def _essentials(history):
    return [(r.epoch, r.train_loss, r.val_loss, r.lr, r.iterations, r.tokens, r.extra) for r in history]


def _assert_same_state(a: dict, b: dict):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


CONFIG = FitConfig(epochs=5, patience=5, lr=3e-3, lr_decay=0.9)


def test_fit_is_deterministic(data):
    _, first = _fit(data, CONFIG, callbacks=CountRows())
    _, second = _fit(data, CONFIG, callbacks=CountRows())
    assert len(first.history) == 5
    assert _essentials(first.history) == _essentials(second.history)
    assert (first.best_epoch, first.best_val_loss) == (second.best_epoch, second.best_val_loss)
    _assert_same_state(first.best_state, second.best_state)

    _, other_init = _fit(data, CONFIG, init_seed=1)
    assert other_init.history[0].train_loss != first.history[0].train_loss


def test_history_counters_and_lr_decay(data):
    train_batcher, _ = data
    _, result = _fit(data, CONFIG, callbacks=CountRows())
    iterations = tokens = rows = 0
    for record in result.history:
        batches = train_batcher.batches(record.epoch)
        iterations += len(batches)
        tokens += sum(b.target.numel() for b in batches)
        rows += sum(len(b.index) for b in batches)
        assert record.iterations == iterations
        assert record.tokens == tokens
        assert record.extra == {"rows": rows}  # cumulative across epochs
        assert record.lr == pytest.approx(CONFIG.lr * CONFIG.lr_decay ** (record.epoch - 1), rel=1e-12)
    assert [r.epoch for r in result.history] == [1, 2, 3, 4, 5]


def test_best_state_is_loaded_and_scores_best_val_loss(data):
    _, val_batches = data
    model, result = _fit(data, CONFIG)
    losses = [r.val_loss for r in result.history]
    assert result.best_val_loss == min(losses)
    assert result.best_epoch == losses.index(min(losses)) + 1
    _assert_same_state(model.state_dict(), result.best_state)
    assert evaluate_loss(model, val_batches, seq2seq_loss, torch.device("cpu")) == pytest.approx(result.best_val_loss, rel=1e-6)


def test_resume_after_crash_matches_uninterrupted_run(data, tmp_path):
    resume = tmp_path / "state" / "state.pt"
    _, reference = _fit(data, CONFIG, callbacks=CountRows())

    crashing = CrashInEpoch(epoch=3, after_batches=3)
    with pytest.raises(Crash):
        _fit(data, CONFIG, resume_path=resume, fingerprint="cfg-a", callbacks=crashing)
    assert crashing.epochs_seen == [1, 2]
    assert resume.exists()

    callbacks = CountRows()
    model, resumed = _fit(data, CONFIG, init_seed=99, resume_path=resume, fingerprint="cfg-a", callbacks=callbacks)
    assert resumed.resumed_from_epoch == 2
    assert [r.epoch for r in callbacks.resumed_history] == [1, 2]
    assert callbacks.epochs_seen == [3, 4, 5]
    assert _essentials(resumed.history) == _essentials(reference.history)
    assert (resumed.best_epoch, resumed.best_val_loss) == (reference.best_epoch, reference.best_val_loss)
    assert resumed.stopped_early == reference.stopped_early
    _assert_same_state(resumed.best_state, reference.best_state)
    _assert_same_state(model.state_dict(), reference.best_state)


class Measure(Callbacks):
    """Adds a per-epoch measurement in on_evaluate, and records what later hooks see."""

    def __init__(self):
        self.seen_at_epoch_end = []
        self.seen_by_should_stop = []

    def on_evaluate(self, record):
        record.extra["measured"] = 10.0 * record.epoch + record.val_loss

    def should_stop(self, record):
        self.seen_by_should_stop.append(record.extra.get("measured"))
        return False

    def on_epoch_end(self, record):
        self.seen_at_epoch_end.append(record.extra.get("measured"))


def test_on_evaluate_measurements_reach_the_record_and_survive_a_resume(data, tmp_path):
    resume = tmp_path / "state.pt"
    measure = Measure()
    _, reference = _fit(data, CONFIG, callbacks=CallbackList(CountRows(), measure))
    expected = [10.0 * r.epoch + r.val_loss for r in reference.history]
    assert [r.extra["measured"] for r in reference.history] == expected
    assert measure.seen_at_epoch_end == expected
    # should_stop sees them too (it need not be asked after the last epoch).
    assert measure.seen_by_should_stop and measure.seen_by_should_stop == expected[: len(measure.seen_by_should_stop)]

    with pytest.raises(Crash):
        _fit(data, CONFIG, resume_path=resume, fingerprint="m", callbacks=CallbackList(CrashInEpoch(3, 2), Measure()))
    counting = CountRows()
    _, resumed = _fit(data, CONFIG, init_seed=9, resume_path=resume, fingerprint="m", callbacks=CallbackList(counting, Measure()))
    assert [r.extra["measured"] for r in counting.resumed_history] == expected[:2]  # saved with the epochs
    assert _essentials(resumed.history) == _essentials(reference.history)


def test_resume_files_are_written_after_the_first_epoch_then_at_most_every_interval(data, tmp_path, monkeypatch):
    """Short epochs must not each pay for a resume file; a crash still resumes to the same result."""
    monkeypatch.setattr(training, "RESUME_EVERY_S", 3600.0)
    saved_after = []
    save = training.TrainingState.save
    monkeypatch.setattr(training.TrainingState, "save", lambda state, path: (saved_after.append(state.epochs_done), save(state, path)))
    resume = tmp_path / "state.pt"
    _, reference = _fit(data, CONFIG, callbacks=CountRows())

    with pytest.raises(Crash):
        _fit(data, CONFIG, resume_path=resume, fingerprint="sparse", callbacks=CrashInEpoch(epoch=4, after_batches=1))
    assert saved_after == [1]  # the first epoch only: the interval had not passed by epoch 3
    model, resumed = _fit(data, CONFIG, init_seed=3, resume_path=resume, fingerprint="sparse", callbacks=CountRows())
    assert resumed.resumed_from_epoch == 1
    assert saved_after == [1, 2, CONFIG.epochs]  # the resumed run's first epoch, then the last
    assert _essentials(resumed.history) == _essentials(reference.history)
    _assert_same_state(model.state_dict(), reference.best_state)


def test_resume_of_a_finished_run_trains_nothing(data, tmp_path):
    resume = tmp_path / "state.pt"
    _, first = _fit(data, CONFIG, resume_path=resume, fingerprint="x")
    callbacks = CountRows()
    model, again = _fit(data, CONFIG, init_seed=5, resume_path=resume, fingerprint="x", callbacks=callbacks)
    assert callbacks.epochs_seen == []
    assert again.resumed_from_epoch == 5
    assert _essentials(again.history) == _essentials(first.history)
    _assert_same_state(model.state_dict(), first.best_state)


def test_other_fingerprint_ignores_resume_file(data, tmp_path, capsys):
    resume = tmp_path / "state.pt"
    crashing = CrashInEpoch(epoch=3, after_batches=1)
    with pytest.raises(Crash):
        _fit(data, CONFIG, resume_path=resume, fingerprint="cfg-a", callbacks=crashing)

    callbacks = CountRows()
    _, fresh = _fit(data, CONFIG, init_seed=1, resume_path=resume, fingerprint="cfg-b", callbacks=callbacks)
    assert "another config" in capsys.readouterr().err
    assert fresh.resumed_from_epoch == 0
    assert callbacks.resumed_history is None
    assert callbacks.epochs_seen == [1, 2, 3, 4, 5]
    _, from_scratch = _fit(data, CONFIG, init_seed=1, callbacks=CountRows())
    assert _essentials(fresh.history) == _essentials(from_scratch.history)
    _assert_same_state(fresh.best_state, from_scratch.best_state)


def test_corrupt_resume_file_starts_over(data, tmp_path, capsys):
    resume = tmp_path / "state.pt"
    resume.write_bytes(b"not a checkpoint")
    _, result = _fit(data, FitConfig(epochs=1, patience=1, lr=3e-3, lr_decay=1.0), resume_path=resume)
    assert "unreadable" in capsys.readouterr().err
    assert result.resumed_from_epoch == 0 and len(result.history) == 1


@pytest.mark.parametrize("patience", [1, 2])
def test_early_stopping(data, patience):
    # A huge learning rate makes the loss diverge, so validation stops improving.
    config = FitConfig(epochs=12, patience=patience, lr=0.5, lr_decay=1.0)
    _, result = _fit(data, config)
    history = result.history
    assert result.stopped_early is True
    assert len(history) < config.epochs
    assert len(history) == result.best_epoch + patience
    losses = [r.val_loss for r in history]
    assert result.best_val_loss == min(losses) == losses[result.best_epoch - 1]
    # The rule, replayed: the run stops at the first stretch of `patience` epochs without a new best.
    best, bad = math.inf, 0
    for epoch, loss in enumerate(losses, start=1):
        if loss < best:
            best, bad = loss, 0
        else:
            bad += 1
        if bad >= patience:
            assert epoch == len(losses)
            break
    else:
        pytest.fail("history does not end with `patience` epochs without improvement")


def test_no_early_stop_when_patience_exceeds_epochs(data):
    _, result = _fit(data, FitConfig(epochs=3, patience=50, lr=0.5, lr_decay=1.0))
    assert len(result.history) == 3 and result.stopped_early is False


def test_train_loss_decreases(data):
    _, result = _fit(data, FitConfig(epochs=5, patience=5, lr=1e-2, lr_decay=1.0))
    train = [r.train_loss for r in result.history]
    assert train[-1] < train[0] - 0.3
    assert result.history[-1].val_loss < result.history[0].val_loss
    # An untrained model sits near ln(V); the first epoch already averages below that.
    assert train[0] < math.log(len(VOCAB)) + 0.5


def test_evaluate_loss_is_token_weighted_cross_entropy(data):
    _, val_batches = data
    model = _model(3)
    # Batches have different lengths, so token weighting differs from a plain mean of batch means.
    assert len({b.target.numel() for b in val_batches}) > 1
    total, tokens = 0.0, 0
    with torch.no_grad():
        for batch in val_batches:
            logits = model(batch.source, batch.decoder_input)
            total += F.cross_entropy(logits.reshape(-1, len(VOCAB)), batch.target.reshape(-1), reduction="sum").item()
            tokens += batch.target.numel()
    got = evaluate_loss(model, val_batches, seq2seq_loss, torch.device("cpu"))
    assert got == pytest.approx(total / tokens, rel=1e-5)
    batch_mean = sum(seq2seq_loss(model, b)[0].item() for b in val_batches) / len(val_batches)
    assert got != pytest.approx(batch_mean, rel=1e-6)


def test_divergence_is_a_one_line_error(data):
    with pytest.raises(PipelineError, match=r"^tiny: training diverged \(loss (nan|inf)\) in epoch \d+; lower the learning rate$"):
        _fit(data, FitConfig(epochs=3, patience=3, lr=1e6, lr_decay=1.0), description="tiny")


def test_resume_file_of_a_different_shape_starts_over(data, tmp_path):
    train_batcher, val_batches = data
    resume = tmp_path / "state.pt"
    crash = CrashInEpoch(epoch=2, after_batches=1)
    with pytest.raises(Crash):
        _fit(data, CONFIG, resume_path=resume, fingerprint="same", callbacks=crash)
    assert resume.exists()
    # Same fingerprint, but a wider model: the saved tensors cannot be loaded.
    torch.manual_seed(0)
    wider = Seq2SeqTransformer(TransformerConfig(vocab_size=len(VOCAB), hidden_size=2 * HIDDEN, num_layers=1))
    result = fit(wider, train_batcher.batches, val_batches, seq2seq_loss, CONFIG, resume_path=resume, fingerprint="same")
    assert result.resumed_from_epoch == 0
    assert [r.epoch for r in result.history] == [1, 2, 3, 4, 5]
    torch.manual_seed(0)
    fresh = Seq2SeqTransformer(TransformerConfig(vocab_size=len(VOCAB), hidden_size=2 * HIDDEN, num_layers=1))
    reference = fit(fresh, train_batcher.batches, val_batches, seq2seq_loss, CONFIG)
    assert _essentials(result.history) == _essentials(reference.history)


# ------------------------------------------------- recipes other than the assignment's default


class StopAfter(Callbacks):
    def __init__(self, epoch: int):
        self.epoch = epoch

    def should_stop(self, record):
        return record.epoch >= self.epoch


def test_a_callback_can_end_training_after_an_epoch(data):
    train, val = data
    result = fit(_model(0), train.batches, val, seq2seq_loss, FitConfig(epochs=5, patience=5, lr=1e-3), callbacks=StopAfter(2))
    assert [r.epoch for r in result.history] == [1, 2] and result.stopped_early


def test_per_batch_scheduler_steps_once_per_batch(data):
    train, val = data
    steps_per_epoch = len(train)
    config = FitConfig(
        epochs=2,
        patience=2,
        lr=1e-3,
        make_scheduler=lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0 / (1 + step)),
        scheduler_step="batch",
    )
    result = fit(_model(0), train.batches, val, seq2seq_loss, config)
    # The lr recorded for epoch 2 is the one after epoch 1's batches: 1e-3 / (1 + steps per epoch).
    assert result.history[1].lr == pytest.approx(1e-3 / (1 + steps_per_epoch))


def test_gradient_clipping_bounds_each_update(data):
    train, val = data
    model = _model(0)
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    config = FitConfig(epochs=1, patience=1, lr=1.0, grad_clip=0.01, make_optimizer=lambda m, lr: torch.optim.SGD(m.parameters(), lr=lr))
    batches = train.batches(1)[:1]
    fit(model, lambda epoch: batches, val, seq2seq_loss, config)
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    # One SGD step of lr 1 on a gradient clipped to norm 0.01 moves the weights by at most 0.01.
    assert 0 < torch.linalg.vector_norm(after - before) <= 0.01 + 1e-6


def test_restore_best_false_keeps_the_last_weights(data):
    train, val = data
    model = _model(0)
    result = fit(model, train.batches, val, seq2seq_loss, FitConfig(epochs=3, patience=3, lr=5e-2, restore_best=False))
    last_val = evaluate_loss(model, val, seq2seq_loss, torch.device("cpu"))
    assert last_val == pytest.approx(result.history[-1].val_loss, rel=1e-6)


class SlowLogging(Callbacks):
    """A per-epoch callback that takes 50 ms: its time must land in the bookkeeping phase, not in an epoch's seconds."""

    def on_epoch_end(self, record):
        time.sleep(0.05)


def test_the_phases_split_the_loop_s_time_where_it_was_spent(data, tmp_path):
    _, result = _fit(data, CONFIG, callbacks=SlowLogging(), resume_path=tmp_path / "state.pt", fingerprint="phases")
    phases = result.phase_seconds
    assert list(phases) == list(training.PHASES)
    # an epoch's seconds are its steps and its validation pass, nothing else
    assert phases["step_seconds"] + phases["validation_seconds"] == pytest.approx(result.train_seconds)
    assert 0 < phases["validation_seconds"] < phases["step_seconds"]  # one forward pass over fewer pairs
    assert phases["epoch_bookkeeping_seconds"] >= 0.05 * CONFIG.epochs  # the slow callback, every epoch
    assert phases["resume_seconds"] > 0  # first and last epoch wrote the resume file

    _, resumed = _fit(data, CONFIG, resume_path=tmp_path / "state.pt", fingerprint="phases")
    assert resumed.phase_seconds == dict.fromkeys(training.PHASES, 0.0)  # a finished run restored: no epoch ran here
