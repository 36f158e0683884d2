"""The translate CLI (`python -m pipeline.translate`) on models saved in a temporary project."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from pipeline.core.errors import PipelineError, run_cli
from pipeline.datasets.piglatin.data import vocabulary
from pipeline.translate import main
from pipeline.translators.architectures import save_model, translate_sentence
from pipeline.translators.models.transformer import DecoderOnlyTransformer, Seq2SeqTransformer, TransformerConfig

CPU = torch.device("cpu")
VOCAB = vocabulary()


def _save(root: Path, study: str, run: str, model_class, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = model_class(TransformerConfig(vocab_size=len(VOCAB), hidden_size=8, num_layers=1)).eval()
    save_model(root / "outputs" / study / run, model, model.state_dict(), VOCAB, {"run": run})
    return model


# What the pipeline declares: two transformer runs (one of them trained below) and the decoder-only folder.
DVC_YAML = """
stages:
  train_transformer:
    foreach: [h8-tiny, h64-large]
    do:
      cmd: echo
      outs:
        - outputs/transformer/${item}
  train_decoder_only:
    cmd: echo
    outs:
      - outputs/decoder_only
"""


@pytest.fixture
def saved(tmp_path, monkeypatch) -> dict[str, torch.nn.Module]:
    """A project folder (a dvc.yaml) with one encoder-decoder and one decoder-only run; cwd inside it."""
    from dvc.repo import Repo

    Repo.init(str(tmp_path), no_scm=True)
    (tmp_path / "dvc.yaml").write_text(DVC_YAML)
    models = {
        "transformer": _save(tmp_path, "transformer", "h8-tiny", Seq2SeqTransformer, seed=0),
        "decoder_only": _save(tmp_path, "decoder_only", "h8-tiny", DecoderOnlyTransformer, seed=1),
    }
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")  # the project root is found from below too
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # "auto" picks the CPU the expectations use
    return models


def test_translates_with_the_default_study(saved, capsys):
    main(["--run", "h8-tiny", "--max-len", "6", "Quiet", "yet"])
    expected = translate_sentence(saved["transformer"], "quiet yet", VOCAB, 6, CPU)
    assert capsys.readouterr().out == expected + "\n"
    assert len(expected.split(" ")) == 2


def test_translates_with_a_decoder_only_run(saved, capsys):
    main(["--study", "decoder_only", "--run", "h8-tiny", "--max-len", "5", "bond-street"])
    expected = translate_sentence(saved["decoder_only"], "bond-street", VOCAB, 5, CPU)
    assert capsys.readouterr().out == expected + "\n"


def _error(argv: list[str]) -> str:
    with pytest.raises(PipelineError) as caught:
        main(argv)
    message = str(caught.value)
    assert "\n" not in message, message
    return message


def test_character_outside_the_vocabulary_is_one_line(saved):
    message = _error(["--run", "h8-tiny", "hello", "world!"])
    assert message == ("translate: character(s) '!' not in the vocabulary ('-abcdefghijklmnopqrstuvwxyz') in 'hello world!'")


def test_a_run_the_pipeline_does_not_define_lists_those_it_does(saved):
    message = _error(["--run", "h99", "hello"])
    assert message == "--run h99: transformer has no such run in dvc.yaml/params.yaml (runs: h64-large, h8-tiny)"
    assert _error(["--study", "isoflop", "--run", "h64", "hello"]).endswith("(runs: none)")


def test_a_defined_run_not_trained_yet_names_the_stage_to_run(saved):
    message = _error(["--run", "h64-large", "hello"])
    assert message == (
        "--run h64-large: not trained in this checkout yet: run `dvc repro train_transformer@h64-large` "
        "(or `dvc pull` from a remote that has it)"
    )


def test_a_study_whose_stage_writes_one_folder_lists_its_trained_runs(saved):
    message = _error(["--study", "decoder_only", "--run", "h128-small", "hello"])
    assert message == "--run h128-small: decoder_only has no such trained run (trained: h8-tiny)"


def test_empty_text(saved):
    assert _error(["--run", "h8-tiny", "  "]) == "translate: empty text"


def test_word_longer_than_the_model_allows(saved):
    message = _error(["--run", "h8-tiny", "a" * 300])
    assert message == "translate: word of 300 characters is longer than the model's limit of 255"


def test_run_cli_prints_one_line_and_exits_2(saved, capsys):
    with pytest.raises(SystemExit) as exited:
        run_cli(lambda: main(["--run", "h8-tiny", "héllo"]))
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: translate: character(s) 'é' not in the vocabulary") and err.count("\n") == 1


@pytest.mark.parametrize("value", ["0", "256"])
def test_max_len_is_checked_by_the_parser(saved, capsys, value):
    with pytest.raises(SystemExit) as exited:
        main(["--run", "h8-tiny", "--max-len", value, "hello"])
    assert exited.value.code == 2
    assert f"must be between 1 and 255, got {value}" in capsys.readouterr().err
