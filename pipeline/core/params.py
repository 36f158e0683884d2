"""Reading and validating `params.yaml`: the base schema and the loader every study uses.

`params.yaml` has the settings every stage shares at the top (`profile`, `seed`,
`device`) and one top-level key per study. A study declares its section as a
`Schema` subclass in its own `params.py` and loads it with `load_study`, which returns
the same `StudySetup` in every study, so a stage validates exactly what it reads, and a
typo or an out-of-range value fails in a second with one line that names the key::

    params.yaml: transformer.runs.h32-small.hidden_size: Input should be greater than 0, got -4
"""

from __future__ import annotations

import contextlib
import copy
import functools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Generic, Literal, TypeVar

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from pipeline.core.errors import PipelineError

PARAMS_FILE = "params.yaml"


class Schema(BaseModel):
    """A validated part of params.yaml: the base of every params model (a report's part is
    `pipeline.reporting.Section`; the two names keep the two roles apart)."""

    # Unknown keys are typos until proven otherwise; params are immutable once loaded.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


PositiveInt = Annotated[int, Field(gt=0)]
Seed = Annotated[int, Field(ge=0, lt=2**32)]  # numpy's generators take 0 <= seed < 2**32
# YAML 1.1 reads `5e-4` as a string and `1` as an int: floats accept both (lax), nothing else.
# YAML also reads `.inf` and `.nan`: no setting means them (an infinite lr diverges at epoch 1).
Float = Annotated[float, Field(strict=False, allow_inf_nan=False)]
PositiveFloat = Annotated[float, Field(gt=0, strict=False, allow_inf_nan=False)]


def _ordered(bounds: tuple[float, float]) -> tuple[float, float]:
    # [max, min] would make every comparison with the range fail (or pass) silently.
    if bounds[0] > bounds[1]:
        raise ValueError(f"must be [min, max] with min <= max, got [{bounds[0]!r}, {bounds[1]!r}]")
    return bounds


Range = Annotated[tuple[Float, Float], Field(strict=False), AfterValidator(_ordered)]  # [min, max] of published figures
Slug = Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]  # names that become paths and stage names


class SharedParams(Schema):
    """The top-level settings every stage reads."""

    profile: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")  # a label tagged on every MLflow run (full, smoke...)
    seed: Seed
    device: Literal["auto", "cpu", "cuda"]
    # strict: the report stage fails on a question it cannot answer from runs; preview: such an entry
    # is flagged in reports/answers.md instead (the smoke profile's tiny runs cannot answer every question).
    answer_sheet: Literal["strict", "preview"] = "strict"


SHARED_KEYS = tuple(SharedParams.model_fields)

S = TypeVar("S", bound=Schema)


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """YAML's safe loader, refusing a key written twice in one mapping.

    PyYAML keeps the last value silently, while DVC refuses the whole file (and `dvc params
    diff` then shows every param deleted): the stage would train on a value nobody chose.
    libyaml's parser where PyYAML has it (its wheels do): 8 ms for params.yaml, 45 ms in Python.
    """

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}, first at line {seen[key] + 1}", key_node.start_mark
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def read_params(path: str | Path = PARAMS_FILE) -> dict:
    """The params file as a mapping; a missing file, bad YAML or a duplicate key is one line with file:line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PipelineError(f"{path}: file not found (run from the project root)") from None
    return copy.deepcopy(_parse_params(text, str(path)))  # a copy: a caller may edit its mapping


@functools.lru_cache(maxsize=4)
def _parse_params(text: str, path: str) -> dict:
    """`read_params`' parse, once per text: a stage reads the file several times (its study, the shared keys)."""
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise PipelineError(f"{where}: not valid YAML ({getattr(error, 'problem', error)})") from None
    if not isinstance(raw, dict):
        raise PipelineError(f"{path}: expected a mapping of sections at the top level")
    return raw


def load_shared(path: str | Path = PARAMS_FILE) -> SharedParams:
    raw = read_params(path)
    return validate(SharedParams, {key: raw[key] for key in SHARED_KEYS if key in raw}, "", path)


def load_section(key: str, schema: type[S], path: str | Path = PARAMS_FILE) -> S:
    """The top-level section `key` of the params file, validated against `schema`."""
    raw = read_params(path)
    if key not in raw:
        raise PipelineError(f"{path}: {key}: required section is missing")
    return validate(schema, raw[key], key, path)


