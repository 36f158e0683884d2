"""CLIP prompting: scene generator, caption grammar, scoring, caption search, checkpoints,
and the errors users see. The model tests use the tiny in-pipeline config with random
weights (no training, no network)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

from pipeline.core.errors import PipelineError
from pipeline.studies.clip import PIPELINE_MODEL, scenes
from pipeline.studies.clip.gallery import load_gallery
from pipeline.studies.clip.params import load
from pipeline.studies.clip.scoring import CaptionScores
from pipeline.studies.clip.search import SearchCounts, search_caption, true_of

ROOT = Path(__file__).resolve().parents[3]
TARGET = scenes.Scene(count=2, colour="red", shape="circle", position="top left", background="white")


# --------------------------------------------------------------- scenes and captions


def test_captions_follow_the_grammar():
    assert TARGET.caption() == "two red circles at the top left on a white background"
    assert TARGET.caption(("colour",)) == "a red shape"
    assert TARGET.caption(("shape",)) == "a circle"
    assert TARGET.caption(("count", "shape")) == "two circles"
    assert TARGET.caption(("background", "count")) == "two shapes on a white background"  # grammar order
    assert scenes.render_caption({}) == "a shape"
    assert scenes.render_caption({"count": 1, "position": "middle"}) == "one shape in the middle"
    assert scenes.render_caption({"position": "bottom right"}) == "a shape at the bottom right"
    assert len(scenes.all_scenes()) == 3 * 5 * 3 * 5 * 3


def test_generator_is_deterministic_for_a_seed_and_differs_across_seeds():
    first, again, other = (scenes.train_split(seed, 24, 32, group_size=6) for seed in (3, 3, 4))
    assert first.images.shape == (24, 32, 32, 3) and first.images.dtype == np.uint8
    assert np.array_equal(first.images, again.images) and first.scenes == again.scenes
    assert first.scenes != other.scenes and not np.array_equal(first.images, other.images)
    val, val_again = scenes.validation_split(3, 2, 32), scenes.validation_split(3, 2, 32)
    assert np.array_equal(val.images, val_again.images)


@pytest.mark.parametrize("group_size", [2, 4, 6])
def test_training_scenes_come_in_twin_groups(group_size):
    split = scenes.train_split(5, 10 * group_size, 32, group_size)
    for start in range(0, len(split.scenes), group_size):
        anchor, twins = split.scenes[start], split.scenes[start + 1 : start + group_size]
        changed = [scenes.differing_slots(anchor, twin) for twin in twins]
        assert all(len(slots) == 1 for slots in changed)  # each twin: one slot away from its anchor
        assert len({slots[0] for slots in changed}) == group_size - 1  # a different slot for each twin
    with pytest.raises(ValueError, match="group_size must be 2..6"):
        scenes.train_split(5, 10, 32, 7)


def _visible_shapes(image: np.ndarray, scene: scenes.Scene) -> int:
    """Connected blobs that differ clearly from the background (4-connectivity)."""
    from scipy import ndimage

    background = np.array(scenes.BACKGROUNDS[scene.background])
    return ndimage.label(np.abs(image.astype(int) - background).sum(axis=-1) > 150)[1]


def test_every_shape_of_the_count_can_be_seen():
    # Three shapes in a corner are crowded: drawn at random they used to overlap or touch in
    # most images, and "three" could not be read off the image.
    split = scenes.validation_split(2, 2, 32)
    crowded = [(image, scene) for image, scene in zip(split.images, split.scenes) if scene.count > 1]
    seen = [_visible_shapes(image, scene) == scene.count for image, scene in crowded]
    assert len(crowded) > 100 and np.mean(seen) > 0.97


def test_drawn_image_shows_the_scene():
    image = scenes.draw_scene(TARGET, np.random.default_rng(0), 32).astype(int)
    red = (image[..., 0] > 150) & (image[..., 1] < 120) & (image[..., 2] < 120)
    assert red.sum() > 20  # the shapes are there, in red
    rows, columns = np.nonzero(red)
    assert columns.max() < 17 and rows.max() < 17  # all in the top left quadrant
    corner = image[-1, -1]
    assert (corner > 200).all()  # white background


def test_validation_blocks_hold_distinct_scenes():
    val = scenes.validation_split(0, 3, 32)
    assert len(val.scenes) == 300
    for start in range(0, 300, 100):
        assert len(set(val.scenes[start : start + 100])) == 100


def test_gallery_distractors_differ_from_the_target_in_exactly_one_slot():
    gallery = scenes.gallery_scenes(TARGET)
    assert gallery[0] == (TARGET, "target")
    assert len(gallery) == 1 + sum(len(v) - 1 for v in scenes.VOCABULARY.values()) == 15
    for scene, difference in gallery[1:]:
        changed = [slot for slot in scenes.SLOTS if getattr(scene, slot) != getattr(TARGET, slot)]
        assert changed == [difference.split("=")[0]]
    assert len({scene for scene, _ in gallery}) == 15


# ---------------------------------------------------------------------- scoring


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_probabilities_by_hand():
    import torch

    from pipeline.studies.clip.scoring import probabilities

    images = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])  # unit vectors
    texts = torch.tensor([[1.0, 0.0]])
    probs = probabilities(images, texts, scale=100.0).numpy()
    expected = np.exp([100.0, 0.0, 60.0] - np.float64(100)) / np.exp([100.0, 0.0, 60.0] - np.float64(100)).sum()
    assert probs == pytest.approx(expected[None, :], abs=1e-6)

    scores = CaptionScores(["a", "b"], np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]]))
    assert scores.chosen().tolist() == [1, 0]
    assert scores.rank_of(0).tolist() == [3, 1]
    assert scores.margin_of(0) == pytest.approx([0.1 - 0.7, 0.5 - 0.3])


@pytest.fixture(scope="module")
def tiny():
    """(model, preprocess, tokenizer) of the in-pipeline config, random weights."""
    import torch

    from pipeline.studies.clip.models import create

    torch.manual_seed(0)
    return create(PIPELINE_MODEL, None)


def _raw_probabilities(model, tokenizer, images, captions) -> np.ndarray:
    """Independent recomputation: unnormalised encoder outputs -> numpy from there on."""
    import torch

    with torch.no_grad():
        image = model.encode_image(images).numpy().astype(np.float64)
        text = model.encode_text(tokenizer(captions)).numpy().astype(np.float64)
        scale = float(model.logit_scale.exp())
    image /= np.linalg.norm(image, axis=1, keepdims=True)
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    return _softmax(scale * text @ image.T)


def _gallery_tensor(preprocess):
    import torch

    gallery, _ = scenes.gallery_split(0, TARGET, 32)
    return torch.stack([preprocess(Image.fromarray(image)) for image in gallery.images])


def test_scoring_matches_numpy(tiny):
    from pipeline.studies.clip.scoring import GalleryScorer

    model, preprocess, tokenizer = tiny
    images = _gallery_tensor(preprocess)
    captions = ["a red circle", "two red circles at the top left on a white background", "a shape"]
    scores = GalleryScorer(model, tokenizer, images)(captions)
    expected = _raw_probabilities(model, tokenizer, images, captions)
    assert scores.probabilities == pytest.approx(expected, abs=1e-5)
    assert scores.chosen().tolist() == expected.argmax(axis=1).tolist()


def test_training_input_equals_open_clip_preprocess(tiny):
    import open_clip

    from pipeline.studies.clip.train import to_model_input

    model, preprocess, _ = tiny
    images = scenes.train_split(1, 4, 32, group_size=2).images
    config = open_clip.get_model_preprocess_cfg(model)
    fast = to_model_input(images, config["mean"], config["std"]).numpy()
    reference = np.stack([preprocess(Image.fromarray(image)).numpy() for image in images])
    assert fast == pytest.approx(reference, abs=1e-5)


def test_training_batches_keep_twin_groups_together():
    import torch

    from pipeline.studies.clip.train import CaptionedImages

    split = scenes.train_split(5, 72, 32, group_size=6)
    data = CaptionedImages(split, torch.arange(72), lambda captions: captions, batch_size=12, group_size=6, seed=0, full_fraction=0.0)
    data._tokenize = lambda captions: captions  # keep the caption strings to check them
    batches = data.batches(1)
    seen = torch.cat([b.images for b in batches]).tolist()
    assert sorted(seen) == list(range(72)) and seen != list(range(72))  # every image once, shuffled
    assert [b.images.tolist() for b in data.batches(1)] == [b.images.tolist() for b in batches]  # per-epoch seed
    for batch in batches:
        index = batch.images.tolist()
        for start in (0, 6):  # two whole groups per batch, anchor first
            group = index[start : start + 6]
            assert group == list(range(group[0], group[0] + 6)) and group[0] % 6 == 0
            assert batch.group[start : start + 6].tolist() == [group[0] // 6] * 6
            for i, caption in zip(group[1:], batch.tokens[start + 1 : start + 6]):
                # A twin's caption names the slot it differs from its anchor in.
                (slot,) = scenes.differing_slots(split.scenes[i], split.scenes[group[0]])
                assert slot in _slots_named(caption, split.scenes[i])
        # The truth matrix, recomputed from the scenes and the captions' slots.
        for t, caption in enumerate(batch.tokens):
            named = scenes.parse_caption(caption)
            for j, i in enumerate(index):
                assert bool(batch.truth[t, j]) == true_of(split.scenes[i], named)


def _slots_named(caption: str, scene: scenes.Scene) -> tuple[str, ...]:
    """Which slots of `scene` a caption names (the one subset that renders to it)."""
    import itertools

    for n in range(len(scenes.SLOTS) + 1):
        for slots in itertools.combinations(scenes.SLOTS, n):
            if scene.caption(slots) == caption:
                return slots
    raise AssertionError(f"{caption!r} is not a caption of {scene}")


# ------------------------------------------------------------------------ search


MIRROR = {
    "top left": "top right",
    "top right": "top left",
    "bottom left": "bottom right",
    "bottom right": "bottom left",
    "middle": "middle",
}


def _fake_clip(gallery: list[scenes.Scene], sharpness: float = 3.0, mirrored: bool = False):
    """A CLIP stand-in: a caption's logit for an image is +1 per named slot that matches the
    image's scene and -1 per slot that does not; `mirrored` reads left and right swapped."""
    lookup = {}
    for values in np.ndindex(*(len(scenes.VOCABULARY[s]) + 1 for s in scenes.SLOTS)):
        attributes = {s: scenes.VOCABULARY[s][v - 1] for s, v in zip(scenes.SLOTS, values) if v}
        lookup[scenes.render_caption(attributes)] = attributes

    def seen(scene: scenes.Scene, slot: str):
        return MIRROR[scene.position] if mirrored and slot == "position" else getattr(scene, slot)

    def logits(caption: str) -> np.ndarray:
        attributes = lookup[caption]
        return np.array([sum(1 if seen(g, s) == v else -1 for s, v in attributes.items()) for g in gallery], float)

    def score(captions: list[str]) -> CaptionScores:
        return CaptionScores(list(captions), np.stack([_softmax(sharpness * logits(c)) for c in captions]))

    return score, logits


