"""`dvc exp run -S key=value` changes exactly the line of that key in params.yaml, comments kept.

DVC applies `-S` in `BaseStashQueue._update_params`, which (Hydra composition being off in this
project) calls `dvc.utils.hydra.apply_overrides`: it loads params.yaml with ruamel's round-trip
loader, applies the overrides with Hydra/OmegaConf, merges the result back key by key and dumps
the whole file with DVC's ruamel settings. Every value is replaced on the way, so the dump
rewrites whatever is not in that writer's own layout: a list comes back in block style with
its dashes at its key's indentation (a flow list `[a, b]` becomes one line per item, and a
comment or blank line after a list is dropped with it), a line longer than 80 columns is
wrapped (flow mappings and plain strings, with trailing spaces), quotes are dropped and `null`
is written as nothing. params.yaml is kept in that layout; these tests run DVC's own function
on a copy of it.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from dvc.config import Config
from dvc.repo.experiments.queue.base import BaseStashQueue
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "params.yaml"


def dvc_set_params(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, overrides: list[str]) -> str:
    """params.yaml after `dvc exp run -S <override> ...` rewrote it: DVC's own code on a copy in `tmp_path`."""
    shutil.copyfile(PARAMS, tmp_path / "params.yaml")
    # The project's DVC config decides whether -S goes through Hydra composition instead.
    queue = SimpleNamespace(
        repo=SimpleNamespace(config=Config(dvc_dir=str(ROOT / ".dvc"))),
        scm=SimpleNamespace(add=lambda paths: None),  # -S stages the file in git; nothing to stage here
    )
    monkeypatch.chdir(tmp_path)
    BaseStashQueue._update_params(queue, {"params.yaml": overrides})  # type: ignore[arg-type]
    return (tmp_path / "params.yaml").read_text(encoding="utf-8")


def line_of(path: tuple[str | int, ...]) -> int:
    """The 0-based line of params.yaml on which the value at `path` (keys and list indices) is written."""
    node = YAML(typ="rt").load(PARAMS.read_text(encoding="utf-8"))
    for step in path[:-1]:
        node = node[step]
    last = path[-1]
    return node.lc.item(last)[0] if isinstance(last, int) else node.lc.key(last)[0]


def changed_lines(before: str, after: str) -> list[tuple[str, int, int, int, int]]:
    """The non-equal opcodes of a line diff: (tag, first old line, end, first new line, end)."""
    matcher = difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines(), autojunk=False)
    return [opcode for opcode in matcher.get_opcodes() if opcode[0] != "equal"]


def unified(before: str, after: str) -> str:
    return "\n".join(difflib.unified_diff(before.splitlines(), after.splitlines(), "params.yaml", "after -S", lineterm=""))


def test_dvc_round_trip_leaves_params_yaml_unchanged(tmp_path, monkeypatch):
    original = PARAMS.read_text(encoding="utf-8")
    after = dvc_set_params(tmp_path, monkeypatch, [])
    assert yaml.safe_load(after) == yaml.safe_load(original)
    assert after == original, "DVC's writer reformats params.yaml:\n" + unified(original, after)


@pytest.mark.parametrize(
    ("override", "path", "value"),
    [
        # The README's example: a key of a run in a mapping of mappings.
        ("transformer.runs.h32-small.epochs=20", ("transformer", "runs", "h32-small", "epochs"), 20),
        ("transformer.runs.h32-small.lr=1e-3", ("transformer", "runs", "h32-small", "lr"), 1e-3),
        # Top-level scalar.
        ("seed=7", ("seed",), 7),
        # A nested block key (many sections have an `epochs`), and others the comments suggest.
        ("bert.recipe.epochs=5", ("bert", "recipe", "epochs"), 5),
        ("gpt.recipe.max_length=7", ("gpt", "recipe", "max_length"), 7),
        ("turkish.split.train_pairs=10000", ("turkish", "split", "train_pairs"), 10000),
        ("bert.checkpoint_set=assignment", ("bert", "checkpoint_set"), "assignment"),
        ("add2digits.extended.preset=large", ("add2digits", "extended", "preset"), "large"),
        ("clip.gallery=/data/gallery", ("clip", "gallery"), "/data/gallery"),
        # A value inside a flow mapping.
        ("bert.variants.finetune.epochs=12", ("bert", "variants", "finetune", "epochs"), 12),
        ("turkish.wordpiece.vocab_size=2000", ("turkish", "wordpiece", "vocab_size"), 2000),
        # A list value of the same length: only the item that differs changes.
        ("written.conv_kernel=[2,0,3]", ("written", "conv_kernel", 2), [2, 0, 3]),
    ],
)
def test_set_param_changes_only_the_line_of_its_key(tmp_path, monkeypatch, override, path, value):
    original = PARAMS.read_text(encoding="utf-8")
    after = dvc_set_params(tmp_path, monkeypatch, [override])

    line = line_of(path)
    assert changed_lines(original, after) == [("replace", line, line + 1, line, line + 1)], unified(original, after)
    old, new = original.splitlines()[line], after.splitlines()[line]
    assert old.partition(" #")[2] == new.partition(" #")[2], (old, new)  # the key's comment is kept

    expected = yaml.safe_load(original)
    keys = [step for step in path if isinstance(step, str)]
    parent = expected
    for key in keys[:-1]:
        parent = parent[key]
    parent[keys[-1]] = value
    assert yaml.safe_load(after) == expected


def test_a_longer_list_only_adds_its_new_items(tmp_path, monkeypatch):
    # The README's way to train the IsoFLOP grid with a third seed.
    original = PARAMS.read_text(encoding="utf-8")
    after = dvc_set_params(tmp_path, monkeypatch, ["isoflop.matrix.seed=[0,1,2]"])
    last = line_of(("isoflop", "matrix", "seed", 1))
    assert changed_lines(original, after) == [("insert", last + 1, last + 1, last + 1, last + 2)], unified(original, after)
    assert yaml.safe_load(after)["isoflop"]["matrix"]["seed"] == [0, 1, 2]


def test_an_added_variant_only_adds_lines(tmp_path, monkeypatch):
    # The override the GPT section's comment gives for the frozen variant.
    original = PARAMS.read_text(encoding="utf-8")
    after = dvc_set_params(tmp_path, monkeypatch, ["+gpt.variants.frozen={freeze_backbone: true}"])
    assert [opcode[0] for opcode in changed_lines(original, after)] == ["insert"], unified(original, after)
    expected = yaml.safe_load(original)
    expected["gpt"]["variants"]["frozen"] = {"freeze_backbone": True}
    assert yaml.safe_load(after) == expected
