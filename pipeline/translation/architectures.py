"""The translator architectures and what they share: evaluation, sentence translation
and checkpoints.

An `Architecture` bundles what differs between translators (model class, batch layout,
loss, greedy decoding); everything else (the training run, evaluation, the CLI) is
written once against it. A checkpoint records its architecture and its vocabulary, so
`load_model` (and the translate CLI) work for every translator run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from pipeline.core.errors import PipelineError
from pipeline.translation import decoder_only, encoder_decoder
from pipeline.translation.batching import Seq2SeqBatch
from pipeline.translation.models.transformer import (
    DecoderOnlyTransformer,
    Seq2SeqTransformer,
    TransformerConfig,
)
from pipeline.translation.pairs import Pair
from pipeline.translation.vocab import VOCAB_FILE, Vocabulary

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"


@dataclass(frozen=True)
class Architecture:
    """What differs between the two translators; everything else is shared."""

    name: str  # recorded in checkpoints and MLflow tags
    model_class: type[nn.Module]  # built from a TransformerConfig
    as_batch: Callable[[Seq2SeqBatch, Vocabulary], Any]  # lay out a length-bucketed batch for this model
    loss: Callable[[nn.Module, Any], tuple[torch.Tensor, int]]  # (mean loss over counted tokens, count)
    translate_words: Callable[..., list[str]]  # (model, words, vocab, max_len, device) -> translations


ENCODER_DECODER = Architecture(
    "transformer-encoder-decoder",
    Seq2SeqTransformer,
    lambda batch, vocab: batch,
    encoder_decoder.seq2seq_loss,
    encoder_decoder.greedy_translate_words,
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


def save_model(folder: Path, model: nn.Module, state_dict: dict[str, torch.Tensor], vocab: Vocabulary, extra: dict) -> None:
    """Weights (safetensors), the architecture and model config, and the vocabulary."""
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in state_dict.items()}, str(folder / WEIGHTS_FILE))
    config = {"architecture": architecture_of(model).name, "model": model.config.to_dict(), **extra}
    (folder / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
    vocab.save(folder / VOCAB_FILE)


def load_model(folder: Path, device: torch.device | str = "cpu") -> tuple[nn.Module, Vocabulary, dict]:
    folder = Path(folder)
    files = (WEIGHTS_FILE, CONFIG_FILE, VOCAB_FILE)
    if not all((folder / name).exists() for name in files):
        raise PipelineError(f"{folder}: no trained model here (expected {', '.join(files)}; run `dvc repro`)")
    config = json.loads((folder / CONFIG_FILE).read_text())
    architecture = ARCHITECTURES[config["architecture"]]
    model = architecture.model_class(TransformerConfig(**config["model"]))
    model.load_state_dict(load_file(str(folder / WEIGHTS_FILE)))
    return model.to(device).eval(), Vocabulary.load(folder / VOCAB_FILE), config