def test_search_needs_every_slot_against_one_slot_distractors():
    gallery = [scene for scene, _ in scenes.gallery_scenes(TARGET)]
    score, logits = _fake_clip(gallery)
    result = search_caption(score, target=0, beam_width=3, min_margin=0.05, target_scene=TARGET)
    assert result.selects_target
    assert result.caption == TARGET.caption()  # each distractor is only ruled out by naming its slot
    probabilities = _softmax(3.0 * logits(result.caption))  # recomputed independently
    assert probabilities.argmax() == 0
    assert result.target_probability == pytest.approx(probabilities[0])
    assert result.margin == pytest.approx(probabilities[0] - np.delete(probabilities, 0).max())
    assert set(result.trace["length"]) == {0, 1, 2, 3, 4, 5}


def test_search_accepts_only_captions_true_of_the_target():
    gallery = [scene for scene, _ in scenes.gallery_scenes(TARGET)]
    score, _ = _fake_clip(gallery, mirrored=True)  # sees the target's circles at the top right
    blind = search_caption(score, target=0, beam_width=3, min_margin=0.05)
    assert blind.selects_target and blind.attributes["position"] == "top right"  # the bug: a false caption "found"

    checked = search_caption(score, target=0, beam_width=3, min_margin=0.05, target_scene=TARGET)
    assert true_of(TARGET, checked.attributes)
    # The true full caption puts the mirrored distractor on top: no true caption selects the target.
    assert not checked.selects_target
    trace = checked.trace
    assert trace.loc[trace["kept"], "true_of_target"].all()  # false captions are scored, never extended
    assert trace["true_of_target"].tolist() == [true_of(TARGET, scenes.parse_caption(c)) for c in trace["caption"]]
    counts = SearchCounts.of(trace)
    expected_false_selecting = sum((not t) and r == 1 for t, r in zip(trace["true_of_target"], trace["target_rank"]))
    assert counts == SearchCounts(
        scored=len(trace),
        true=int(trace["true_of_target"].sum()),
        true_failing=int((trace["true_of_target"] & (trace["target_rank"] > 1)).sum()),
        false_selecting=expected_false_selecting,
    )
    assert counts.false_selecting > 0
    naming_position = trace[trace["true_of_target"] & trace["caption"].str.contains("top left")]
    assert len(naming_position) and (naming_position["target_rank"] > 1).all()  # "top left" points at the mirror image


