"""Synthetic captioned scenes: small images drawn from a scene description, and captions
generated from the same description.

A scene has five attributes (the caption grammar's slots), each from a fixed vocabulary:

    count       1, 2, 3                                      ("one", "two", "three")
    colour      red, green, blue, yellow, purple
    shape       circle, square, triangle
    position    top left, top right, bottom left, bottom right, middle   (where the shapes are)
    background  white, black, gray

A caption names any subset of the slots, in a fixed order:

    [count | "a"] [colour] [shape | "shape"](s) [position phrase] [on a <background> background]

e.g. all slots: "two red circles at the top left on a white background"; count and colour only:
"two red shapes"; shape only: "a circle". Leaving a slot out means "any value", which is
what the caption search uses to find short captions.

Splits (all deterministic for a seed):
- train: pairs of scenes, (a scene drawn uniformly, a copy with one random slot changed),
  at positions (2k, 2k+1): batches keep pairs together, so every batch holds the hard
  negatives the gallery is made of; each image has its own random placement and sizes;
- validation: blocks of 100 *distinct* scenes, so retrieval "image -> its caption among
  the 100 captions of its block" has exactly one right answer and chance level 1/100;
- gallery: a target scene plus hard distractors, each differing from the target in exactly
  one attribute (every other value of every slot).
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, replace

import numpy as np
from PIL import Image, ImageDraw

COUNTS = (1, 2, 3)
COLOURS = {"red": (220, 40, 40), "green": (40, 170, 60), "blue": (40, 80, 230), "yellow": (235, 205, 30), "purple": (150, 60, 200)}
SHAPES = ("circle", "square", "triangle")
POSITIONS = ("top left", "top right", "bottom left", "bottom right", "middle")
BACKGROUNDS = {"white": (245, 245, 245), "black": (15, 15, 15), "gray": (128, 128, 128)}

# The grammar's slots in caption order, and the values each can take.
SLOTS = ("count", "colour", "shape", "position", "background")
VOCABULARY: dict[str, tuple] = {
    "count": COUNTS,
    "colour": tuple(COLOURS),
    "shape": SHAPES,
    "position": POSITIONS,
    "background": tuple(BACKGROUNDS),
}
COUNT_WORDS = {1: "one", 2: "two", 3: "three"}
POSITION_PHRASES = {position: f"at the {position}" for position in POSITIONS} | {"middle": "in the middle"}
# Region of the image (x0, y0, x1, y1 as fractions) holding the shapes' boxes. The corner
# regions do not overlap, and their shapes' centres stay out of the middle region's: a
# scene's position can be read off the image (left/right/top/bottom halves would be
# ambiguous: two shapes at the top left are "on the left" and "at the top" at once).
REGIONS = {
    "top left": (0.0, 0.0, 0.48, 0.48),
    "top right": (0.52, 0.0, 1.0, 0.48),
    "bottom left": (0.0, 0.52, 0.48, 1.0),
    "bottom right": (0.52, 0.52, 1.0, 1.0),
    "middle": (0.27, 0.27, 0.73, 0.73),
}
SHAPE_SIZE = 0.18  # side of a shape's bounding box, as a fraction of the image side
SUPERSAMPLE = 4  # draw larger, then downsample: smooth edges at 32x32


@dataclass(frozen=True)
class Scene:
    count: int
    colour: str
    shape: str
    position: str
    background: str

    def __post_init__(self) -> None:
        for slot in SLOTS:
            value = getattr(self, slot)
            if value not in VOCABULARY[slot]:
                raise ValueError(f"{slot} must be one of {list(VOCABULARY[slot])}, got {value!r}")

    def caption(self, slots: tuple[str, ...] = SLOTS) -> str:
        """The caption naming only `slots` (any order given; rendered in grammar order)."""
        return render_caption({slot: getattr(self, slot) for slot in slots})


def render_caption(attributes: dict[str, object]) -> str:
    """Caption for a partial scene description {slot: value}; missing slots are left out."""
    unknown = set(attributes) - set(SLOTS)
    if unknown:
        raise ValueError(f"unknown caption slot(s) {sorted(unknown)}; slots are {list(SLOTS)}")
    count = attributes.get("count")
    words = [COUNT_WORDS[count] if count is not None else "a"]
    if "colour" in attributes:
        words.append(str(attributes["colour"]))
    noun = str(attributes.get("shape", "shape"))
    words.append(noun + "s" if count is not None and count > 1 else noun)
    if "position" in attributes:
        words.append(POSITION_PHRASES[str(attributes["position"])])
    if "background" in attributes:
        words.append(f"on a {attributes['background']} background")
    return " ".join(words)


def all_scenes() -> list[Scene]:
    return [Scene(*values) for values in itertools.product(*(VOCABULARY[slot] for slot in SLOTS))]


# ------------------------------------------------------------------------- drawing


def draw_scene(scene: Scene, rng: np.random.Generator, size: int) -> np.ndarray:
    """Draw `scene` as a (size, size, 3) uint8 image; placement and sizes come from `rng`."""
    big = size * SUPERSAMPLE
    image = Image.new("RGB", (big, big), BACKGROUNDS[scene.background])
    draw = ImageDraw.Draw(image)
    for x0, y0, side in _place(scene, rng):
        box = [x0 * big, y0 * big, (x0 + side) * big, (y0 + side) * big]
        colour = COLOURS[scene.colour]
        if scene.shape == "circle":
            draw.ellipse(box, fill=colour)
        elif scene.shape == "square":
            draw.rectangle(box, fill=colour)
        else:  # triangle, apex up
            draw.polygon([(box[0], box[3]), (box[2], box[3]), ((box[0] + box[2]) / 2, box[1])], fill=colour)
    return np.asarray(image.resize((size, size), Image.Resampling.BOX))


def _place(scene: Scene, rng: np.random.Generator, attempts: int = 50) -> list[tuple[float, float, float]]:
    """Non-overlapping boxes (x0, y0, side) inside the scene's region (overlap allowed only
    if `attempts` random tries per shape all failed, which tiny regions can cause)."""
    rx0, ry0, rx1, ry1 = REGIONS[scene.position]
    boxes: list[tuple[float, float, float]] = []
    for _ in range(scene.count):
        for _attempt in range(attempts):
            side = SHAPE_SIZE * rng.uniform(0.9, 1.1)
            x0 = rng.uniform(rx0, max(rx0, rx1 - side))
            y0 = rng.uniform(ry0, max(ry0, ry1 - side))
            if all(_apart((x0, y0, side), other) for other in boxes):
                break
        boxes.append((x0, y0, side))
    return boxes


def _apart(a: tuple[float, float, float], b: tuple[float, float, float], gap: float = 0.02) -> bool:
    (ax, ay, aside), (bx, by, bside) = a, b
    return ax + aside + gap <= bx or bx + bside + gap <= ax or ay + aside + gap <= by or by + bside + gap <= ay


# -------------------------------------------------------------------------- splits


@dataclass
class SceneSet:
    """Images (N, S, S, 3) uint8 with the scene each was drawn from."""

    images: np.ndarray
    scenes: list[Scene]

    def table(self) -> list[dict]:
        return [asdict(scene) for scene in self.scenes]


def train_split(seed: int, size: int, image_size: int) -> SceneSet:
    """`size` scenes as (scene, one-slot neighbour) pairs; an odd size ends with a lone scene."""
    rng = np.random.default_rng([seed, 0])
    catalogue = all_scenes()
    scenes = []
    while len(scenes) < size:
        scene = catalogue[rng.integers(len(catalogue))]
        scenes += [scene, neighbour(scene, rng)]
    scenes = scenes[:size]
    return SceneSet(np.stack([draw_scene(s, rng, image_size) for s in scenes]), scenes)


def neighbour(scene: Scene, rng: np.random.Generator) -> Scene:
    """`scene` with one random slot set to another random value of its vocabulary."""
    slot = SLOTS[rng.integers(len(SLOTS))]
    others = [value for value in VOCABULARY[slot] if value != getattr(scene, slot)]
    return replace(scene, **{slot: others[rng.integers(len(others))]})


def differing_slots(a: Scene, b: Scene) -> tuple[str, ...]:
    return tuple(slot for slot in SLOTS if getattr(a, slot) != getattr(b, slot))


def validation_split(seed: int, blocks: int, image_size: int, block_size: int = 100) -> SceneSet:
    """`blocks` blocks of `block_size` distinct scenes each (retrieval candidates per block)."""
    rng = np.random.default_rng([seed, 1])
    catalogue = all_scenes()
    scenes = []
    for _ in range(blocks):
        scenes += [catalogue[i] for i in rng.choice(len(catalogue), size=block_size, replace=False)]
    return SceneSet(np.stack([draw_scene(s, rng, image_size) for s in scenes]), scenes)


def gallery_scenes(target: Scene) -> list[tuple[Scene, str]]:
    """The target, then every scene differing from it in exactly one slot.

    Returns (scene, how it differs) pairs, e.g. (Scene(count=3, ...), "count=3").
    """
    gallery = [(target, "target")]
    for slot in SLOTS:
        for value in VOCABULARY[slot]:
            if value != getattr(target, slot):
                gallery.append((replace(target, **{slot: value}), f"{slot}={value}"))
    return gallery


def gallery_split(seed: int, target: Scene, image_size: int) -> tuple[SceneSet, list[str]]:
    rng = np.random.default_rng([seed, 2])
    pairs = gallery_scenes(target)
    scenes = [scene for scene, _ in pairs]
    return SceneSet(np.stack([draw_scene(s, rng, image_size) for s in scenes]), scenes), [d for _, d in pairs]
