"""Attribute diagnostic: does the model read every attribute of a scene?

Retrieval among 100 distinct scenes can be passed while ignoring an attribute (the other
four usually tell the scenes apart), and the caption search then accepts captions that are
false of the target ("two circles at the top right" for circles at the top left). The
diagnostic asks the question directly, one attribute at a time: for held-out twin pairs
(`scenes.twin_split`: two scenes equal in everything but one attribute, drawn from the same
placement draws) and a caption naming that attribute, does the caption score its own image
above the twin? Each pair gives two trials (each caption against both images). A tie counts
one half, so a model blind to an attribute scores 0.5 on it and a model that reads it 1.0.

Torch-free: the model enters as two encoders returning unit-length features, (N, D) arrays.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from pipeline.studies.clip.scenes import Twins

ImageEncoder = Callable[[np.ndarray], np.ndarray]  # (N, S, S, 3) uint8 -> (N, D) unit features
CaptionEncoder = Callable[[list[str]], np.ndarray]  # N captions -> (N, D) unit features

METRIC_PREFIX = "twin_accuracy_"  # + attribute: the per-attribute metric names


def twin_trials(twins: Twins, encode_images: ImageEncoder, encode_captions: CaptionEncoder) -> pd.DataFrame:
    """One row per trial: attribute, caption, similarity to its own image and to the twin, credit (1, 1/2, 0)."""
    first_captions, second_captions = twins.captions()
    first_images, second_images = encode_images(twins.first.images), encode_images(twins.second.images)  # (P, D) each
    first_texts, second_texts = encode_captions(first_captions), encode_captions(second_captions)  # (P, D) each
    own = np.concatenate([(first_texts * first_images).sum(1), (second_texts * second_images).sum(1)])  # (2P,)
    twin = np.concatenate([(first_texts * second_images).sum(1), (second_texts * first_images).sum(1)])  # (2P,)
    return pd.DataFrame(
        {
            "attribute": twins.attribute * 2,
            "caption": first_captions + second_captions,
            "own_similarity": own,
            "twin_similarity": twin,
            "credit": np.where(own > twin, 1.0, np.where(own == twin, 0.5, 0.0)),
        }
    )


def twin_accuracy(trials: pd.DataFrame) -> dict[str, float]:
    """{attribute: share of its trials where the caption prefers its own image}, in the trials' attribute order."""
    return {attribute: float(credit) for attribute, credit in trials.groupby("attribute", sort=False)["credit"].mean().items()}


def as_metrics(accuracy: dict[str, float]) -> dict[str, float]:
    """MLflow / metrics-file names: twin_accuracy_<attribute>, and the weakest one as twin_accuracy_min."""
    return {f"{METRIC_PREFIX}{attribute}": value for attribute, value in accuracy.items()} | {f"{METRIC_PREFIX}min": min(accuracy.values())}
