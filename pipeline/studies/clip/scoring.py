"""Scoring captions against a gallery, exactly as the reference notebook did.

Image and text features are L2-normalised; for each caption the probabilities over the
gallery images are softmax(logit_scale * cosine similarity) (the reference used
100 x cos, which is OpenAI CLIP's learned logit scale); the chosen image is the argmax.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@torch.no_grad()
def image_features(model, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """(N, 3, H, W) preprocessed images -> (N, D) unit-length features."""
    device = next(model.parameters()).device
    chunks = [model.encode_image(images[i : i + batch_size].to(device)) for i in range(0, len(images), batch_size)]
    return torch.nn.functional.normalize(torch.cat(chunks).float(), dim=-1)


@torch.no_grad()
def text_features(model, tokens: torch.Tensor) -> torch.Tensor:
    """(T, L) token ids -> (T, D) unit-length features."""
    device = next(model.parameters()).device
    return torch.nn.functional.normalize(model.encode_text(tokens.to(device)).float(), dim=-1)


def logit_scale(model) -> float:
    """exp of the model's learned log-scale: 100 for OpenAI's CLIP."""
    return float(model.logit_scale.detach().exp())


def probabilities(image_feats: torch.Tensor, text_feats: torch.Tensor, scale: float) -> torch.Tensor:
    """(T, N): for each caption, softmax over the N images of scale x cosine similarity."""
    return (scale * text_feats @ image_feats.T).softmax(dim=-1)


@dataclass
class CaptionScores:
    captions: list[str]
    probabilities: np.ndarray  # (T, N): row t = caption t's distribution over the gallery

    def chosen(self) -> np.ndarray:
        """(T,) index of the image each caption selects."""
        return self.probabilities.argmax(axis=1)

    def rank_of(self, target: int) -> np.ndarray:
        """(T,) 1-based rank of the target image under each caption (1 = selected)."""
        target_probability = self.probabilities[:, target : target + 1]
        return 1 + (self.probabilities > target_probability).sum(axis=1)

    def margin_of(self, target: int) -> np.ndarray:
        """(T,) target probability minus the best other image's (> 0: target selected)."""
        others = np.delete(self.probabilities, target, axis=1)
        return self.probabilities[:, target] - others.max(axis=1)


class GalleryScorer:
    """Scores any list of captions against a fixed gallery (image features computed once)."""

    def __init__(self, model, tokenizer, images: torch.Tensor):
        self.model = model
        self.tokenizer = tokenizer
        self.image_feats = image_features(model, images)
        self.scale = logit_scale(model)

    def __call__(self, captions: list[str]) -> CaptionScores:
        text_feats = text_features(self.model, self.tokenizer(captions))
        probs = probabilities(self.image_feats, text_feats, self.scale)
        return CaptionScores(list(captions), probs.cpu().numpy().astype(np.float64))
