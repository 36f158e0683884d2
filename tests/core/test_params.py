"""The params loader: every bad edit fails with one line `file[:line]: key.path: problem, got value`.

Checked on a small schema written here; each study's own rules are tested in
tests/studies/<study>/test_params.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError, field_validator, model_validator

from pipeline.core.errors import PipelineError
from pipeline.core.params import (
    Float,
    PositiveFloat,
    PositiveInt,
    Range,
    Schema,
    Seed,
    SharedParams,
    Slug,
    StudySetup,
    check_top_level,
    load_section,
    load_shared,
    load_study,
    read_params,
    require_known,
    section_checks,
    validate,
)

ROOT = Path(__file__).resolve().parents[2]


class Run(Schema):
    size: PositiveInt
    lr: PositiveFloat
    decay: Float = 1.0
    name: Slug = "run"
    seed: Seed = 0

    @field_validator("size")
    @classmethod
    def _even(cls, size: int) -> int:
        if size % 2:
            raise ValueError(f"must be even, got {size}")
        return size


class Demo(Schema):
    runs: dict[str, Run]
    budgets: list[PositiveFloat]
    range: Range = (0.0, 1.0)

    @model_validator(mode="after")
    def _few_budgets(self) -> Demo:
        # A section-level check names the key below the section itself.
        if len(self.budgets) > 3:
            raise ValueError(f"budgets: at most three, got {len(self.budgets)}")
        return self


SHARED = "profile: test\nseed: 1\ndevice: cpu\n"
GOOD = SHARED + "demo:\n  runs:\n    a: {size: 2, lr: 0.5}\n  budgets: [1.0, 2.0]\n"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _error(call, path: Path) -> str:
    with pytest.raises(PipelineError) as caught:
        call(path)
    message = str(caught.value)
    assert "\n" not in message, message
    assert message.startswith(f"{path}"), message
    return message


def _section_error(tmp_path: Path, text: str) -> str:
    return _error(lambda path: load_section("demo", Demo, path), _write(tmp_path, text))


def test_good_section_loads(tmp_path):
    demo = load_section("demo", Demo, _write(tmp_path, GOOD))
    assert demo.runs["a"] == Run(size=2, lr=0.5)
    assert demo.budgets == [1.0, 2.0] and demo.range == (0.0, 1.0)
    assert load_shared(_write(tmp_path, GOOD)) == SharedParams(profile="test", seed=1, device="cpu")


def _run_edit(entry: str) -> str:
    return SHARED + f"demo:\n  runs:\n    a: {entry}\n  budgets: [1.0, 2.0]\n"


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("{size: -2, lr: 1}", "demo.runs.a.size: Input should be greater than 0, got -2"),
        ("{size: 3, lr: 1}", "demo.runs.a.size: must be even, got 3"),
        ("{size: 2.0, lr: 1}", "demo.runs.a.size: Input should be a valid integer, got 2.0"),
        ("{size: '2', lr: 1}", "demo.runs.a.size: Input should be a valid integer, got '2'"),
        ("{size: 2, lr: fast}", "demo.runs.a.lr: Input should be a valid number, unable to parse string as a number, got 'fast'"),
        ("{size: 2, lr: -0.1}", "demo.runs.a.lr: Input should be greater than 0, got -0.1"),
        ("{size: 2, lr: .inf}", "demo.runs.a.lr: Input should be a finite number, got inf"),
        ("{size: 2, lr: .nan}", "demo.runs.a.lr: Input should be a finite number, got nan"),
        ("{size: 2, lr: 1, decay: -.inf}", "demo.runs.a.decay: Input should be a finite number, got -inf"),
        ("{size: 2, lr: 1, sise: 3}", "demo.runs.a.sise: unknown key (typo?)"),
        ("{lr: 1}", "demo.runs.a.size: required key is missing"),
        ("{size: 2, lr: 1, name: Big}", "demo.runs.a.name: String should match pattern '^[a-z0-9_]+$', got 'Big'"),
        ("{size: 2, lr: 1, seed: 4294967296}", "demo.runs.a.seed: Input should be less than 4294967296, got 4294967296"),
        ("{size: 2, lr: 1, seed: -1}", "demo.runs.a.seed: Input should be greater than or equal to 0, got -1"),
        ("5", "demo.runs.a: Input should be a valid dictionary or instance of Run, got 5"),
    ],
    ids=[
        "negative",
        "validator",
        "float-for-int",
        "string-for-int",
        "word-for-float",
        "negative-float",
        "infinite-float",
        "nan-float",
        "minus-infinite-float",
        "typo-key",
        "missing-key",
        "slug",
        "seed-too-large",
        "negative-seed",
        "not-a-mapping",
    ],
)
def test_bad_value_names_the_full_key_and_the_value(tmp_path, entry, expected):
    path = _write(tmp_path, _run_edit(entry))
    assert _error(lambda p: load_section("demo", Demo, p), path) == f"{path}: {expected}"


def test_list_items_are_named_by_index(tmp_path):
    message = _section_error(tmp_path, SHARED + "demo: {runs: {}, budgets: [1.0, 0]}\n")
    assert message.endswith(": demo.budgets.1: Input should be greater than 0, got 0")


def test_section_level_check_names_its_key(tmp_path):
    message = _section_error(tmp_path, SHARED + "demo: {runs: {}, budgets: [1, 2, 3, 4]}\n")
    assert message.endswith(": demo.budgets: at most three, got 4")


def test_range_needs_two_numbers(tmp_path):
    message = _section_error(tmp_path, SHARED + "demo: {runs: {}, budgets: [1], range: [1]}\n")
    assert message.endswith(": demo.range.1: required key is missing")


def test_range_written_max_first_is_refused(tmp_path):
    path = _write(tmp_path, SHARED + "demo: {runs: {}, budgets: [1], range: [0.9, 0.1]}\n")
    message = _error(lambda p: load_section("demo", Demo, p), path)
    assert message == f"{path}: demo.range: must be [min, max] with min <= max, got [0.9, 0.1]"
    assert load_section("demo", Demo, _write(tmp_path, SHARED + "demo: {runs: {}, budgets: [1], range: [0.5, 0.5]}\n")).range == (0.5, 0.5)


def test_range_bounds_are_finite(tmp_path):
    message = _section_error(tmp_path, SHARED + "demo: {runs: {}, budgets: [1], range: [0, .inf]}\n")
    assert message.endswith(": demo.range.1: Input should be a finite number, got inf")


@pytest.mark.parametrize("value", ["5", "[1, 2]"])
def test_section_that_is_not_a_mapping(tmp_path, value):
    message = _section_error(tmp_path, SHARED + f"demo: {value}\n")
    assert ": demo: expected a mapping of settings, got " in message


def test_missing_section(tmp_path):
    path = _write(tmp_path, SHARED)
    assert _error(lambda p: load_section("demo", Demo, p), path) == f"{path}: demo: required section is missing"


def test_floats_written_without_a_dot_are_floats(tmp_path):
    # YAML 1.1 reads 5e-4 (no dot) as a string and 1 as an int; float fields take both.
    demo = load_section("demo", Demo, _write(tmp_path, _run_edit("{size: 2, lr: 5e-4, decay: 1}")))
    assert demo.runs["a"].lr == pytest.approx(5e-4) and isinstance(demo.runs["a"].lr, float)
    assert demo.runs["a"].decay == 1.0 and isinstance(demo.runs["a"].decay, float)


def test_params_are_frozen(tmp_path):
    demo = load_section("demo", Demo, _write(tmp_path, GOOD))
    with pytest.raises(ValidationError):
        demo.runs["a"].size = 4


def test_validate_names_the_given_key_and_file():
    with pytest.raises(PipelineError) as caught:
        validate(Run, {"size": 2, "lr": 0}, "study.runs.x", "other.yaml")
    assert str(caught.value) == "other.yaml: study.runs.x.lr: Input should be greater than 0, got 0"
    with pytest.raises(PipelineError) as caught:
        validate(Run, {"size": 2, "lr": 1, "extra": 1}, "")
    assert str(caught.value) == "params.yaml: extra: unknown key (typo?)"


# ------------------------------------------------------------------ the file itself


def test_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    assert _error(read_params, path) == f"{path}: file not found (run from the project root)"
    assert _error(load_shared, path) == f"{path}: file not found (run from the project root)"


def test_invalid_yaml_names_the_line(tmp_path):
    path = _write(tmp_path, "seed: 1\ndevice: [cpu\ndata: {}\n")
    message = _error(read_params, path)
    # Where the parser notices the unclosed '['.
    assert message.startswith(f"{path}:3: not valid YAML (")
    assert _error(lambda p: load_section("demo", Demo, p), path).startswith(f"{path}:3: ")


@pytest.mark.parametrize(
    ("text", "line", "key", "first"),
    [
        ("seed: 1\ndevice: cpu\nseed: 2\n", 3, "seed", 1),  # top level: PyYAML would keep 2 silently
        ("demo:\n  runs:\n    a: {lr: 1, lr: 2}\n", 3, "lr", 3),  # inside a flow mapping
        ("demo:\n  size: 3\n  # a comment\n  size: 4\n", 4, "size", 2),
    ],
)
def test_a_duplicate_key_is_refused_with_both_lines(tmp_path, text, line, key, first):
    path = _write(tmp_path, text)
    assert _error(read_params, path) == f"{path}:{line}: not valid YAML (duplicate key {key!r}, first at line {first})"


def test_the_same_key_in_two_mappings_is_no_duplicate(tmp_path):
    path = _write(tmp_path, "a: {lr: 1}\nb: {lr: 2}\n")
    assert read_params(path) == {"a": {"lr": 1}, "b": {"lr": 2}}


@pytest.mark.parametrize("text", ["- 1\n- 2\n", "just text\n", ""])
def test_top_level_not_a_mapping(tmp_path, text):
    path = _write(tmp_path, text)
    assert _error(read_params, path) == f"{path}: expected a mapping of sections at the top level"


# ------------------------------------------------------------------ shared settings and top-level keys


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("profile: test\nseed: 1\ndevice: tpu\n", "device: Input should be 'auto', 'cpu' or 'cuda', got 'tpu'"),
        ("profile: test\nseed: -1\ndevice: cpu\n", "seed: Input should be greater than or equal to 0, got -1"),
        ("profile: a b\nseed: 1\ndevice: cpu\n", "profile: String should match pattern '^[A-Za-z0-9_.-]+$', got 'a b'"),
        ("seed: 1\ndevice: cpu\n", "profile: required key is missing"),
    ],
    ids=["device", "negative-seed", "profile-with-space", "missing-profile"],
)
def test_bad_shared_settings(tmp_path, text, expected):
    path = _write(tmp_path, text)
    assert _error(load_shared, path) == f"{path}: {expected}"


def test_shared_settings_ignore_the_study_sections(tmp_path):
    assert load_shared(_write(tmp_path, GOOD + "other: {anything: 1}\n")).seed == 1


def test_unknown_top_level_key_lists_the_known_ones():
    with pytest.raises(PipelineError) as caught:
        check_top_level({"seed": 1, "sed": 2, "demo": {}}, ["demo"], "params.yaml")
    assert str(caught.value) == "params.yaml: sed: unknown top-level key (known: answer_sheet, demo, device, profile, seed)"
    check_top_level({"seed": 1, "device": "cpu", "profile": "x", "demo": {}}, ["demo"])  # no error


def test_real_params_shared_settings():
    shared = load_shared(ROOT / "params.yaml")
    assert (shared.profile, shared.seed, shared.device) == ("full", 1234, "auto")


class Data(Schema):
    files: list[str]


def _data(path: Path) -> Data:
    return load_section("data", Data, path)


STUDY = GOOD + "data:\n  files: [a.txt]\n"


def test_a_study_loads_its_shared_settings_its_section_and_its_data(tmp_path):
    path = _write(tmp_path, STUDY)
    setup = load_study("demo", Demo, path, data=_data)
    assert setup == StudySetup(SharedParams(profile="test", seed=1, device="cpu"), load_section("demo", Demo, path), Data(files=["a.txt"]))
    assert load_study("demo", Demo, path).data is None  # a study that makes its own data


def test_a_cross_section_check_is_the_one_line_error(tmp_path):
    def checks(setup: StudySetup) -> None:
        if len(setup.data.files) < len(setup.config.runs) + 1:
            raise ValueError(f"demo.runs: each run needs a file of data.files, got {len(setup.data.files)} for {len(setup.config.runs)}")

    path = _write(tmp_path, STUDY)
    message = _error(lambda p: load_study("demo", Demo, p, data=_data, checks=checks), path)
    assert message == f"{path}: demo.runs: each run needs a file of data.files, got 1 for 1"


def test_a_bad_data_section_fails_like_the_study_section(tmp_path):
    path = _write(tmp_path, GOOD + "data:\n  files: a.txt\n")
    assert (
        _error(lambda p: load_study("demo", Demo, p, data=_data), path) == f"{path}: data.files: Input should be a valid list, got 'a.txt'"
    )


def test_a_study_setup_subclass_keeps_its_helpers(tmp_path):
    class Seeded(StudySetup[Demo, None]):
        def seeded(self, offset: int) -> int:
            return self.shared.seed + offset

    setup = load_study("demo", Demo, _write(tmp_path, GOOD), setup=Seeded)
    assert isinstance(setup, Seeded) and setup.seeded(2) == 3
    with pytest.raises(AttributeError):
        setup.config = None  # frozen, like the sections it holds


def test_a_name_must_be_one_of_the_known_ones():
    presets = {"small": 1, "large": 2}
    require_known("preset", "small", presets, "preset")  # no error
    with pytest.raises(ValueError) as caught:
        require_known("preset", "medium", presets, "preset")
    # The key, the offending value and the known ones in params order, on one line.
    assert str(caught.value) == "preset: no preset 'medium' (known: small, large)"
    with pytest.raises(ValueError) as caught:
        require_known("demo.replicates", "7", (str(number) for number in [0, 1]), "replicate")
    assert str(caught.value) == "demo.replicates: no replicate '7' (known: 0, 1)"
    with pytest.raises(ValueError) as caught:
        require_known("demo.runs", "a", {}, "run")
    assert str(caught.value) == "demo.runs: no run 'a' (known: none)"


def test_a_stage_asking_for_an_unknown_entry_gets_the_params_error():
    with pytest.raises(PipelineError) as caught, section_checks():
        require_known("demo.runs", "h99", {"h8": 1, "h16": 2}, "run")
    assert str(caught.value) == "params.yaml: demo.runs: no run 'h99' (known: h8, h16)"


def test_a_schema_choice_names_its_full_key(tmp_path):
    class Presets(Schema):
        preset: str
        presets: dict[str, int]

        @model_validator(mode="after")
        def _known(self) -> Presets:
            require_known("preset", self.preset, self.presets, "preset")
            return self

    path = _write(tmp_path, "demo:\n  preset: huge\n  presets: {small: 1, large: 2}\n")
    assert _error(lambda p: load_section("demo", Presets, p), path) == f"{path}: demo.preset: no preset 'huge' (known: small, large)"
