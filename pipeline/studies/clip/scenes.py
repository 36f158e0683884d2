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
- train: twin groups of `group_size` consecutive scenes, (an anchor drawn uniformly, then
  twins of it that each differ from it in one slot, a different slot for each twin):
  batches keep groups together, so every batch holds the hard negatives the gallery is made
  of; each image has its own random placement and sizes;
- validation: blocks of 100 *distinct* scenes, so retrieval "image -> its caption among
  the 100 captions of its block" has exactly one right answer and chance level 1/100;
- gallery: a target scene plus hard distractors, each differing from the target in exactly
  one attribute (every other value of every slot);
- twins (the attribute diagnostic): pairs equal in everything but one attribute, drawn from
  the same placement draws.
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
SHAPE_GAP = 0.04  # least space between two shapes' boxes: over a pixel at 32x32, so shapes do not merge
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


def parse_caption(caption: str) -> dict[str, object] | None:
    """The partial scene description a grammar caption renders from; None if no grammar
    caption reads like that (e.g. a free-form caption written for real photos)."""
    return _GRAMMAR_CAPTIONS.get(caption)


def _grammar_captions() -> dict[str, dict[str, object]]:
    captions = {}
    for named in itertools.product((False, True), repeat=len(SLOTS)):
        slots = [slot for slot, on in zip(SLOTS, named) if on]
        for values in itertools.product(*(VOCABULARY[slot] for slot in slots)):
            attributes = dict(zip(slots, values))
            captions[render_caption(attributes)] = attributes
    return captions


_GRAMMAR_CAPTIONS = _grammar_captions()  # every caption of the grammar: 4 x 6 x 4 x 6 x 4 = 2,304


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


def _place(scene: Scene, rng: np.random.Generator, attempts: int = 50, restarts: int = 1000) -> list[tuple[float, float, float]]:
    """Boxes (x0, y0, side) inside the scene's region, `SHAPE_GAP` apart, so every shape of
    the count can be seen. Shapes are placed one by one (`attempts` random tries each); a
    layout whose last shapes find no room is drawn again from the start (three shapes in
    the middle region need about five layouts on average)."""
    rx0, ry0, rx1, ry1 = REGIONS[scene.position]
    for _restart in range(restarts):
        boxes: list[tuple[float, float, float]] = []
        for _ in range(scene.count):
            for _attempt in range(attempts):
                side = SHAPE_SIZE * rng.uniform(0.9, 1.1)
                box = (rng.uniform(rx0, rx1 - side), rng.uniform(ry0, ry1 - side), side)
                if all(_apart(box, other) for other in boxes):
                    boxes.append(box)
                    break
            else:
                break  # no room left for this shape: start the layout again
        if len(boxes) == scene.count:
            return boxes
    raise ValueError(f"no layout of {scene.count} shapes {SHAPE_GAP} apart in region {scene.position!r} after {restarts} tries")


def _apart(a: tuple[float, float, float], b: tuple[float, float, float], gap: float = SHAPE_GAP) -> bool:
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


def train_split(seed: int, size: int, image_size: int, group_size: int) -> SceneSet:
    """`size` scenes in twin groups of `group_size`: an anchor, then `group_size - 1` twins of
    it in distinct random slots. A size that is not a multiple ends with a shorter group."""
    if not 2 <= group_size <= len(SLOTS) + 1:
        raise ValueError(f"group_size must be 2..{len(SLOTS) + 1} (an anchor and at most one twin per slot), got {group_size}")
    rng = np.random.default_rng([seed, 0])
    catalogue = all_scenes()
    scenes = []
    while len(scenes) < size:
        anchor = catalogue[rng.integers(len(catalogue))]
        slots = rng.permutation(len(SLOTS))[: group_size - 1]
        scenes += [anchor] + [twin(anchor, SLOTS[slot], rng) for slot in slots]
    scenes = scenes[:size]
    return SceneSet(np.stack([draw_scene(s, rng, image_size) for s in scenes]), scenes)


def twin(scene: Scene, slot: str, rng: np.random.Generator) -> Scene:
    """`scene` with `slot` set to another random value of its vocabulary."""
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


@dataclass
class Twins:
    """Held-out twin pairs for the attribute diagnostic: pair k is (first.scenes[k],
    second.scenes[k]), two scenes equal in every slot but `attribute[k]`; both captions of
    the pair name the slots `named[k]`, which always include that attribute."""

    attribute: list[str]
    first: SceneSet
    second: SceneSet
    named: list[tuple[str, ...]]

    def captions(self) -> tuple[list[str], list[str]]:
        """(first captions, second captions): the pair's two captions differ only in the attribute."""
        return (
            [scene.caption(slots) for scene, slots in zip(self.first.scenes, self.named)],
            [scene.caption(slots) for scene, slots in zip(self.second.scenes, self.named)],
        )


def twin_split(seed: int, attributes: tuple[str, ...], pairs: int, image_size: int) -> Twins:
    """`pairs` twin pairs per attribute, from a random stream no other split uses.

    Each pair is drawn twice from one placement seed, so the twins share their random draws:
    colour, shape and background twins have identical boxes; count and position twins start
    from the same draws (a layout that needs another try then goes its own way). Each caption
    names the attribute and every other slot with probability 1/2 (partial captions are what
    the caption search scores).
    """
    unknown = [a for a in attributes if a not in SLOTS]
    if unknown:
        raise ValueError(f"unknown attribute(s) {unknown}; the scenes have {list(SLOTS)}")
    rng = np.random.default_rng([seed, 3])
    catalogue = all_scenes()
    labels, firsts, seconds, named, first_images, second_images = [], [], [], [], [], []
    for attribute in attributes:
        for _ in range(pairs):
            scene = catalogue[rng.integers(len(catalogue))]
            other = twin(scene, attribute, rng)
            placement = int(rng.integers(2**32))
            first_images.append(draw_scene(scene, np.random.default_rng(placement), image_size))
            second_images.append(draw_scene(other, np.random.default_rng(placement), image_size))
            labels.append(attribute)
            firsts.append(scene)
            seconds.append(other)
            named.append(tuple(slot for slot in SLOTS if slot == attribute or rng.random() < 0.5))
    return Twins(labels, SceneSet(np.stack(first_images), firsts), SceneSet(np.stack(second_images), seconds), named)
