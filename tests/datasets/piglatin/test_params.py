"""The `piglatin` section of params.yaml: every bad edit fails with one line naming the key."""

from __future__ import annotations

import shutil

import pytest

from pipeline.core.errors import PipelineError
from pipeline.core.params import section_checks
from pipeline.datasets.piglatin import params
from tests.params_helpers import PARAMS, params_error, write_params


def _eval(raw: dict) -> dict:
    return raw["piglatin"]["eval"]


def test_real_params_load():
    config = params.load(PARAMS)
    assert config.files == {"small": "data/raw/pig_latin_small.txt", "large": "data/raw/pig_latin_large.txt"}
    assert (config.val_fraction, config.split_seed) == (pytest.approx(0.2), 0)
    assert config.eval.max_decode_len == 20
    assert "i went shopping" in config.eval.sentences


def test_prepared_data_of_a_dataset(tmp_path):
    data = params.load(PARAMS).prepared(tmp_path, "small")
    assert data.folder == tmp_path / "data/prepared/piglatin/small"
    assert data.name == "piglatin-small"
    assert data.data_params == {"val_fraction": pytest.approx(0.2), "split_seed": 0}
    with pytest.raises(PipelineError, match=r"train\.txt: missing; run `dvc repro prepare_piglatin` first$"):
        data.check()


def test_unedited_copy_loads(tmp_path):
    # Guards the helper: a dump/load round trip alone must not break anything.
    params.load(write_params(tmp_path, lambda raw: None))


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda raw: _eval(raw)["sentences"].append("hello world!"),
            "piglatin.eval.sentences.10: character(s) '!' not in the vocabulary, got 'hello world!'",
        ),
        (
            lambda raw: _eval(raw)["sentences"].insert(0, "café 2"),
            "piglatin.eval.sentences.0: character(s) '2', 'é' not in the vocabulary, got 'café 2'",
        ),
        (lambda raw: _eval(raw).update(sentences=[]), "piglatin.eval.sentences: List should have at least 1 item"),
        (
            lambda raw: _eval(raw)["attention_words"].insert(1, "naïve"),
            "piglatin.eval.attention_words.1: character(s) 'ï' not in the vocabulary, got 'naïve'",
        ),
        (lambda raw: _eval(raw).update(max_decode_len=256), "piglatin.eval.max_decode_len: Input should be less than 256, got 256"),
        (lambda raw: _eval(raw).update(max_decode_len=0), "piglatin.eval.max_decode_len: Input should be greater than 0, got 0"),
        (lambda raw: _eval(raw).update(max_len=20), "piglatin.eval.max_len: unknown key (typo?)"),
    ],
    ids=[
        "sentence-bad-char",
        "sentence-two-bad-chars",
        "no-sentences",
        "attention-word-bad-char",
        "decode-len-beyond-positions",
        "decode-len-zero",
        "typo",
    ],
)
def test_bad_eval_names_the_key(tmp_path, edit, expected):
    assert expected in params_error(params.load, write_params(tmp_path, edit))


def test_longest_decode_length_that_fits_the_positions(tmp_path):
    assert params.load(write_params(tmp_path, lambda raw: _eval(raw).update(max_decode_len=255))).eval.max_decode_len == 255


def test_uppercase_sentence_is_accepted_since_translation_lowercases(tmp_path):
    config = params.load(write_params(tmp_path, lambda raw: _eval(raw)["sentences"].append("I Went Shopping")))
    assert "I Went Shopping" in config.eval.sentences


@pytest.mark.parametrize(
    ("edit", "fragments"),
    [
        (lambda raw: raw["piglatin"]["files"].update(Big="x.txt"), ["piglatin.files.Big", "pattern", "'Big'"]),
        (lambda raw: raw["piglatin"]["files"].update({"medium-1": "x.txt"}), ["piglatin.files.medium-1", "'medium-1'"]),
        (lambda raw: raw["piglatin"].update(files={}), ["piglatin.files", "at least 1 item"]),
        (lambda raw: raw["piglatin"]["files"].update(small=3), ["piglatin.files.small", "valid string", "3"]),
        (lambda raw: raw["piglatin"].update(val_fraction=1.5), ["piglatin.val_fraction", "1.5"]),
        (lambda raw: raw["piglatin"].update(val_fraction=0), ["piglatin.val_fraction", "greater than 0"]),
        (lambda raw: raw["piglatin"].update(split_seed=2**32), ["piglatin.split_seed", "4294967296"]),
        (lambda raw: raw["piglatin"].pop("eval"), ["piglatin.eval: required key is missing"]),
        (lambda raw: raw.pop("piglatin"), ["piglatin: required section is missing"]),
    ],
    ids=[
        "dataset-uppercase",
        "dataset-hyphen",
        "no-datasets",
        "file-not-a-string",
        "val-fraction-above-1",
        "val-fraction-zero",
        "split-seed-too-large",
        "no-eval",
        "no-section",
    ],
)
def test_bad_data_settings_name_the_key(tmp_path, edit, fragments):
    message = params_error(params.load, write_params(tmp_path, edit))
    for fragment in fragments:
        assert fragment in message, message


@pytest.mark.parametrize(
    ("val_fraction", "expected"),
    [
        (0.9999, "leaves 0 training and 3191 validation pairs of the 3191 in data/raw/pig_latin_small.txt"),
        (0.0001, "leaves 3191 training and 0 validation pairs of the 3191 in data/raw/pig_latin_small.txt"),
    ],
    ids=["no-training-pair", "no-validation-pair"],
)
def test_a_split_with_an_empty_side_names_val_fraction(tmp_path, val_fraction, expected):
    path = write_params(tmp_path, lambda raw: raw["piglatin"].update(val_fraction=val_fraction))
    config = params.load(path)  # the fraction alone is valid: the data decides
    with pytest.raises(PipelineError) as caught, section_checks(path):
        config.check_split("small", 3191)
    assert str(caught.value) == f"{path}: piglatin.val_fraction: {expected} (each side needs at least one), got {val_fraction}"
    config.check_split("large", 22385)  # 2 training pairs, or 2 validation pairs: enough


def test_prepare_refuses_an_empty_split_before_writing(tmp_path, monkeypatch):
    from pipeline.datasets.piglatin import PREPARED, STATISTICS
    from pipeline.studies.piglatin import stages

    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    write_params(tmp_path, lambda raw: raw["piglatin"].update(val_fraction=0.9999))
    for file in params.load(PARAMS).files.values():
        (tmp_path / file).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PARAMS.parent / file, tmp_path / file)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PipelineError) as caught:
        stages.prepare()
    assert str(caught.value) == (
        "params.yaml: piglatin.val_fraction: leaves 0 training and 3191 validation pairs of the 3191 in "
        "data/raw/pig_latin_small.txt (each side needs at least one), got 0.9999"
    )
    assert not (tmp_path / PREPARED).exists() and not (tmp_path / STATISTICS).exists()


def test_check_dataset_lists_the_prepared_datasets():
    with pytest.raises(ValueError) as caught:
        params.load(PARAMS).check_dataset("medium", "study.run.dataset")
    assert str(caught.value) == "study.run.dataset: must be one of ['large', 'small'] (piglatin.files), got 'medium'"
