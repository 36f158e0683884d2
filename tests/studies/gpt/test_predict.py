"""The classify CLI, `python -m pipeline.studies.gpt.predict`: its input checks and its output lines."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import torch

from pipeline.core.errors import PipelineError
from pipeline.studies.gpt import predict
from pipeline.studies.gpt.checkpoints import resolve
from pipeline.studies.gpt.model import load_pretrained, predict_proba, save_classifier
from tests.classification.predict_cli import run_cli, untrained_project
from tests.studies.gpt.tiny import write_tiny_gguf

SHAPE = "expected '<number> plus|minus <number>' with numbers zero..nineteen"


@pytest.fixture()
def project(tmp_path, monkeypatch) -> Path:
    """params.yaml and dvc.yaml, no trained variant."""
    monkeypatch.chdir(tmp_path)
    return untrained_project(tmp_path)


def _cli(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return run_cli("pipeline.studies.gpt.predict", folder, *args)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["three minus"], f"error: sentence 1: {SHAPE}, got 'three minus'"),
        ([""], f"error: sentence 1: {SHAPE}, got ''"),
        (["four plus seven", "two times two"], f"error: sentence 2: {SHAPE}, got 'two times two'"),
        (["twenty plus one"], f"error: sentence 1: {SHAPE}, got 'twenty plus one'"),
        (["--variant", "nope", "one plus one"], "error: params.yaml: gpt.variants: no variant 'nope' (known: finetune)"),
        (["one plus one"], "error: {folder}: no trained variant 'finetune'; run `dvc repro train_gpt@finetune` first"),
    ],
    ids=["no-second-number", "empty", "unknown-operator", "out-of-range", "unknown-variant", "default-untrained"],
)
def test_bad_input_is_one_line_and_exit_code_2(project, args, message):
    result = _cli(project, *args)
    folder = project.resolve() / "outputs" / "gpt" / (args[1] if args[0] == "--variant" else "finetune")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [message.format(folder=folder)]
    assert result.stdout == ""


def test_prints_the_class_every_probability_and_the_truth(project, capsys):
    write_tiny_gguf(project / "tiny.gguf")
    torch.manual_seed(0)
    model, tokenizer = load_pretrained(resolve(str(project / "tiny.gguf"), "k", False, project), "<PAD>", "k")
    save_classifier(project / "outputs/gpt/finetune", model, tokenizer, {"max_length": 6})
    sentences = ["three minus nine", "eighteen minus eighteen"]
    expected = predict_proba(model, tokenizer, sentences, 6)

    predict.main(sentences)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("three minus nine -> ") and lines[0].endswith("; true: negative)")
    assert lines[1].endswith("; true: zero)")
    for line, probs in zip(lines, expected):
        label, spread = line.split(" -> ")[1].split(" (", 1)
        printed = dict(part.split(" ") for part in spread.split(";")[0].split(", "))
        assert list(printed) == ["negative", "zero", "positive"]
        assert [float(p) for p in printed.values()] == pytest.approx(probs.tolist(), abs=5e-4)
        assert label == ["negative", "zero", "positive"][int(probs.argmax())]

    with pytest.raises(PipelineError, match="sentence 1: expected"):
        predict.main(["three minus"])