def validate(schema: type[S], data: object, key: str, path: str | Path = PARAMS_FILE) -> S:
    """`schema` over `data`; a problem becomes one line naming `key` and the path below it."""
    try:
        return schema.model_validate(data)
    except ValidationError as error:
        raise PipelineError(f"{path}: {describe(error, key)}") from None


def describe(error: ValidationError, prefix: str = "") -> str:
    """The first validation problem as `key.path: message, got value`."""
    first = error.errors()[0]
    location = [part for part in first["loc"] if part != "[key]"]  # pydantic appends "[key]" after a bad mapping key
    key = ".".join(str(part) for part in ([prefix] if prefix else []) + location)
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        return f"{key}: unknown key (typo?)"
    if first["type"] == "missing":
        return f"{key}: required key is missing"
    if first["type"] == "model_type" and not first["loc"]:
        return f"{key}: expected a mapping of settings, got {first.get('input')!r}"
    if key and re.match(r"[\w.-]+: ", message):
        # A section-level check already names the key below `key`.
        return f"{key}.{message}"
    if "got" in message:
        return f"{key}: {message}" if key else message
    given = first.get("input")
    return f"{key}: {message}, got {given!r}" if key else message


def require_known(key: str, value: object, known: Iterable, noun: str) -> None:
    """`value` (of `key`) must be one of `known`, else ValueError("key: no noun 'value' (known: a, b)").

    One check for a choice in params (`gpt.checkpoint_set` names one of `checkpoint_sets`) and for
    an entry a stage or CLI asks for (`--variant nope`, `train_transformer@h99`). Its ValueError
    names `key` relative to where it is raised: a schema's validator or `section_checks` turns it
    into the one-line params error, so a stage or CLI calls it inside `with section_checks():`.
    """
    known = list(known)
    if value not in known:
        listed = ", ".join(str(entry) for entry in known) or "none"
        raise ValueError(f"{key}: no {noun} {value!r} (known: {listed})")


@contextlib.contextmanager
def section_checks(path: str | Path = PARAMS_FILE) -> Iterator[None]:
    """Turn a check's ValueError (`key: what is wrong`: a cross-section check, a stage's `require_known`) into the one-line params error."""
    try:
        yield
    except ValueError as error:
        raise PipelineError(f"{path}: {error}") from None


C = TypeVar("C", bound=Schema)
D = TypeVar("D")


@dataclass(frozen=True)
class StudySetup(Generic[C, D]):
    """What every study's `params.load()` returns.

    Studies differ only in the type of their own section (`config`) and of the dataset
    section they train on (`data`: the Pig Latin or the arithmetic section; None for a
    study that makes or reads its own data); a study with helpers of its own subclasses it.
    """

    shared: SharedParams  # profile, seed, device
    config: C  # the study's own section
    data: D  # the section of the dataset it trains on, or None


SetupT = TypeVar("SetupT", bound=StudySetup)


def load_study(
    key: str,
    schema: type[C],
    path: str | Path = PARAMS_FILE,
    *,
    data: Callable[[str | Path], Schema] | None = None,
    checks: Callable[[SetupT], None] | None = None,
    setup: type[SetupT] = StudySetup,
) -> SetupT:
    """The study whose section is `key`, validated against `schema`, as a `setup` (StudySetup or a subclass).

    What varies between studies: `data` reads the dataset section it trains on (None: none);
    `checks` looks across sections (a dataset the study names must exist, ...) and raises
    ValueError("key: what is wrong"), which becomes the one-line params error.
    """
    shared = load_shared(path)
    dataset = data(path) if data is not None else None  # the data a study trains on is read (and fails) first
    loaded = setup(shared, load_section(key, schema, path), dataset)
    if checks is not None:
        with section_checks(path):
            checks(loaded)
    return loaded


def check_top_level(raw: dict, study_keys: list[str], path: str | Path = PARAMS_FILE) -> None:
    """Every top-level key is a shared setting or a known study's section (else: a typo)."""
    known = set(SHARED_KEYS) | set(study_keys)
    for key in raw:
        if key not in known:
            raise PipelineError(f"{path}: {key}: unknown top-level key (known: {', '.join(sorted(known))})")
