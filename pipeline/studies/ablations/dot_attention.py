"""The recurrent study's GRU encoder-decoder with attention, the additive score replaced by a
scaled dot product (`StepDotAttention`), registered as an `Architecture` so `load_model` can
load its checkpoints. Everything else (cells, decoding, attention maps) is the recurrent study's.
"""

from __future__ import annotations

import dataclasses

from pipeline.translators.architectures import Architecture, register
from pipeline.translators.models.attention import StepDotAttention
from pipeline.translators.models.recurrent import AttentionRNNDecoder, AttentionRNNTranslator, RecurrentConfig
from pipeline.translators.recurrent import RNN_ADDITIVE_ATTENTION


class DotAttentionRNNDecoder(AttentionRNNDecoder):
    """`AttentionRNNDecoder` with `StepDotAttention` in place of `AdditiveAttention` (same interface)."""

    def __init__(self, config: RecurrentConfig):
        super().__init__(config)
        # Swapped in after the parent has built (and seeded) every layer: the embedding, cell and
        # output layer start from the same weights as the additive model of the same seed.
        self.attention = StepDotAttention(config.hidden_size)


class DotAttentionRNNTranslator(AttentionRNNTranslator):
    decoder_class = DotAttentionRNNDecoder


RNN_DOT_ATTENTION = register(
    dataclasses.replace(RNN_ADDITIVE_ATTENTION, name="rnn-dot-attention", model_class=DotAttentionRNNTranslator, module=__name__)
)

# What `ablations.attention.kinds` names.
BY_ATTENTION: dict[str, Architecture] = {"additive": RNN_ADDITIVE_ATTENTION, "scaled-dot": RNN_DOT_ATTENTION}
