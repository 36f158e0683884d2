"""The GRU encoder-decoder with scaled dot-product attention: like for like with the additive one, and loadable."""

from __future__ import annotations

import torch

from pipeline.datasets.piglatin.data import vocabulary
from pipeline.studies.ablations.dot_attention import BY_ATTENTION, RNN_DOT_ATTENTION, DotAttentionRNNTranslator
from pipeline.studies.ablations.params import RecurrentAttentionRun
from pipeline.translators.architectures import architecture_of, load_model, save_model
from pipeline.translators.models.attention import StepDotAttention
from pipeline.translators.models.recurrent import AttentionRNNTranslator, RecurrentConfig

VOCAB = vocabulary()
RUN = dict(dataset="small", hidden_size=8, epochs=1, patience=1, batch_size=4, lr=1e-3, lr_decay=1.0)


def test_dot_attention_model_differs_from_the_additive_one_only_in_the_score():
    config = RecurrentConfig(vocab_size=len(VOCAB), hidden_size=16, cell="gru")
    torch.manual_seed(3)
    additive = AttentionRNNTranslator(config)
    torch.manual_seed(3)
    dot = DotAttentionRNNTranslator(config)
    assert isinstance(dot.decoder.attention, StepDotAttention)
    additive_state, dot_state = additive.state_dict(), dot.state_dict()
    shared = [k for k in additive_state if not k.startswith("decoder.attention.")]
    assert shared == [k for k in dot_state if not k.startswith("decoder.attention.")]
    for key in shared:  # same seed: same embeddings, cells and output layer
        assert torch.equal(additive_state[key], dot_state[key]), key
    # Score parameters: additive 2H*H + H + H + 1, dot-product 2 * (H*H + H).
    h = 16
    assert sum(p.numel() for p in additive.decoder.attention.parameters()) == 2 * h * h + 2 * h + 1
    assert sum(p.numel() for p in dot.decoder.attention.parameters()) == 2 * (h * h + h)


def test_dot_attention_checkpoint_round_trip_and_attention_maps(tmp_path):
    run = RecurrentAttentionRun(**RUN)
    torch.manual_seed(0)
    model = BY_ATTENTION["scaled-dot"].build(len(VOCAB), run).eval()
    assert architecture_of(model) is RNN_DOT_ATTENTION
    save_model(tmp_path, model, model.state_dict(), VOCAB, {})
    loaded, _, config = load_model(tmp_path)
    assert config["architecture"] == "rnn-dot-attention" and type(loaded) is DotAttentionRNNTranslator
    words = ["air", "street"]
    assert RNN_DOT_ATTENTION.translate_words(loaded, words, VOCAB, 6, torch.device("cpu")) == RNN_DOT_ATTENTION.translate_words(
        model, words, VOCAB, 6, torch.device("cpu")
    )
    maps = RNN_DOT_ATTENTION.attention_map(loaded, ["air"], VOCAB, 6, torch.device("cpu"))
    sums = maps.groupby("step")["weight"].sum()  # every output step's weights over the source sum to 1
    torch.testing.assert_close(torch.tensor(sums.to_numpy()), torch.ones(len(sums), dtype=torch.float64))
