"""English/Turkish sentence pairs: reading and checking them, the seeded split, statistics.

The Tatoeba file has one `English<TAB>Turkish` pair per line; an English sentence may
come with several Turkish translations (several lines). A malformed line fails with
`file:line: what is wrong`. The split keeps every English sentence, with all its
translations, in one split only, so no test target was seen in training; the test and
validation sets are drawn first, so a larger training set leaves them unchanged.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.core.errors import PipelineError
from pipeline.core.io import read_text
from pipeline.studies.turkish import SPLITS


@dataclass(frozen=True)
class Pair:
    english: str  # the target
    turkish: str  # the source


def read_pairs(path: Path) -> list[Pair]:
    """Every line of a TSV of `English<TAB>Turkish` pairs; a bad line fails with `file:line`."""
    path = Path(path)
    text = read_text(path)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline
    pairs = []
    for number, line in enumerate(lines, start=1):
        try:
            pairs.append(parse_line(line))
        except ValueError as error:
            raise PipelineError(f"{path}:{number}: {error}") from None
    if not pairs:
        raise PipelineError(f"{path}: no sentence pairs")
    return pairs


def parse_line(line: str) -> Pair:
    fields = line.rstrip("\r").split("\t")
    if len(fields) != 2:
        raise ValueError(f"expected 2 tab-separated fields (English<TAB>Turkish), got {len(fields)}: {line[:60]!r}")
    english, turkish = (field.strip() for field in fields)
    if not english or not turkish:
        side = "English" if not english else "Turkish"
        raise ValueError(f"the {side} sentence is empty: {line[:60]!r}")
    return Pair(english, turkish)


def write_pairs(path: Path, pairs: list[Pair]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.writelines(f"{pair.english}\t{pair.turkish}\n" for pair in pairs)


def split_pairs(pairs: list[Pair], sizes: dict[str, int], seed: int, key: str) -> dict[str, list[Pair]]:
    """`sizes[split]` pairs per split, whole English sentences only, drawn in a seeded order.

    Test, then validation, then train take English sentences (each with every translation)
    from one seeded permutation; the sentence that fills a split is cut to its size and the
    rest of its translations are dropped, never given to another split.
    """
    by_english: dict[str, list[Pair]] = defaultdict(list)
    for pair in pairs:
        by_english[pair.english].append(pair)
    sentences = list(by_english)  # first-appearance order: deterministic
    order = np.random.default_rng(seed).permutation(len(sentences))
    splits: dict[str, list[Pair]] = {}
    position = 0
    for split in ("test", "val", "train"):
        taken: list[Pair] = []
        while len(taken) < sizes[split]:
            if position == len(sentences):
                needed = sum(sizes.values())
                raise PipelineError(
                    f"params.yaml: {key}.{split}_pairs: not enough English sentences for "
                    f"{sizes['train']} train + {sizes['val']} validation + {sizes['test']} test pairs "
                    f"({needed} in all; the data has {len(pairs)} pairs of {len(sentences)} English sentences)"
                )
            taken += by_english[sentences[order[position]]][: sizes[split] - len(taken)]
            position += 1
        splits[split] = taken
    return {split: splits[split] for split in SPLITS}


def shared_english(splits: dict[str, list[Pair]]) -> int:
    """English sentences found in more than one split (0 for our split)."""
    seen: dict[str, set[str]] = defaultdict(set)
    for split, pairs in splits.items():
        for pair in pairs:
            seen[pair.english].add(split)
    return sum(len(found) > 1 for found in seen.values())


def split_statistics(pairs: list[Pair]) -> dict:
    def words(texts: list[str]) -> dict:
        counts = [len(t.split()) for t in texts]
        return {"mean": round(statistics.fmean(counts), 3), "max": max(counts)}

    return {
        "pairs": len(pairs),
        "english_sentences": len({p.english for p in pairs}),
        "english_words": words([p.english for p in pairs]),
        "turkish_words": words([p.turkish for p in pairs]),
    }


def require_datasets(key: str) -> None:
    """The `datasets` package, needed by `wmt16`: not a dependency of the project, so its absence
    is a one-line error saying how to add it or switch back, given before anything touches the network."""
    if importlib.util.find_spec("datasets") is None:
        raise PipelineError(
            f"params.yaml: {key}: 'wmt16' needs the `datasets` package, which is not installed; "
            "run `uv add datasets`, or switch back with `dvc exp run -S turkish.source=offline`"
        )


def load_wmt16(sizes: dict[str, int], download: bool, key: str) -> dict[str, list[Pair]]:
    """The reference's data: the first pairs of `wmt16` tr-en's train, validation and test splits.

    Through the `datasets` package (`require_datasets`). When the hub cannot be reached,
    only the local cache is read, so a copy missing there fails at once instead of after
    the download's retries.
    """
    require_datasets(key)
    offline = ""  # why the hub cannot be reached, if it cannot
    if download:
        from huggingface_hub import constants

        from pipeline.core.hub import unreachable

        offline = unreachable("wmt16", repo_type="dataset") or ""
        if offline:
            download = False
            os.environ["HF_HUB_OFFLINE"] = "1"  # read by `datasets` when imported, below
            constants.HF_HUB_OFFLINE = True  # huggingface_hub read it already
    import datasets

    hub_split = {"train": "train", "val": "validation", "test": "test"}
    try:
        loaded = {
            split: datasets.load_dataset(
                "wmt16", "tr-en", split=f"{hub_split[split]}[:{sizes[split]}]", download_mode=None if download else "reuse_cache_if_exists"
            )
            for split in SPLITS
        }
    except Exception as error:  # noqa: BLE001 - offline, not cached, renamed...: one line either way
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if offline:
            reason = f"not in the local cache and the hub cannot be reached: {offline}; {reason}"
        raise PipelineError(
            f"params.yaml: {key}: cannot load 'wmt16' tr-en ({reason}); switch back with `dvc exp run -S turkish.source=offline`"
        ) from None
    return {
        split: [Pair(row["translation"]["en"].strip(), row["translation"]["tr"].strip()) for row in rows] for split, rows in loaded.items()
    }
