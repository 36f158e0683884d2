"""A sentence classifier: a pretrained encoder + Linear(hidden, 3) on the pooled [CLS] output.

The encoder comes from the HF Auto classes, so BERT- and RoBERTa-family checkpoints
both work. A trained classifier is saved as one safetensors file plus the encoder's
config and tokenizer, so it loads again offline without the original checkpoint. The module
is the study's `classification.run.ModelModule`: the shared run and predict CLI call its functions.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from pipeline.classification.batches import EncodedBatch
from pipeline.core.errors import PipelineError
from pipeline.datasets.arithmetic.data import LABELS

WEIGHTS_FILE = "model.safetensors"
CLASSIFIER_FILE = "classifier.json"  # labels, max length, where the weights came from


class SentenceClassifier(nn.Module):
    def __init__(self, encoder: nn.Module, num_classes: int = len(LABELS), freeze_encoder: bool = False):
        super().__init__()
        self.encoder = encoder
        self.classifier = nn.Linear(encoder.config.hidden_size, num_classes)
        if freeze_encoder:
            self.encoder.requires_grad_(False)  # only the classifier head trains

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        pooled = self.encoder(input_ids=input_ids, attention_mask=attention_mask).pooler_output  # (B, H)
        return self.classifier(pooled)  # (B, C) logits


def sentence_logits(model: SentenceClassifier, batch: EncodedBatch) -> torch.Tensor:
    return model(batch.input_ids, batch.attention_mask)  # (B, C)


def classification_loss(model: SentenceClassifier, batch: EncodedBatch) -> tuple[torch.Tensor, int]:
    """Mean cross-entropy over the batch's sentences, and how many there were."""
    return F.cross_entropy(sentence_logits(model, batch), batch.labels), len(batch)


@torch.no_grad()
def pooled_scale(model: SentenceClassifier, batch: EncodedBatch) -> float:
    """Mean |x| of the pooled [CLS] features over `batch`'s sentences (dropout off): the size of
    what the head reads, which sets how far a given weight step moves its logits."""
    model.eval()
    pooled = model.encoder(input_ids=batch.input_ids, attention_mask=batch.attention_mask).pooler_output  # (B, H)
    model.train()
    return float(pooled.abs().mean())


def load_encoder(location: str, pretrained: bool) -> nn.Module:
    """The checkpoint's encoder; `pretrained=False` keeps the architecture but not the weights."""
    from transformers import AutoConfig, AutoModel
    from transformers.utils import logging

    logging.disable_progress_bar()  # a "Loading weights" bar per load garbles DVC's log
    if pretrained:
        return AutoModel.from_pretrained(location)
    return AutoModel.from_config(AutoConfig.from_pretrained(location))


def load_tokenizer(location: str):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(location)


def save_classifier(folder: Path, model: SentenceClassifier, tokenizer, info: dict) -> None:
    """Weights (safetensors), the encoder's config and the tokenizer: all a later load needs."""
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(folder / WEIGHTS_FILE))
    model.encoder.config.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / CLASSIFIER_FILE).write_text(json.dumps({"labels": list(LABELS), **info}, indent=2) + "\n")


def load_classifier(folder: Path, device: torch.device | str = "cpu") -> tuple[SentenceClassifier, object, dict]:
    """(model in eval mode, tokenizer, info) of a classifier saved by `save_classifier`."""
    from transformers import AutoConfig, AutoModel

    folder = Path(folder)
    if not (folder / WEIGHTS_FILE).exists() or not (folder / CLASSIFIER_FILE).exists():
        raise PipelineError(f"{folder}: no trained classifier here (expected {WEIGHTS_FILE}; run `dvc repro`)")
    info = json.loads((folder / CLASSIFIER_FILE).read_text())
    encoder = AutoModel.from_config(AutoConfig.from_pretrained(folder))
    model = SentenceClassifier(encoder, num_classes=len(info["labels"]))
    model.load_state_dict(load_file(str(folder / WEIGHTS_FILE)))
    return model.to(device).eval(), load_tokenizer(str(folder)), info


def encode(tokenizer, texts: list[str], labels: list[int], max_length: int) -> EncodedBatch:
    """Tokenize to a fixed length (the reference pads/truncates every sentence to `max_length`)."""
    encoded = tokenizer(texts, padding="max_length", truncation=True, max_length=max_length, return_tensors="pt")
    return EncodedBatch(encoded["input_ids"], encoded["attention_mask"], torch.tensor(labels, dtype=torch.long))


@torch.no_grad()
def predict_proba(
    model: SentenceClassifier, tokenizer, texts: list[str], max_length: int, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """Class probabilities, (N, C), for each sentence."""
    model.eval()
    batch = encode(tokenizer, texts, [0] * len(texts), max_length).to(torch.device(device))
    return model(batch.input_ids, batch.attention_mask).softmax(dim=-1).cpu()