def test_search_counts_by_hand():
    trace = pd.DataFrame({"true_of_target": [True, True, False, False, True], "target_rank": [1, 3, 1, 2, 2]})
    assert SearchCounts.of(trace) == SearchCounts(scored=5, true=3, true_failing=2, false_selecting=1)
    unknown = pd.DataFrame({"true_of_target": [None, None], "target_rank": [1, 2]})  # real images
    assert SearchCounts.of(unknown) == SearchCounts(scored=2, true=0, true_failing=0, false_selecting=0)


def test_search_prefers_the_shortest_caption():
    other = scenes.Scene(count=2, colour="blue", shape="circle", position="top left", background="white")
    gallery = [TARGET, other, scenes.Scene(1, "green", "square", "middle", "black")]
    score, logits = _fake_clip(gallery)
    result = search_caption(score, target=0, beam_width=2, min_margin=0.05)
    assert result.selects_target and result.attributes == {"colour": "red"}
    assert result.caption == "a red shape"
    assert _softmax(3.0 * logits(result.caption)).argmax() == 0
    assert result.trace["length"].max() == 1


def test_search_with_a_real_model_is_consistent_with_numpy(tiny):
    from pipeline.studies.clip.scoring import GalleryScorer

    model, preprocess, tokenizer = tiny
    images = _gallery_tensor(preprocess)
    result = search_caption(GalleryScorer(model, tokenizer, images), target=0, beam_width=2, min_margin=0.0)
    probabilities = _raw_probabilities(model, tokenizer, images, [result.caption])[0]
    assert result.target_probability == pytest.approx(probabilities[0], abs=1e-5)
    assert result.selects_target == (probabilities.argmax() == 0)
    kept = result.trace[result.trace["kept"]]
    assert (kept.groupby("length").size() <= 2).all()


