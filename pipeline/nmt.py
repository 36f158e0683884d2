"""Encoder-decoder Pig Latin translation: loss, greedy decoding, evaluation, checkpoints."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from pipeline.data.batching import Seq2SeqBatch
from pipeline.data.piglatin import Pair
from pipeline.errors import PipelineError
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
    by_length: dict[int, list[int]] = defaultdict(list)
    for i, word in enumerate(words):
        by_length[len(word)].append(i)
    out = [""] * len(words)
    for indices in by_length.values():
        for start in range(0, len(indices), batch_size):
            chunk = indices[start : start + batch_size]
            source = torch.tensor([vocab.encode(words[i]) + [vocab.eos] for i in chunk], device=device)  # (B, S)
            for i, ids in zip(chunk, _greedy_decode(model, source, vocab, max_len)):
                out[i] = vocab.decode(ids)
    return out


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


def translate_sentence(
    model: Seq2SeqTransformer, sentence: str, vocab: Vocabulary, max_len: int, device: torch.device
) -> str:
    """Translate word by word; the text must use only the vocabulary's characters and spaces."""
    sentence = sentence.strip().lower()
    vocab.check_text(sentence, "translate")
    words = sentence.split()
    longest = model.config.max_positions - 1  # the word plus <EOS> must fit the position table
    for word in words:
        if len(word) > longest:
            raise PipelineError(f"translate: word of {len(word)} characters is longer than the model's limit of {longest}")
    return " ".join(greedy_translate_words(model, words, vocab, max_len, device))


def word_accuracy(
    model: Seq2SeqTransformer, pairs: list[Pair], vocab: Vocabulary, max_len: int, device: torch.device
) -> tuple[float, list[str]]:
    """Exact-match accuracy of greedy translations, and the translations themselves."""
    predictions = greedy_translate_words(model, [p.source for p in pairs], vocab, max_len, device)
    correct = sum(pred == p.target for pred, p in zip(predictions, pairs))
    return correct / len(pairs), predictions


def save_model(folder: Path, model: Seq2SeqTransformer, state_dict: dict[str, torch.Tensor], extra: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in state_dict.items()}, str(folder / WEIGHTS_FILE))
    config = {"model": model.config.to_dict(), **extra}
    (folder / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")


def load_model(folder: Path, device: torch.device | str = "cpu") -> tuple[Seq2SeqTransformer, dict]:
    folder = Path(folder)
    if not (folder / WEIGHTS_FILE).exists() or not (folder / CONFIG_FILE).exists():
        raise PipelineError(f"{folder}: no trained model here (expected {WEIGHTS_FILE} and {CONFIG_FILE}; run `dvc repro`)")
    config = json.loads((folder / CONFIG_FILE).read_text())
    model = Seq2SeqTransformer(TransformerConfig(**config["model"]))
    model.load_state_dict(load_file(str(folder / WEIGHTS_FILE)))
    return model.to(device).eval(), config
