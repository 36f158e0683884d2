"""Writing edited copies of the real params.yaml, and reading the one-line error they cause."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from pipeline.core.errors import PipelineError

PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"


def write_params(tmp_path: Path, edit: Callable[[dict], None]) -> Path:
    """A copy of the real params.yaml in `tmp_path`, changed in place by `edit(raw)`."""
    raw = yaml.safe_load(PARAMS.read_text(encoding="utf-8"))
    edit(raw)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def params_error(load: Callable[[Path], object], path: Path) -> str:
    """The message `load(path)` fails with, checked to be one line that names the file."""
    with pytest.raises(PipelineError) as caught:
        load(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}: "), message
    return message