# ------------------------------------------------------------------- checkpoints


def test_checkpoint_round_trips_through_pretrained_path(tiny, tmp_path):
    import open_clip
    import torch

    from pipeline.studies.clip.models import create, save_checkpoint

    model, preprocess, tokenizer = tiny
    checkpoint = save_checkpoint(model, tmp_path / "model")
    assert checkpoint.suffix == ".safetensors"
    images = _gallery_tensor(preprocess)
    tokens = tokenizer(["two red circles", "a shape"])
    with torch.no_grad():
        expected = (model.encode_image(images), model.encode_text(tokens), model.logit_scale)
        for loaded in (
            create(PIPELINE_MODEL, str(checkpoint))[0],  # the path ViT-B-32 + a local file takes
            open_clip.create_model(f"local-dir:{tmp_path / 'model'}").eval(),
        ):
            assert torch.equal(loaded.encode_image(images), expected[0])
            assert torch.equal(loaded.encode_text(tokens), expected[1])
            assert torch.equal(loaded.logit_scale, expected[2])


# ---------------------------------------------------------------------- bad input


def test_unknown_model_names_the_param():
    from pipeline.studies.clip.models import create

    with pytest.raises(PipelineError, match=r"^params.yaml: clip.model: unknown open_clip model 'ViT-Q-99'"):
        create("ViT-Q-99", None)


