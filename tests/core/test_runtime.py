"""The device rule of the README: "a CUDA GPU is used when present, never required"."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from pipeline.core.errors import PipelineError
from pipeline.core.runtime import select_device

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("present", "expected"), [(True, "cuda"), (False, "cpu")])
def test_auto_takes_the_gpu_when_there_is_one_and_the_cpu_otherwise(monkeypatch, present, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: present)
    assert select_device("auto") == torch.device(expected)


def test_asking_for_cuda_without_a_gpu_is_a_one_line_error_naming_the_key(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(PipelineError, match=r"^params\.yaml: device: 'cuda' requested but no CUDA device") as caught:
        select_device("cuda")
    assert "\n" not in str(caught.value)
    assert select_device("cpu") == torch.device("cpu")


def test_the_shipped_params_let_the_machine_decide():
    """Only `auto` makes both halves of the rule true: `cuda` would require a GPU, `cpu` never use one."""
    assert yaml.safe_load((ROOT / "params.yaml").read_text())["device"] == "auto"
