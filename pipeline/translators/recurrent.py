"""The study's translators as `Architecture`s: batch layout, loss, greedy decoding, attention maps.

All three read the same length-bucketed batches as the transformer encoder-decoder
(`word <EOS>` in, `<SOS> translation` fed, `translation <EOS>` predicted) and share its
loss, so their validation losses compare character for character. Registering them
here lets `pipeline.translators.architectures.load_model` (and the translate CLI) load
their checkpoints.
"""

from __future__ import annotations

import pandas as pd
import torch

from pipeline.translators import encoder_decoder
from pipeline.translators.architectures import Architecture, register
from pipeline.translators.attention_maps import COLUMNS
from pipeline.translators.decoding import decode_words_by_length
from pipeline.translators.models.limits import MAX_POSITIONS
from pipeline.translators.models.recurrent import (
    AttentionRNNTranslator,
    RecurrentConfig,
    RNNTranslator,
    SingleBlockAttentionTranslator,
    SingleBlockConfig,
)
from pipeline.translators.vocab import Vocabulary


def _encode(words: list[str], vocab: Vocabulary, device: torch.device) -> torch.Tensor:
    return torch.tensor([vocab.encode(word) + [vocab.eos] for word in words], device=device)  # (B, S)


@torch.no_grad()
def greedy_decode(model: RNNTranslator, source: torch.Tensor, vocab: Vocabulary, max_len: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Generated ids (B, T) and, with attention, the weights of every step (B, T, S)."""
    annotations, state = model.encoder(source)  # (B, S, H), the final state
    memory = model.decoder.memory(annotations)  # once per batch, not once per step
    token = torch.full((source.size(0),), vocab.sos, device=source.device)  # (B,)
    finished = torch.zeros(source.size(0), dtype=torch.bool, device=source.device)
    generated, attention = [], []
    for _ in range(max_len):
        logits, state, weights = model.decoder.step(token, memory, state)  # (B, V), state, (B, S) | None
        token = logits.argmax(dim=-1)
        generated.append(token)
        if weights is not None:
            attention.append(weights)
        finished |= token == vocab.eos
        if finished.all():
            break
    return torch.stack(generated, dim=1), (torch.stack(attention, dim=1) if attention else None)


@torch.no_grad()
def greedy_translate_words(
    model: RNNTranslator, words: list[str], vocab: Vocabulary, max_len: int, device: torch.device, batch_size: int = 1024
) -> list[str]:
    """Translate each word by greedy decoding; words of one length are decoded together."""
    model.eval()

    def decode(chunk: list[str]) -> list[list[int]]:
        return greedy_decode(model, _encode(chunk, vocab, device), vocab, max_len)[0].tolist()

    # No position table limits an RNN; the transformers' limit keeps every translator's inputs alike.
    return decode_words_by_length(words, vocab, MAX_POSITIONS - 1, batch_size, decode)


@torch.no_grad()
def attention_map(model: AttentionRNNTranslator, words: list[str], vocab: Vocabulary, max_len: int, device: torch.device) -> pd.DataFrame:
    """For each word, the attention weight of every output character over every source character."""
    model.eval()
    rows = []
    for word in words:
        ids, weights = greedy_decode(model, _encode([word], vocab, device), vocab, max_len)
        outputs = ids[0].tolist()
        if vocab.eos in outputs:  # up to and including the first <EOS>
            outputs = outputs[: outputs.index(vocab.eos) + 1]
        sources = list(word) + ["<EOS>"]
        for step, token in enumerate(outputs):
            output = "<EOS>" if token == vocab.eos else vocab.tokens[token]
            for position, source in enumerate(sources):
                rows.append((word, step, output, position, source, float(weights[0, step, position])))
    return pd.DataFrame(rows, columns=COLUMNS)


def _recurrent_config(vocab_size: int, run) -> RecurrentConfig:
    return RecurrentConfig(vocab_size=vocab_size, hidden_size=run.hidden_size, cell=run.cell, forget_bias=run.forget_bias)


def _single_block_config(vocab_size: int, run) -> SingleBlockConfig:
    return SingleBlockConfig(vocab_size=vocab_size, hidden_size=run.hidden_size)


def _same_batch(batch, vocab):
    return batch


RNN = register(
    Architecture(
        "rnn-encoder-decoder",
        RNNTranslator,
        RecurrentConfig,
        _recurrent_config,
        _same_batch,
        encoder_decoder.seq2seq_loss,
        greedy_translate_words,
        __name__,
    )
)
RNN_ADDITIVE_ATTENTION = register(
    Architecture(
        "rnn-additive-attention",
        AttentionRNNTranslator,
        RecurrentConfig,
        _recurrent_config,
        _same_batch,
        encoder_decoder.seq2seq_loss,
        greedy_translate_words,
        __name__,
        attention_map=attention_map,
    )
)
SINGLE_BLOCK_ATTENTION = register(
    Architecture(
        "single-block-attention",
        SingleBlockAttentionTranslator,
        SingleBlockConfig,
        _single_block_config,
        _same_batch,
        encoder_decoder.seq2seq_loss,
        encoder_decoder.greedy_translate_words,
        __name__,
    )
)

# What `recurrent.runs.<run>.model` names (params.py keeps its own copy of the names: no torch import there).
BY_MODEL = {"rnn": RNN, "rnn-additive-attention": RNN_ADDITIVE_ATTENTION, "single-block-attention": SINGLE_BLOCK_ATTENTION}
