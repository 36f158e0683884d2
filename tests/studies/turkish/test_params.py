"""The `turkish` section of params.yaml: every bad edit fails with one line naming the key."""

from __future__ import annotations

import pytest

from pipeline.studies.turkish import params
from tests.params_helpers import PARAMS, params_error, write_params


def test_real_params_load():
    config = params.load(PARAMS).config
    assert config.source == "offline" and config.active.data == "tatoeba"
    assert (config.split.train_pairs, config.split.test_pairs) == (1000, 100)
    assert {config.recipe_for(run).cell for run in config.runs} == {"rnn", "lstm", "transformer"}
    assert config.max_length == 10 and config.published.parameters == 20_014_916
    transformer = config.recipe_for("transformer")
    assert transformer.embedding_dim == transformer.hidden_size and transformer.hidden_size % transformer.heads == 0
    assert set(config.benchmark.runs) <= set(config.runs) and config.benchmark.lengths == [8, 16, 32, 64]


def test_the_benchmark_stage_depends_on_the_outputs_of_the_runs_it_times():
    """dvc.yaml cannot loop over a params list in deps: its benchmark_turkish lists them by hand."""
    import yaml

    config = params.load(PARAMS).config
    stage = yaml.safe_load((PARAMS.parent / "dvc.yaml").read_text())["stages"]["benchmark_turkish"]
    outputs = sorted(dep for dep in stage["deps"] if dep.startswith("outputs/"))
    assert outputs == sorted(f"outputs/turkish/{run}" for run in config.benchmark.runs)


def test_a_run_changes_only_what_it_sets():
    config = params.load(PARAMS).config
    assert config.changes("lstm") == {}
    assert config.changes("lstm_no_dropout") == {"dropout": 0.0}
    assert config.recipe_for("lstm_no_dropout").model_dump(exclude={"dropout"}) == config.recipe.model_dump(exclude={"dropout"})
    assert config.recipe_for("rnn").cell == "rnn"
    assert config.source_key("turkish_tokenizer") == "turkish.sources.offline.turkish_tokenizer"


def _t(raw: dict) -> dict:
    return raw["turkish"]


@pytest.mark.parametrize(
    ("edit", "fragments"),
    [
        (
            lambda raw: _t(raw)["runs"]["rnn"].update(cell="gru"),
            ["turkish.runs.rnn.cell: Input should be 'rnn', 'lstm' or 'transformer', got 'gru'"],
        ),
        (lambda raw: _t(raw)["recipe"].update(cell="gru"), ["turkish.recipe.cell", "'gru'"]),
        (
            lambda raw: _t(raw)["runs"]["transformer"].update(embedding_dim=256),
            [
                "turkish.runs.transformer.embedding_dim: a transformer embeds tokens at its width, so it must equal hidden_size (128), got 256"
            ],
        ),
        (
            lambda raw: _t(raw)["runs"]["transformer"].pop("embedding_dim"),
            ["turkish.recipe.embedding_dim: a transformer embeds tokens at its width, so it must equal hidden_size (128), got 256"],
        ),
        (lambda raw: _t(raw)["recipe"].update(heads=3), ["turkish.recipe.heads: must divide hidden_size (128), got 3"]),
        (lambda raw: _t(raw)["recipe"].pop("feedforward_size"), ["turkish.recipe.feedforward_size: required key is missing"]),
        (
            lambda raw: _t(raw)["benchmark"].update(runs=["lstm", "gru"]),
            ["turkish.benchmark.runs: 'gru' is not an entry of runs (known: rnn, lstm, transformer, lstm_no_dropout, lstm_250_pairs)"],
        ),
        (lambda raw: _t(raw)["benchmark"].update(lengths=[8, 300]), ["turkish.benchmark.lengths.1", "300"]),
        (lambda raw: _t(raw)["runs"].update(benchmark={"cell": "lstm"}), ["turkish.runs.benchmark: the name of the benchmark's own files"]),
        (lambda raw: _t(raw)["wordpiece"].update(vocab_size=0), ["turkish.wordpiece.vocab_size: Input should be greater than 0, got 0"]),
        (lambda raw: _t(raw)["wordpiece"].update(vocab_size=-5), ["turkish.wordpiece.vocab_size", "-5"]),
        (lambda raw: _t(raw).update(source="online"), ["turkish.source: no source 'online' (known: offline, reference)"]),
        (lambda raw: _t(raw)["sources"]["offline"].update(data="europarl"), ["turkish.sources.offline.data", "'europarl'"]),
        (lambda raw: _t(raw)["sources"]["offline"].pop("file"), ["turkish.sources.offline.file: the tatoeba data needs"]),
        (
            lambda raw: _t(raw)["runs"]["lstm"].update(train_pairs=5000),
            ["turkish.runs.lstm.train_pairs: at most split.train_pairs (1000), got 5000"],
        ),
        (lambda raw: _t(raw)["runs"]["lstm"].update(dropout=1.0), ["turkish.runs.lstm.dropout", "1.0"]),
        (lambda raw: _t(raw)["recipe"].update(teacher_forcing=1.5), ["turkish.recipe.teacher_forcing", "1.5"]),
        (lambda raw: _t(raw).update(max_length=2), ["turkish.max_length", "2"]),
        (lambda raw: _t(raw)["split"].update(test_pairs=0), ["turkish.split.test_pairs", "0"]),
        (lambda raw: _t(raw)["runs"].update({"LSTM-2": {"cell": "lstm"}}), ["turkish.runs.LSTM-2", "pattern"]),
        (lambda raw: _t(raw)["recipe"].update(epoch=3), ["turkish.recipe.epoch: unknown key"]),
    ],
    ids=[
        "unknown-cell",
        "unknown-recipe-cell",
        "transformer-embedding",
        "transformer-embedding-from-recipe",
        "heads",
        "no-feedforward",
        "benchmark-run",
        "benchmark-length",
        "benchmark-name",
        "vocab-0",
        "vocab-negative",
        "unknown-source",
        "unknown-data",
        "no-file",
        "run-train-pairs",
        "dropout-1",
        "teacher-forcing",
        "max-length",
        "test-pairs",
        "run-name",
        "typo",
    ],
)
def test_bad_edit_names_the_key(tmp_path, edit, fragments):
    message = params_error(params.load, write_params(tmp_path, edit))
    for fragment in fragments:
        assert fragment in message, message
