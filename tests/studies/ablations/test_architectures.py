"""The transformer variant: its config from the run, and checkpoints that load back with the options."""

from __future__ import annotations

import pytest
import torch

from pipeline.datasets.piglatin.data import vocabulary
from pipeline.studies.ablations.architectures import TRANSFORMER_VARIANT
from pipeline.studies.ablations.params import TransformerVariantRun
from pipeline.translators.architectures import load_model, save_model

VOCAB = vocabulary()
RUN = dict(dataset="small", hidden_size=24, num_layers=1, epochs=1, patience=1, batch_size=4, lr=1e-3, lr_decay=1.0)


@pytest.mark.parametrize(("encoding", "positions"), [("sinusoidal", 256), ("learned", 256), ("one-hot", 24), ("none", 256)])
def test_the_variant_config_carries_the_run_options(encoding, positions):
    run = TransformerVariantRun(**RUN).model_copy(update={"positional_encoding": encoding, "causal_decoder": False})
    config = TRANSFORMER_VARIANT.make_config(len(VOCAB), run)
    assert (config.positional_encoding, config.causal_decoder, config.max_positions) == (encoding, False, positions)


def test_a_variant_checkpoint_loads_back_with_its_options(tmp_path):
    run = TransformerVariantRun(**RUN).model_copy(update={"positional_encoding": "learned", "causal_decoder": False})
    torch.manual_seed(0)
    model = TRANSFORMER_VARIANT.build(len(VOCAB), run).eval()
    save_model(tmp_path, model, model.state_dict(), VOCAB, {})
    loaded, _, config = load_model(tmp_path)
    assert config["architecture"] == "transformer-encoder-decoder"  # the registered encoder-decoder loads it
    assert (loaded.config.positional_encoding, loaded.config.causal_decoder) == ("learned", False)
    source, decoder_input = torch.randint(3, len(VOCAB), (2, 5)), torch.randint(0, len(VOCAB), (2, 6))
    with torch.no_grad():
        torch.testing.assert_close(loaded(source, decoder_input), model(source, decoder_input))
