"""The transformer ablations' `Architecture`: the encoder-decoder built with the run's options.

Same model class and name as `ENCODER_DECODER`, so its checkpoints load like any
encoder-decoder's (the options are in the saved config); only `make_config` differs: it
reads the positional encoding and the causal flag from the run.
"""

from __future__ import annotations

import dataclasses

from pipeline.studies.ablations.params import TransformerVariantRun
from pipeline.translators.architectures import ENCODER_DECODER
from pipeline.translators.models.limits import MAX_POSITIONS
from pipeline.translators.models.transformer import TransformerConfig


def transformer_config(vocab_size: int, run: TransformerVariantRun) -> TransformerConfig:
    # A one-hot code has one dimension per position: the model represents at most hidden_size positions.
    max_positions = min(MAX_POSITIONS, run.hidden_size) if run.positional_encoding == "one-hot" else MAX_POSITIONS
    return TransformerConfig(
        vocab_size=vocab_size,
        hidden_size=run.hidden_size,
        num_layers=run.num_layers,
        max_positions=max_positions,
        positional_encoding=run.positional_encoding,
        causal_decoder=run.causal_decoder,
    )


TRANSFORMER_VARIANT = dataclasses.replace(ENCODER_DECODER, make_config=transformer_config)
