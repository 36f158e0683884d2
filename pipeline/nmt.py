"""Pig Latin translation: the encoder-decoder's loss and greedy decoding, and what both
architectures share: evaluation, sentence translation and checkpoints.

A checkpoint records its architecture, so `load_model` (and the translate CLI) work for
encoder-decoder and decoder-only runs alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from torch import nn

from pipeline import decoder_only
from pipeline.data.batching import Seq2SeqBatch
from pipeline.data.piglatin import Pair
from pipeline.decoding import decode_words_by_length
from pipeline.errors import PipelineError
from pipeline.models.decoder_only import DecoderOnlyTransformer
from pipeline.models.transformer import Seq2SeqTransformer, TransformerConfig
from pipeline.vocab import Vocabulary

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"


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


@dataclass(frozen=True)
class Architecture:
    """What differs between the two translators; everything else is shared."""

    name: str  # recorded in checkpoints and MLflow tags
    model_class: type[nn.Module]  # built from a TransformerConfig
    as_batch: Callable[[Seq2SeqBatch, Vocabulary], Any]  # lay out a length-bucketed batch for this model
    loss: Callable[[nn.Module, Any], tuple[torch.Tensor, int]]  # (mean loss over counted tokens, count)
    translate_words: Callable[..., list[str]]  # (model, words, vocab, max_len, device) -> translations


ENCODER_DECODER = Architecture(
    "transformer-encoder-decoder", Seq2SeqTransformer, lambda batch, vocab: batch, seq2seq_loss, greedy_translate_words
)
DECODER_ONLY = Architecture(
    "transformer-decoder-only",
    DecoderOnlyTransformer,
    decoder_only.as_decoder_only,
    decoder_only.decoder_only_loss,
    decoder_only.greedy_translate_words,
)
ARCHITECTURES = {a.name: a for a in (ENCODER_DECODER, DECODER_ONLY)}


def architecture_of(model: nn.Module) -> Architecture:
    for architecture in ARCHITECTURES.values():
        if type(model) is architecture.model_class:
            return architecture
    raise TypeError(f"not a translator model: {type(model).__name__}")


def translate_sentence(model: nn.Module, sentence: str, vocab: Vocabulary, max_len: int, device: torch.device) -> str:
    """Translate word by word; the text must use only the vocabulary's characters and spaces."""
    sentence = sentence.strip().lower()
    vocab.check_text(sentence, "translate")
    words = sentence.split()
    return " ".join(architecture_of(model).translate_words(model, words, vocab, max_len, device))


def word_accuracy(
    model: nn.Module, pairs: list[Pair], vocab: Vocabulary, max_len: int, device: torch.device
) -> tuple[float, list[str]]:
    """Exact-match accuracy of greedy translations, and the translations themselves."""
    translate_words = architecture_of(model).translate_words
    predictions = translate_words(model, [p.source for p in pairs], vocab, max_len, device)
    correct = sum(pred == p.target for pred, p in zip(predictions, pairs))
    return correct / len(pairs), predictions


def save_model(folder: Path, model: nn.Module, state_dict: dict[str, torch.Tensor], extra: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in state_dict.items()}, str(folder / WEIGHTS_FILE))
    config = {"architecture": architecture_of(model).name, "model": model.config.to_dict(), **extra}
    (folder / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")


def load_model(folder: Path, device: torch.device | str = "cpu") -> tuple[nn.Module, dict]:
    folder = Path(folder)
    if not (folder / WEIGHTS_FILE).exists() or not (folder / CONFIG_FILE).exists():
        raise PipelineError(f"{folder}: no trained model here (expected {WEIGHTS_FILE} and {CONFIG_FILE}; run `dvc repro`)")
    config = json.loads((folder / CONFIG_FILE).read_text())
    architecture = ARCHITECTURES[config.get("architecture", ENCODER_DECODER.name)]
    model = architecture.model_class(TransformerConfig(**config["model"]))
    model.load_state_dict(load_file(str(folder / WEIGHTS_FILE)))
    return model.to(device).eval(), config
