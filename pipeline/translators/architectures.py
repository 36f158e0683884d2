"""The translator architectures and what they share: evaluation, sentence translation
and checkpoints.

An `Architecture` bundles what differs between translators (model class and config,
batch layout, loss, greedy decoding); everything else (the training run, evaluation,
the CLI) is written once against it. A checkpoint records its architecture, the module
that defines it and its vocabulary, so `load_model` (and the translate CLI) work for
every translator run, including architectures a study defines in its own folder and
registers with `register` (this module never imports a study).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from pipeline.core.errors import PipelineError
from pipeline.translators import encoder_decoder, single_sequence
from pipeline.translators.batching import Seq2SeqBatch
from pipeline.translators.models.transformer import DecoderOnlyTransformer, Seq2SeqTransformer, TransformerConfig
from pipeline.translators.pairs import Pair
from pipeline.translators.vocab import VOCAB_FILE, Vocabulary

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"


@dataclass(frozen=True)
class Architecture:
    """What differs between translators; everything else is shared."""

    name: str  # recorded in checkpoints and MLflow tags
    model_class: type[nn.Module]  # built from a `config_class` instance
    config_class: type  # a dataclass with `to_dict()`; checkpoints store it as a dict
    make_config: Callable[[int, Any], Any]  # (vocabulary size, the run's params) -> config
    as_batch: Callable[[Seq2SeqBatch, Vocabulary], Any]  # lay out a length-bucketed batch for this model
    loss: Callable[[nn.Module, Any], tuple[torch.Tensor, int]]  # (mean loss over counted tokens, count)
    translate_words: Callable[..., list[str]]  # (model, words, vocab, max_len, device) -> translations
    module: str  # the module that defines (and registers) it: load_model imports it
    # For models with inspectable attention: (model, words, vocab, max_len, device) -> one row per
    # (word, output step, source position) with the attention weight; see attention_maps.py.
    attention_map: Callable[..., Any] | None = None

    def build(self, vocab_size: int, run: Any) -> nn.Module:
        return self.model_class(self.make_config(vocab_size, run))


ARCHITECTURES: dict[str, Architecture] = {}


def register(architecture: Architecture) -> Architecture:
    """Make an architecture known to `architecture_of` and `load_model`."""
    ARCHITECTURES[architecture.name] = architecture
    return architecture


def _transformer_config(vocab_size: int, run: Any) -> TransformerConfig:
    return TransformerConfig(vocab_size=vocab_size, hidden_size=run.hidden_size, num_layers=run.num_layers)


ENCODER_DECODER = register(
    Architecture(
        "transformer-encoder-decoder",
        Seq2SeqTransformer,
        TransformerConfig,
        _transformer_config,
        lambda batch, vocab: batch,
        encoder_decoder.seq2seq_loss,
        encoder_decoder.greedy_translate_words,
        __name__,
    )
)
DECODER_ONLY = register(
    Architecture(
        "transformer-decoder-only",
        DecoderOnlyTransformer,
        TransformerConfig,
        _transformer_config,
        single_sequence.as_decoder_only,
        single_sequence.decoder_only_loss,
        single_sequence.greedy_translate_words,
        __name__,
    )
)


def architecture_of(model: nn.Module) -> Architecture:
    for architecture in ARCHITECTURES.values():
        if type(model) is architecture.model_class:
            return architecture
    raise TypeError(f"not a translator model: {type(model).__name__}")


def architecture_named(name: str, module: str) -> Architecture:
    """The registered architecture `name`, importing the module that defines it if needed."""
    if name not in ARCHITECTURES and module.startswith("pipeline."):
        importlib.import_module(module)
    if name not in ARCHITECTURES:
        raise PipelineError(f"unknown translator architecture {name!r} (defined in {module!r}?)")
    return ARCHITECTURES[name]


def translate_sentence(model: nn.Module, sentence: str, vocab: Vocabulary, max_len: int, device: torch.device) -> str:
    """Translate word by word; the text must use only the vocabulary's characters and spaces."""
    sentence = sentence.strip().lower()
    vocab.check_text(sentence, "translate")
    words = sentence.split()
    return " ".join(architecture_of(model).translate_words(model, words, vocab, max_len, device))


def word_accuracy(model: nn.Module, pairs: list[Pair], vocab: Vocabulary, max_len: int, device: torch.device) -> tuple[float, list[str]]:
    """Exact-match accuracy of greedy translations, and the translations themselves."""
    translate_words = architecture_of(model).translate_words
    predictions = translate_words(model, [p.source for p in pairs], vocab, max_len, device)
    correct = sum(pred == p.target for pred, p in zip(predictions, pairs))
    return correct / len(pairs), predictions


def save_model(folder: Path, model: nn.Module, state_dict: dict[str, torch.Tensor], vocab: Vocabulary, extra: dict) -> None:
    """Weights (safetensors), the architecture and model config, and the vocabulary."""
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in state_dict.items()}, str(folder / WEIGHTS_FILE))
    architecture = architecture_of(model)
    config = {"architecture": architecture.name, "architecture_module": architecture.module, "model": model.config.to_dict(), **extra}
    (folder / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
    vocab.save(folder / VOCAB_FILE)


def load_model(folder: Path, device: torch.device | str = "cpu") -> tuple[nn.Module, Vocabulary, dict]:
    folder = Path(folder)
    files = (WEIGHTS_FILE, CONFIG_FILE, VOCAB_FILE)
    if not all((folder / name).exists() for name in files):
        raise PipelineError(f"{folder}: no trained model here (expected {', '.join(files)}; run `dvc repro`)")
    config = json.loads((folder / CONFIG_FILE).read_text())
    architecture = architecture_named(config["architecture"], config.get("architecture_module", __name__))
    model = architecture.model_class(architecture.config_class(**config["model"]))
    model.load_state_dict(load_file(str(folder / WEIGHTS_FILE)))
    return model.to(device).eval(), Vocabulary.load(folder / VOCAB_FILE), config
