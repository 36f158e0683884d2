"""Reading, checking and splitting the English/Turkish pairs; checked against independent computations."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from pipeline.core.errors import PipelineError
from pipeline.studies.turkish.data import Pair, read_pairs, shared_english, split_pairs, write_pairs

ROOT = Path(__file__).resolve().parents[3]
RAW = ROOT / "data" / "raw" / "tatoeba_eng_tur.tsv"


def _pairs(sentences: int, translations: int = 3) -> list[Pair]:
    """English sentence i comes with 1 + i % translations Turkish translations."""
    return [Pair(f"english {i}", f"turkish {i} {j}") for i in range(sentences) for j in range(1 + i % translations)]


def test_the_shipped_file_parses_line_by_line():
    lines = RAW.read_text(encoding="utf-8").splitlines()
    pairs = read_pairs(RAW)
    assert len(pairs) == len(lines) == 41098
    assert pairs[0] == Pair("Hi.", "Merhaba.")
    assert [f"{p.english}\t{p.turkish}" for p in pairs[:50]] == lines[:50]


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("Hello.\tMerhaba.\textra", "expected 2 tab-separated fields (English<TAB>Turkish), got 3"),
        ("Hello. Merhaba.", "expected 2 tab-separated fields (English<TAB>Turkish), got 1"),
        ("\tMerhaba.", "the English sentence is empty"),
        ("Hello.\t  ", "the Turkish sentence is empty"),
        ("", "got 1"),
    ],
    ids=["three-fields", "no-tab", "empty-english", "empty-turkish", "blank-line"],
)
def test_a_malformed_line_is_named_by_file_and_line(tmp_path, line, fragment):
    path = tmp_path / "pairs.tsv"
    path.write_text(f"Hi.\tMerhaba.\nRun!\tKoş!\n{line}\nGo.\tGit.\n", encoding="utf-8")
    with pytest.raises(PipelineError) as caught:
        read_pairs(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:3: ") and fragment in message and "\n" not in message


def test_not_utf8_is_one_line(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_bytes("Hi.\tMerhaba.\nGo.\tGit\xfe\n".encode("latin-1"))
    with pytest.raises(PipelineError, match="not UTF-8"):
        read_pairs(path)


def test_split_sizes_and_disjoint_english_checked_independently():
    pairs = _pairs(300)
    splits = split_pairs(pairs, {"train": 200, "val": 40, "test": 30}, seed=3, key="turkish.split")
    assert {k: len(v) for k, v in splits.items()} == {"train": 200, "val": 40, "test": 30}
    english = {split: {p.english for p in taken} for split, taken in splits.items()}
    assert not english["train"] & english["val"] and not english["train"] & english["test"] and not english["val"] & english["test"]
    assert shared_english(splits) == 0
    every = Counter(pairs)
    assert all(every[p] == 1 for taken in splits.values() for p in taken)  # every pair comes from the data, once
    assert len({p for taken in splits.values() for p in taken}) == 270


def test_split_is_seeded_and_a_larger_train_set_keeps_validation_and_test():
    pairs = _pairs(300)
    small = split_pairs(pairs, {"train": 100, "val": 40, "test": 30}, seed=3, key="k")
    assert small == split_pairs(pairs, {"train": 100, "val": 40, "test": 30}, seed=3, key="k")
    assert small != split_pairs(pairs, {"train": 100, "val": 40, "test": 30}, seed=4, key="k")
    large = split_pairs(pairs, {"train": 300, "val": 40, "test": 30}, seed=3, key="k")
    assert large["test"] == small["test"] and large["val"] == small["val"]
    assert large["train"][:100] == small["train"]


def test_not_enough_sentences_names_the_key():
    with pytest.raises(PipelineError) as caught:
        split_pairs(_pairs(20), {"train": 100, "val": 5, "test": 5}, seed=0, key="turkish.split")
    message = str(caught.value)
    assert (
        message.startswith("params.yaml: turkish.split.train_pairs: not enough English sentences") and "39 pairs of 20" in message
    )  # 20 sentences with 1, 2, 3, 1, ... translations


def test_the_real_default_split_has_disjoint_english(tmp_path):
    splits = split_pairs(read_pairs(RAW), {"train": 1000, "val": 100, "test": 100}, seed=0, key="k")
    english = [{p.english for p in splits[s]} for s in ("train", "val", "test")]
    assert sum(len(e) for e in english) == len(set().union(*english))
    for split, taken in splits.items():
        write_pairs(tmp_path / f"{split}.tsv", taken)
        assert read_pairs(tmp_path / f"{split}.tsv") == taken  # the prepared files read back unchanged
