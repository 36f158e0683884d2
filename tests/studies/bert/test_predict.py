"""The classify CLI, `python -m pipeline.studies.bert.predict`: its input checks and its output lines."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import torch

from pipeline.core.errors import PipelineError
from pipeline.studies.bert import predict
from pipeline.studies.bert.model import SentenceClassifier, save_classifier
from tests.classification.predict_cli import run_cli, untrained_project

VARIANTS = "finetune, finetune_reference, frozen, frozen_reference, no_pretraining, gpt_recipe"


@pytest.fixture()
def project(tmp_path, monkeypatch) -> Path:
    """params.yaml and dvc.yaml, no trained variant."""
    monkeypatch.chdir(tmp_path)
    return untrained_project(tmp_path)


def _cli(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return run_cli("pipeline.studies.bert.predict", folder, *args)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--variant", "nope", "one plus one"], f"error: params.yaml: bert.variants: no variant 'nope' (known: {VARIANTS})"),
        (["--variant", "frozen", "one plus one"], "error: {folder}: no trained variant 'frozen'; run `dvc repro train_bert@frozen` first"),
        (["one plus one"], "error: {folder}: no trained variant 'finetune'; run `dvc repro train_bert@finetune` first"),
    ],
    ids=["unknown-variant", "untrained-variant", "default-variant-untrained"],
)
def test_bad_input_is_one_line_and_exit_code_2(project, args, message):
    result = _cli(project, *args)
    folder = project.resolve() / "outputs" / "bert" / (args[1] if args[0] == "--variant" else "finetune")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [message.format(folder=folder)]
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("sentences", "bad"),
    [
        (["three minus"], (1, "three minus")),
        ([""], (1, "")),
        (["one plus one", "two times two"], (2, "two times two")),
        (["one plus twenty"], (1, "one plus twenty")),
        (["One plus one"], (1, "One plus one")),
        (["one  plus one"], (1, "one  plus one")),
    ],
    ids=["truncated", "empty", "second-of-two", "number-out-of-range", "capitalised", "double-space"],
)
def test_a_sentence_not_of_the_task_form_is_refused_before_any_model_loads(project, sentences, bad):
    # No trained variant exists here: the sentence check must fail first, naming the sentence.
    result = _cli(project, *sentences)
    position, sentence = bad
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: sentence {position}: expected '<number> plus|minus <number>' with numbers zero..nineteen, got {sentence!r}"
    ]
    assert result.stdout == ""


def test_no_sentence_is_a_usage_error(project):
    result = _cli(project, "--variant", "finetune")
    assert result.returncode == 2
    assert "the following arguments are required: sentences" in result.stderr


def test_a_bad_params_file_is_named(project):
    (project / "params.yaml").write_text((project / "params.yaml").read_text().replace("batch_size: 32", "batch_size: -32"))
    result = _cli(project, "one plus one")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["error: params.yaml: bert.recipe.batch_size: Input should be greater than 0, got -32"]


def test_prints_the_class_every_probability_and_the_truth_when_there_is_one(project, capsys):
    from transformers import BertConfig, BertModel, BertTokenizer

    words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "plus", "minus", "times"]
    vocab = project / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]) + "\n")
    config = BertConfig(
        vocab_size=len(words) + 5,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=16,
    )
    torch.manual_seed(0)
    model = SentenceClassifier(BertModel(config))
    save_classifier(project / "outputs/bert/finetune", model, BertTokenizer(str(vocab)), {"max_length": 7})

    predict.main(["three minus nine", "two plus two"])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("three minus nine -> ") and lines[0].endswith("; true: negative)")
    assert lines[1].startswith("two plus two -> ") and lines[1].endswith("; true: positive)")
    for line in lines:
        label, spread = line.split(" -> ")[1].split(" (", 1)
        probabilities = dict(part.split(" ") for part in spread.split(";")[0].split(", "))
        assert list(probabilities) == ["negative", "zero", "positive"]
        assert sum(map(float, probabilities.values())) == pytest.approx(1, abs=2e-3)
        assert label == max(probabilities, key=lambda k: float(probabilities[k]))

    with pytest.raises(PipelineError, match="bert.variants: no variant 'nope'"):
        predict.main(["--variant", "nope", "one plus one"])
    with pytest.raises(PipelineError, match="sentence 1: expected"):
        predict.main(["three minus"])