def test_hub_weights_offline_name_the_param(tmp_path, monkeypatch):
    from pipeline.studies.clip.models import create

    monkeypatch.setenv("HOME", str(tmp_path))  # an empty cache for ~/.cache/clip
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(PipelineError, match=r"^params.yaml: clip.pretrained: no cached weights for ViT-B-32 'openai'.*allow_download"):
        create("ViT-B-32", "openai", allow_download=False)
    with pytest.raises(PipelineError, match=r"^params.yaml: clip.pretrained: 'nope.pt' is neither a checkpoint file"):
        create("ViT-B-32", "nope.pt")
    garbage = tmp_path / "weights.pt"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(PipelineError, match=r"^params.yaml: clip.pretrained: could not load '.*weights.pt' for attn-clip-tiny"):
        create(PIPELINE_MODEL, str(garbage))


def _png(path: Path) -> None:
    Image.new("RGB", (8, 8), (255, 0, 0)).save(path)


def test_gallery_errors(tmp_path):
    with pytest.raises(PipelineError, match=r"clip.gallery: .*missing: no such folder"):
        load_gallery(tmp_path / "missing", "a.png")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / ".hidden").write_text("ignored")
    with pytest.raises(PipelineError, match=r"clip.gallery: .*empty: no images"):
        load_gallery(tmp_path / "empty", "a.png")
    folder = tmp_path / "gallery"
    folder.mkdir()
    _png(folder / "a.png")
    _png(folder / "b.png")
    with pytest.raises(PipelineError, match=r"clip.target: 'c.png' is not in the gallery"):
        load_gallery(folder, "c.png")
    assert load_gallery(folder, "b.png").target == 1
    (folder / "notes.txt").write_text("not a picture")
    with pytest.raises(PipelineError, match=r"notes.txt: not an image"):
        load_gallery(folder, "a.png")


def _params(tmp_path: Path, edit) -> Path:
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    edit(raw["clip"])
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c.update(model="ViT-B-32"), "clip.model: the in-pipeline weights"),
        (lambda c: c.update(gallery="photos"), "clip.target: clip.gallery and clip.target go together"),
        (lambda c: c["data"]["target"].update(colour="pink"), "clip.data.target.colour: must be one of"),
        (lambda c: c["train"].update(batch_size=1), "clip.train.batch_size: Input should be greater than or equal to 2"),
        (lambda c: c.update(captions=[]), "clip.captions: List should have at least 1 item"),
        (lambda c: c["diagnostic"].update(attributes=["count", "size"]), "clip.diagnostic.attributes: unknown attribute 'size'"),
        (lambda c: c["diagnostic"].update(attributes=["count", "count"]), "clip.diagnostic.attributes: each attribute once"),
        (lambda c: c["train"].update(batch_size=64), "clip.train.batch_size: must be a multiple of clip.data.group_size (6)"),
        (lambda c: c["data"].update(group_size=7), "clip.data.group_size: Input should be less than or equal to 6"),
    ],
)
def test_bad_params_name_the_key(tmp_path, edit, message):
    with pytest.raises(PipelineError) as caught:
        load(_params(tmp_path, edit))
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_prompt_stage_fails_in_one_line_and_writes_nothing(tmp_path):
    gallery = tmp_path / "photos"
    gallery.mkdir()
    _png(gallery / "cat.png")
    (gallery / "readme.md").write_text("# not an image")
    _params(tmp_path, lambda c: c.update(model="ViT-B-32", pretrained="openai", gallery=str(gallery), target="cat.png"))
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    result = subprocess.run(
        [sys.executable, "-m", "stages", "clip", "prompt"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {gallery / 'readme.md'}: not an image (UnidentifiedImageError); remove it from the gallery folder"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dvc.yaml", "params.yaml", "photos"]


def test_study_package_params_stages_and_report_import_no_torch():
    code = (
        "import sys; import pipeline.studies.clip.stages, pipeline.studies.clip.report; "
        "from pipeline.studies.clip.stages import STAGES; assert sorted(STAGES) == ['data', 'prompt', 'train']; "
        "print(sorted(m for m in ('torch', 'open_clip') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
