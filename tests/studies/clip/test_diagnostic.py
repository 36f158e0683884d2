"""The attribute diagnostic: held-out twins, and the accuracy per attribute on fake models
whose answer is known (no torch)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.studies.clip import scenes
from pipeline.studies.clip.diagnostic import as_metrics, twin_accuracy, twin_trials

PAIRS = 200


@pytest.fixture(scope="module")
def twins() -> scenes.Twins:
    return scenes.twin_split(11, scenes.SLOTS, PAIRS, 32)


def test_twins_differ_in_their_attribute_only(twins):
    assert twins.attribute == [a for a in scenes.SLOTS for _ in range(PAIRS)]
    first_captions, second_captions = twins.captions()
    for attribute, first, second, named, caption, other in zip(
        twins.attribute, twins.first.scenes, twins.second.scenes, twins.named, first_captions, second_captions
    ):
        assert scenes.differing_slots(first, second) == (attribute,)
        assert attribute in named
        # The two captions name the same slots; only the attribute's word differs.
        assert scenes.parse_caption(caption) == {slot: getattr(first, slot) for slot in named}
        assert scenes.parse_caption(other) == {slot: getattr(second, slot) for slot in named}
    assert 0.3 < np.mean([len(named) for named in twins.named]) / len(scenes.SLOTS) < 0.8  # partial captions too


def test_twins_share_their_placement(twins):
    # Colour twins are the same boxes in another colour: the same pixels differ from the background.
    for k in [i for i, a in enumerate(twins.attribute) if a == "colour"][:20]:
        first, second = twins.first.images[k].astype(int), twins.second.images[k].astype(int)
        background = np.array(scenes.BACKGROUNDS[twins.first.scenes[k].background])
        assert np.array_equal(np.abs(first - background).sum(-1) > 0, np.abs(second - background).sum(-1) > 0)
    again = scenes.twin_split(11, scenes.SLOTS, PAIRS, 32)
    assert np.array_equal(again.first.images, twins.first.images) and again.named == twins.named


def test_unknown_attribute_is_refused():
    with pytest.raises(ValueError, match=r"unknown attribute\(s\) \['size'\]"):
        scenes.twin_split(0, ("count", "size"), 2, 32)


def _fake_encoders(twins: scenes.Twins, ignored: str, noise: float, seed: int = 0):
    """A model that reads every attribute but `ignored` perfectly: features are one-hot
    codes of the attributes, the ignored one left out, plus a little noise (so ignoring
    produces coin flips, not only ties). Images are recognised by their pixels."""
    rng = np.random.default_rng(seed)
    read = [slot for slot in scenes.SLOTS if slot != ignored]

    def code(attributes: dict) -> np.ndarray:
        parts = [
            np.eye(len(scenes.VOCABULARY[s]))[scenes.VOCABULARY[s].index(attributes[s])]
            if s in attributes
            else np.zeros(len(scenes.VOCABULARY[s]))
            for s in read
        ]
        return np.concatenate([np.ones(1), *parts])  # a constant part: "a shape" is not the zero vector

    scene_of = {image.tobytes(): scene for split in (twins.first, twins.second) for image, scene in zip(split.images, split.scenes)}

    def unit(features: np.ndarray) -> np.ndarray:
        features = features + noise * rng.standard_normal(features.shape)
        return features / np.linalg.norm(features, axis=1, keepdims=True)

    def encode_images(images: np.ndarray) -> np.ndarray:
        return unit(np.stack([code({s: getattr(scene_of[image.tobytes()], s) for s in scenes.SLOTS}) for image in images]))

    def encode_captions(captions: list[str]) -> np.ndarray:
        return unit(np.stack([code(scenes.parse_caption(caption)) for caption in captions]))

    return encode_images, encode_captions


@pytest.mark.parametrize("ignored", ["position", "count"])
@pytest.mark.parametrize("noise", [0.0, 0.05])
def test_a_model_blind_to_one_attribute_scores_one_half_on_it(twins, ignored, noise):
    trials = twin_trials(twins, *_fake_encoders(twins, ignored, noise))
    accuracy = twin_accuracy(trials)
    assert list(accuracy) == list(scenes.SLOTS)
    assert len(trials) == 2 * PAIRS * len(scenes.SLOTS)
    for attribute, value in accuracy.items():
        if attribute == ignored:
            # Noise-free: every trial a tie (1/2); noisy: coin flips, 400 of them (2 standard errors = 0.05).
            assert value == pytest.approx(0.5, abs=0.0 if noise == 0 else 0.06)
        else:
            assert value == 1.0


def test_accuracy_counts_ties_as_half():
    import pandas as pd

    trials = pd.DataFrame(
        {"attribute": ["a", "a", "a", "b"], "credit": [1.0, 0.5, 0.0, 1.0]}  # win, tie, loss; win
    )
    assert twin_accuracy(trials) == {"a": 0.5, "b": 1.0}
    assert as_metrics({"a": 0.5, "b": 1.0}) == {"twin_accuracy_a": 0.5, "twin_accuracy_b": 1.0, "twin_accuracy_min": 0.5}
