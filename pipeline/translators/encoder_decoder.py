"""Encoder-decoder translation: the loss and greedy decoding.

The encoder reads `word <EOS>`; the decoder is fed `<SOS> translation` and trained to
predict `translation <EOS>` (full teacher forcing). Batches hold pairs of one
(source, target) length, so they need no padding.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from pipeline.translators.batching import Seq2SeqBatch
from pipeline.translators.decoding import decode_words_by_length
from pipeline.translators.models.transformer import Seq2SeqTransformer
from pipeline.translators.vocab import Vocabulary


def seq2seq_loss(model: Seq2SeqTransformer, batch: Seq2SeqBatch) -> tuple[torch.Tensor, int]:
    """Cross-entropy of every target character and the final <EOS> (full teacher forcing)."""
    logits = model(batch.source, batch.decoder_input)  # (B, T, V)
    loss = F.cross_entropy(logits.flatten(0, 1), batch.target.flatten())
    return loss, batch.num_target_tokens


@torch.no_grad()
def greedy_translate_words(
    model: Seq2SeqTransformer, words: list[str], vocab: Vocabulary, max_len: int, device: torch.device, batch_size: int = 1024
) -> list[str]:
    """Translate each word by greedy decoding; words of one length are decoded together."""
    model.eval()

    def decode(chunk: list[str]) -> list[list[int]]:
        source = torch.tensor([vocab.encode(word) + [vocab.eos] for word in chunk], device=device)  # (B, S)
        return _greedy_decode(model, source, vocab, max_len)

    # The word plus <EOS> must fit the position table.
    return decode_words_by_length(words, vocab, model.config.max_positions - 1, batch_size, decode)


def _greedy_decode(model: Seq2SeqTransformer, source: torch.Tensor, vocab: Vocabulary, max_len: int) -> list[list[int]]:
    annotations = model.encoder(source)  # (B, S, H)
    generated = torch.full((source.size(0), 1), vocab.sos, device=source.device)  # (B, 1)
    finished = torch.zeros(source.size(0), dtype=torch.bool, device=source.device)
    for _ in range(max_len):
        logits = model.decoder(generated, annotations)[:, -1]  # (B, V): the newest position only
        next_token = logits.argmax(dim=-1)  # (B,)
        generated = torch.cat([generated, next_token.unsqueeze(1)], dim=1)
        finished |= next_token == vocab.eos
        if finished.all():
            break
    return generated[:, 1:].tolist()
