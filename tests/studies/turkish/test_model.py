"""The encoder-decoders: shapes, teacher forcing, padding, initialisation, parameter count, batches."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from pipeline.studies.turkish.model import (
    Seq2Seq,
    Seq2SeqConfig,
    TransformerSeq2Seq,
    build,
    count_parameters,
    init_uniform,
    initialise,
    load,
    make_batch,
    save,
    sequence_loss,
)
from pipeline.studies.turkish.params import Recipe
from pipeline.studies.turkish.train import TrainBatches, reference_parameters

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture()
def recipe() -> Recipe:
    """A one-layer RNN recipe of toy sizes; each test changes the settings it is about (`model_copy`)."""
    return Recipe(
        cell="rnn",
        embedding_dim=4,
        hidden_size=4,
        num_layers=1,
        dropout=0.0,
        teacher_forcing=0.5,
        grad_clip=1.0,
        init_range=0.08,
        heads=1,
        feedforward_size=4,
        lr=1e-3,
        batch_size=4,
        epochs=1,
        select_by="val_chrf",
        patience=1,
    )


def _model(cell: str, dropout: float = 0.0, **sizes) -> Seq2Seq:
    torch.manual_seed(0)
    config = Seq2SeqConfig(
        cell, source_vocab=30, target_vocab=25, embedding_dim=12, hidden_size=8, num_layers=2, dropout=dropout, max_length=7, **sizes
    )
    model = Seq2Seq(config)
    init_uniform(model, 0.5, torch.Generator().manual_seed(1))
    return model.eval()


def _batch(forcing: bool | list[bool]):
    sources = [[2, 5, 6, 7, 3], [2, 9, 3]]
    targets = [[2, 10, 11, 12, 13, 3], [2, 14, 3]]
    steps = 5
    flags = torch.tensor([forcing] * steps if isinstance(forcing, bool) else forcing)
    return make_batch(sources, targets, 0, flags)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_shapes(cell):
    model, batch = _model(cell), _batch(True)
    assert batch.source.shape == (2, 5) and batch.target.shape == (2, 6) and batch.source_lengths.tolist() == [5, 3]
    assert model(batch.source, batch.source_lengths, batch.target, batch.teacher_forcing).shape == (2, 5, 25)
    out = model.generate(batch.source, batch.source_lengths)
    assert len(out) == 2 and all(len(row) <= 6 and 3 not in row for row in out)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_full_teacher_forcing_reads_the_true_previous_tokens(cell):
    model, batch = _model(cell), _batch(True)
    logits = model(batch.source, batch.source_lengths, batch.target, batch.teacher_forcing)
    # Independently: run the decoder by hand on the true tokens.
    state = model.encoder(batch.source, batch.source_lengths)
    for t in range(5):
        step, state = model.decoder(batch.target[:, t], state)
        torch.testing.assert_close(logits[:, t], step)
    # Changing a later true token changes only the steps after it.
    changed = batch.target.clone()
    changed[:, 2] = 20
    other = model(batch.source, batch.source_lengths, changed, batch.teacher_forcing)
    torch.testing.assert_close(other[:, :2], logits[:, :2])
    assert not torch.allclose(other[:, 2], logits[:, 2])


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_no_teacher_forcing_ignores_the_targets_and_matches_greedy_decoding(cell):
    model, batch = _model(cell), _batch(False)
    logits = model(batch.source, batch.source_lengths, batch.target, batch.teacher_forcing)
    scrambled = batch.target.clone()
    scrambled[:, 1:] = 17
    torch.testing.assert_close(model(batch.source, batch.source_lengths, scrambled, batch.teacher_forcing), logits)
    greedy = logits.argmax(-1).tolist()
    for row, decoded in zip(greedy, model.generate(batch.source, batch.source_lengths)):
        expected = row[: row.index(3)] if 3 in row[:6] else row
        assert decoded[: len(expected)] == expected[: len(decoded)]


def test_mixed_forcing_switches_per_step():
    model = _model("lstm")
    batch = _batch([True, False, True, True, True])
    logits = model(batch.source, batch.source_lengths, batch.target, batch.teacher_forcing)
    state = model.encoder(batch.source, batch.source_lengths)
    step0, state = model.decoder(batch.target[:, 0], state)
    step1, state = model.decoder(batch.target[:, 1], state)  # step 0 forced: reads the true token
    step2, _ = model.decoder(step1.argmax(-1), state)  # step 1 not forced: reads its own guess
    torch.testing.assert_close(logits[:, :3], torch.stack([step0, step1, step2], 1))


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_the_decoder_steps_like_torchs_multi_layer_module(cell):
    """The stacked cells with the weights of a 2-layer nn.LSTM/nn.RNN: the same outputs, states and gradients."""
    decoder = _model(cell).decoder
    reference = (torch.nn.LSTM if cell == "lstm" else torch.nn.RNN)(12, 8, num_layers=2, batch_first=True)
    with torch.no_grad():
        for layer, step_cell in enumerate(decoder.cells):
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(reference, f"{name}_l{layer}").copy_(getattr(step_cell, name))
    generator = torch.Generator().manual_seed(3)
    tokens = torch.randint(4, 25, (3, 4), generator=generator)  # (B, T)
    h = torch.randn(2, 3, 8, generator=generator, requires_grad=True)  # (L, B, H)
    state = (h, torch.randn(2, 3, 8, generator=generator)) if cell == "lstm" else h
    theirs_state, ours_state, ours_outputs = state, state, []
    embedded = decoder.embedding(tokens)  # (B, T, E): eval mode, no dropout
    theirs_outputs, theirs_state = reference(embedded, theirs_state)  # (B, T, H)
    for t in range(tokens.size(1)):
        logits, ours_state = decoder(tokens[:, t], ours_state)
        ours_outputs.append(logits)
    torch.testing.assert_close(torch.stack(ours_outputs, dim=1), decoder.head(theirs_outputs), rtol=1e-5, atol=1e-6)
    for ours, theirs in zip(ours_state if cell == "lstm" else [ours_state], theirs_state if cell == "lstm" else [theirs_state]):
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)
    weights = torch.linspace(-1, 1, 3 * 4 * 25).reshape(3, 4, 25)
    (ours_grad,) = torch.autograd.grad((torch.stack(ours_outputs, dim=1) * weights).sum(), h)
    (theirs_grad,) = torch.autograd.grad((decoder.head(reference(embedded, state)[0]) * weights).sum(), h)
    torch.testing.assert_close(ours_grad, theirs_grad, rtol=1e-5, atol=1e-6)


def test_the_encoder_state_ignores_padding():
    model = _model("lstm")
    batch = make_batch([[2, 9, 3], [2, 5, 6, 7, 3]], [[2, 3], [2, 3]], 0)
    h, c = model.encoder(batch.source, batch.source_lengths)
    alone_h, alone_c = model.encoder(torch.tensor([[2, 9, 3]]), torch.tensor([3]))
    torch.testing.assert_close(h[:, :1], alone_h)
    torch.testing.assert_close(c[:, :1], alone_c)


def test_loss_ignores_padding():
    model, batch = _model("rnn"), _batch(True)
    loss, tokens = sequence_loss(model, batch)
    gold = batch.target[:, 1:]
    assert tokens == 5 + 2
    logits = model(batch.source, batch.source_lengths, batch.target, batch.teacher_forcing)
    mask = gold != 0
    expected = F.cross_entropy(logits[mask], gold[mask])
    torch.testing.assert_close(loss, expected)


def test_uniform_initialisation_covers_every_weight():
    model = Seq2Seq(Seq2SeqConfig("lstm", 30, 25, 12, 8, 2))
    init_uniform(model, 0.08, torch.Generator().manual_seed(0))
    values = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert values.abs().max() <= 0.08 and values.min() < -0.07 and values.max() > 0.07
    assert abs(values.mean().item()) < 0.005  # U(-a, a): mean 0


def test_reference_parameter_count_by_formula(recipe):
    """Embeddings, two 2-layer cells (torch keeps two bias vectors per gate) and the output layer."""
    recipe = recipe.model_copy(update={"cell": "lstm", "embedding_dim": 256, "hidden_size": 128, "num_layers": 2})
    v_tr, v_en, e, h = 32000, 28996, 256, 128

    def cell(gates: int) -> int:
        return gates * h * (e + h) + gates * 2 * h + gates * h * (h + h) + gates * 2 * h

    expected = v_tr * e + v_en * e + 2 * cell(4) + h * v_en + v_en
    assert reference_parameters(recipe, [v_tr, v_en]) == expected == 20_014_916
    rnn = recipe.model_copy(update={"cell": "rnn"})
    assert reference_parameters(rnn, [v_tr, v_en]) == v_tr * e + v_en * e + 2 * cell(1) + h * v_en + v_en


def test_save_and_load_round_trip(tmp_path):
    model, batch = _model("lstm"), _batch(False)
    save(tmp_path, model)
    again = load(tmp_path)
    assert again.config == model.config and count_parameters(again) == count_parameters(model)
    assert again.generate(batch.source, batch.source_lengths) == model.generate(batch.source, batch.source_lengths)


def test_unknown_cell_is_refused():
    with pytest.raises(ValueError, match="cell must be one of \\['lstm', 'rnn', 'transformer'\\], got 'gru'"):
        Seq2SeqConfig("gru", 10, 10)
    with pytest.raises(ValueError, match=r"embedding_dim \(12\) must equal hidden_size \(8\)"):
        Seq2SeqConfig("transformer", 10, 10, embedding_dim=12, hidden_size=8)


@pytest.mark.parametrize("ratio", [0.0, 0.5, 1.0])
def test_training_batches_depend_on_seed_and_epoch_and_draw_the_forcing_ratio(recipe, ratio):
    recipe = recipe.model_copy(update={"teacher_forcing": ratio})
    sources = [[2, i, 3] for i in range(5, 45)]
    targets = [[2] + [i] * (1 + i % 5) + [3] for i in range(5, 45)]
    batches = TrainBatches(sources, targets, recipe, 0, seed=7)
    first, again, other = batches(1), batches(1), batches(2)
    assert [b.source.tolist() for b in first] == [b.source.tolist() for b in again]
    assert [b.source.tolist() for b in first] != [b.source.tolist() for b in other]
    assert sorted(row[1] for b in first for row in b.source.tolist()) == list(range(5, 45))  # every pair once
    draws = torch.cat([b.teacher_forcing for e in range(1, 30) for b in batches(e)]).float()
    assert draws.mean().item() == pytest.approx(ratio, abs=0.05)


def test_an_epochs_dropout_masks_depend_only_on_seed_and_epoch(recipe):
    """What lets a resumed run train epoch n exactly as an uninterrupted one: the batches seed dropout too."""
    recipe = recipe.model_copy(update={"dropout": 0.5})
    batches = TrainBatches([[2, 5, 3]] * 8, [[2, 6, 3]] * 8, recipe, 0, seed=7)
    dropout = torch.nn.Dropout(0.5)
    masks = []
    for epoch in (3, 4, 3):  # epoch 3 again after epoch 4 drew its masks: the same masks
        batches(epoch)
        masks.append(dropout(torch.ones(64)))
    assert torch.equal(masks[0], masks[2]) and not torch.equal(masks[0], masks[1])


# ------------------------------------------------------------------- the transformer


def _transformer(dropout: float = 0.0) -> TransformerSeq2Seq:
    torch.manual_seed(0)
    config = Seq2SeqConfig(
        "transformer",
        source_vocab=30,
        target_vocab=25,
        embedding_dim=8,
        hidden_size=8,
        num_layers=2,
        dropout=dropout,
        max_length=7,
        heads=2,
        feedforward_size=16,
    )
    model = build(config)
    initialise(model, 0.08, torch.Generator().manual_seed(1))
    return model.eval()


def test_build_picks_the_architecture():
    assert isinstance(_transformer(), TransformerSeq2Seq) and isinstance(_model("lstm"), Seq2Seq)


def test_transformer_shapes():
    model, batch = _transformer(), _batch(True)
    assert model(batch.source, batch.source_lengths, batch.target, batch.teacher_forcing).shape == (2, 5, 25)
    out = model.generate(batch.source, batch.source_lengths)
    assert len(out) == 2 and all(len(row) <= 6 and 3 not in row for row in out)


def test_transformer_one_pass_equals_stepping_through_the_true_tokens():
    """Full teacher forcing runs the decoder once; stepping (forced at every step but the last) reruns it per prefix."""
    model, batch = _transformer(), _batch(True)
    one_pass = model(batch.source, batch.source_lengths, batch.target, batch.teacher_forcing)
    stepped = model(batch.source, batch.source_lengths, batch.target, torch.tensor([True, True, True, True, False]))
    torch.testing.assert_close(stepped, one_pass, rtol=1e-5, atol=1e-5)


def test_transformer_decoder_is_causal():
    model, batch = _transformer(), _batch(True)
    logits = model(batch.source, batch.source_lengths, batch.target, batch.teacher_forcing)
    changed = batch.target.clone()
    changed[:, 2] = 20
    other = model(batch.source, batch.source_lengths, changed, batch.teacher_forcing)
    torch.testing.assert_close(other[:, :2], logits[:, :2])  # positions before the change never read it
    assert not torch.allclose(other[:, 2], logits[:, 2])


def test_transformer_ignores_source_padding():
    model = _transformer()
    batch = make_batch([[2, 9, 3], [2, 5, 6, 7, 3]], [[2, 10, 11, 3], [2, 12, 13, 3]], 0, torch.ones(3, dtype=torch.bool))
    both = model(batch.source, batch.source_lengths, batch.target, batch.teacher_forcing)
    alone = model(torch.tensor([[2, 9, 3]]), torch.tensor([3]), batch.target[:1], batch.teacher_forcing)
    torch.testing.assert_close(both[:1], alone, rtol=1e-5, atol=1e-6)


def test_transformer_free_running_matches_greedy_decoding():
    model, batch = _transformer(), _batch(False)
    logits = model(batch.source, batch.source_lengths, batch.target, batch.teacher_forcing)
    scrambled = batch.target.clone()
    scrambled[:, 1:] = 17
    torch.testing.assert_close(model(batch.source, batch.source_lengths, scrambled, batch.teacher_forcing), logits)
    for row, decoded in zip(logits.argmax(-1).tolist(), model.generate(batch.source, batch.source_lengths)):
        expected = row[: row.index(3)] if 3 in row else row
        assert decoded[: len(expected)] == expected[: len(decoded)]


def test_transformer_parameter_count_by_formula():
    """Embeddings, per layer the attention projections, the feed-forward block and LayerNorms, final norms, head."""
    v_s, v_t, d, f = 30, 25, 8, 16
    attention = 4 * d * d + 4 * d  # in-projection (3D x D + 3D) and out-projection (D x D + D)
    feedforward = d * f + f + f * d + d
    encoder_layer = attention + feedforward + 2 * 2 * d
    decoder_layer = 2 * attention + feedforward + 3 * 2 * d
    expected = v_s * d + v_t * d + 2 * encoder_layer + 2 * decoder_layer + 2 * 2 * d + d * v_t + v_t
    assert count_parameters(_transformer()) == expected


def test_transformer_initialisation_is_xavier_and_keeps_layer_norms():
    model = _transformer()
    for name, parameter in model.named_parameters():
        if parameter.dim() > 1:
            fan_out, fan_in = parameter.shape
            assert parameter.abs().max() <= (6 / (fan_in + fan_out)) ** 0.5, name
        elif "norm" in name and name.endswith("weight"):
            assert torch.equal(parameter, torch.ones_like(parameter)), name


def test_transformer_save_and_load_round_trip(tmp_path):
    model, batch = _transformer(), _batch(False)
    save(tmp_path, model)
    again = load(tmp_path)
    assert isinstance(again, TransformerSeq2Seq) and again.config == model.config
    assert again.generate(batch.source, batch.source_lengths) == model.generate(batch.source, batch.source_lengths)
