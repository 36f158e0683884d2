"""Decoder-only translation: sequences, loss, greedy decoding.

One pair (word, translation) becomes one sequence; the model is trained to continue it:

    input   <SOS> w o r d <EOP> o r d w a y
    target  w o r d <EOP> o r d w a y <EOS>
                        ^^^^^^^^^^^^^^^^^ only these positions count in the loss

Predicting the English word itself is not the task, so the loss covers just the
positions from `<EOP>` on: the translated characters and the final `<EOS>`.
Batches hold pairs of one (source, target) length, so they need no padding.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from pipeline.translators.batching import Seq2SeqBatch
from pipeline.translators.decoding import decode_words_by_length
from pipeline.translators.models.transformer import DecoderOnlyTransformer
from pipeline.translators.vocab import Vocabulary


@dataclass
class DecoderOnlyBatch:
    tokens: torch.Tensor  # (B, T): <SOS> source <EOP> target, T = S + U + 2
    target: torch.Tensor  # (B, T): source <EOP> target <EOS> (the input shifted left)
    prompt_length: int  # S + 2: <SOS> source <EOP>; predictions from position S + 1 on count

    def to(self, device: torch.device) -> DecoderOnlyBatch:
        return DecoderOnlyBatch(self.tokens.to(device), self.target.to(device), self.prompt_length)

    @property
    def num_target_tokens(self) -> int:
        """Positions that count in the loss: the translation plus <EOS>."""
        return self.tokens.size(0) * (self.tokens.size(1) - self.prompt_length + 1)


def as_decoder_only(batch: Seq2SeqBatch, vocab: Vocabulary) -> DecoderOnlyBatch:
    """Re-lay an encoder-decoder batch (source+<EOS>, <SOS>+target, target+<EOS>) as one sequence."""
    source = batch.source[:, :-1]  # (B, S): drop the encoder's <EOS>
    translation = batch.decoder_input[:, 1:]  # (B, U): drop the decoder's <SOS>
    sos = torch.full_like(source[:, :1], vocab.sos)
    eop = torch.full_like(source[:, :1], vocab.eop)
    eos = torch.full_like(source[:, :1], vocab.eos)
    tokens = torch.cat([sos, source, eop, translation], dim=1)  # (B, S + U + 2)
    target = torch.cat([source, eop, translation, eos], dim=1)  # (B, S + U + 2)
    return DecoderOnlyBatch(tokens, target, prompt_length=source.size(1) + 2)


def decoder_only_loss(model: DecoderOnlyTransformer, batch: DecoderOnlyBatch) -> tuple[torch.Tensor, int]:
    """Cross-entropy over the positions from <EOP> on (translation + <EOS>), full teacher forcing."""
    first = batch.prompt_length - 1  # the <EOP> position predicts the first translated character
    logits = model(batch.tokens)[:, first:]  # (B, U + 1, V)
    loss = F.cross_entropy(logits.flatten(0, 1), batch.target[:, first:].flatten())
    return loss, batch.num_target_tokens


@torch.no_grad()
def greedy_translate_words(
    model: DecoderOnlyTransformer, words: list[str], vocab: Vocabulary, max_len: int, device: torch.device, batch_size: int = 1024
) -> list[str]:
    """Feed `<SOS> word <EOP>`, append the most likely token, repeat until <EOS> or `max_len` tokens."""
    model.eval()

    def decode(chunk: list[str]) -> list[list[int]]:
        prompt = torch.tensor([[vocab.sos] + vocab.encode(word) + [vocab.eop] for word in chunk], device=device)  # (B, P)
        return _greedy_continue(model, prompt, vocab, max_len)

    # <SOS> word <EOP> and up to max_len generated tokens must fit the position table.
    return decode_words_by_length(words, vocab, model.config.max_positions - max_len - 2, batch_size, decode)


def _greedy_continue(model: DecoderOnlyTransformer, prompt: torch.Tensor, vocab: Vocabulary, max_len: int) -> list[list[int]]:
    """Generated ids after the prompt, recomputing the whole sequence each step (words are short)."""
    sequence = prompt  # (B, P)
    finished = torch.zeros(prompt.size(0), dtype=torch.bool, device=prompt.device)
    for _ in range(max_len):
        next_token = model(sequence)[:, -1].argmax(dim=-1)  # (B,)
        sequence = torch.cat([sequence, next_token.unsqueeze(1)], dim=1)
        finished |= next_token == vocab.eos
        if finished.all():
            break
    return sequence[:, prompt.size(1) :].tolist()
