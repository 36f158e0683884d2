"""The prepare and train stages and the translate CLI, run in a minimal copy of the project at tiny sizes."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.core.errors import PipelineError
from pipeline.core.io import is_timing_key
from pipeline.studies.turkish import PREPARED, SPLITS, STATISTICS, split_file, stages, tokenization, tokenizer_dir, translate
from pipeline.studies.turkish.data import read_pairs
from pipeline.studies.turkish.tokenization import load, train_wordpiece

ROOT = Path(__file__).resolve().parents[3]
find_spec = importlib.util.find_spec  # the real one, for tests that hide a package
RAW = "data/raw/tatoeba_eng_tur.tsv"
TINY = {
    "split": {"train_pairs": 60, "val_pairs": 10, "test_pairs": 10, "seed": 0},
    "wordpiece": {"vocab_size": 150, "min_frequency": 1},
    "recipe": {
        "cell": "lstm",
        "embedding_dim": 8,
        "hidden_size": 8,
        "num_layers": 2,
        "dropout": 0.5,
        "teacher_forcing": 0.5,
        "grad_clip": 1.0,
        "init_range": 0.08,
        "heads": 2,
        "feedforward_size": 16,
        "lr": 0.01,
        "batch_size": 16,
        "epochs": 2,
        "select_by": "val_chrf",
        "patience": 2,
    },
    "runs": {"rnn": {"cell": "rnn"}},
    "benchmark": {"runs": ["rnn"], "lengths": [4, 6], "batches": 1, "threads": 1},
    "samples": 3,
}


def _edit(project: Path, change) -> None:
    raw = yaml.safe_load((project / "params.yaml").read_text())
    change(raw["turkish"])
    (project / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))


@pytest.fixture()
def project(tmp_path, monkeypatch) -> Path:
    """params.yaml (tiny sizes), dvc.yaml and every 20th line of the shipped pairs."""
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    _edit(tmp_path, lambda t: t.update(TINY))
    (tmp_path / RAW).parent.mkdir(parents=True)
    lines = (ROOT / RAW).read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / RAW).write_text("".join(lines[::20]), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _nothing_written(project: Path) -> bool:
    return not (project / PREPARED).exists() and not (project / STATISTICS).exists()


def test_prepare_writes_splits_tokenizers_and_statistics(project):
    stages.prepare()
    splits = {split: read_pairs(project / split_file(split)) for split in SPLITS}
    assert {k: len(v) for k, v in splits.items()} == {"train": 60, "val": 10, "test": 10}
    english = [{p.english for p in pairs} for pairs in splits.values()]
    assert sum(map(len, english)) == len(set().union(*english))
    stats = json.loads((project / STATISTICS).read_text())
    assert stats["english_sentences_in_two_splits"] == 0
    assert stats["raw"]["pairs"] == len((project / RAW).read_text(encoding="utf-8").splitlines())
    for split, pairs in splits.items():
        assert stats["splits"][split]["pairs"] == len(pairs)
        assert stats["splits"][split]["english_sentences"] == len({p.english for p in pairs})
    for language in ("turkish", "english"):
        tokenizer = load(project / tokenizer_dir(language))
        assert stats["tokenizers"][language]["vocab_size"] == len(tokenizer) <= 150
        # Trained on the training split only: its own sentences have no [UNK].
        train_ids = tokenizer([getattr(p, language) for p in splits["train"]])["input_ids"]
        assert all(tokenizer.unk_token_id not in row for row in train_ids)


def test_a_malformed_corpus_line_writes_nothing(project):
    path = project / RAW
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[6] = lines[6].replace("\t", " ")
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(PipelineError, match=rf"^{path}:7: expected 2 tab-separated fields"):
        stages.prepare()
    assert _nothing_written(project)


def test_a_local_tokenizer_folder_takes_the_hub_path(project):
    saved = train_wordpiece(["Tom eve gitti.", "Ben buradayım."] * 5, vocab_size=80, min_frequency=1)
    saved.save_pretrained(str(project / "my-tokenizer"))
    _edit(project, lambda t: t["sources"]["offline"].update(turkish_tokenizer="my-tokenizer"))
    stages.prepare()
    copied = load(project / tokenizer_dir("turkish"))
    texts = [p.turkish for p in read_pairs(project / split_file("test"))]
    assert copied(texts)["input_ids"] == saved(texts)["input_ids"]
    assert json.loads((project / STATISTICS).read_text())["tokenizers"]["turkish"]["kind"] == "my-tokenizer"


def test_an_uncached_hub_tokenizer_fails_before_any_work(project):
    _edit(project, lambda t: t["sources"]["offline"].update(english_tokenizer="turkish-tests/not-cached"))
    (project / RAW).write_text("broken line\n")  # never read: the tokenizer check comes first
    with pytest.raises(PipelineError, match=r"turkish.sources.offline.english_tokenizer: 'turkish-tests/not-cached' is not in"):
        stages.prepare()
    assert _nothing_written(project)


@pytest.mark.skipif(importlib.util.find_spec("datasets") is not None, reason="`datasets` installed: would try the hub")
def test_wmt16_without_datasets_says_how_to_add_it(project):
    _edit(project, lambda t: t["sources"]["offline"].update(data="wmt16", file=None))
    with pytest.raises(PipelineError) as caught:
        stages.prepare()
    message = str(caught.value)
    assert message.startswith("params.yaml: turkish.sources.offline.data: 'wmt16' needs the `datasets` package")
    assert "`uv add datasets`" in message and "\n" not in message
    assert _nothing_written(project)


def test_the_reference_source_checks_for_datasets_before_the_hub(tmp_path, monkeypatch):
    """`datasets` missing is known before any hub tokenizer is looked up (which may wait on the network)."""
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    _edit(tmp_path, lambda t: t.update(source="reference"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None if name == "datasets" else find_spec(name, *args))

    def no_hub(*args, **kwargs):
        raise AssertionError("a hub tokenizer was looked up before the `datasets` check")

    monkeypatch.setattr(tokenization, "resolve", no_hub)
    with pytest.raises(PipelineError) as caught:
        stages.prepare()
    assert str(caught.value) == (
        "params.yaml: turkish.sources.reference.data: 'wmt16' needs the `datasets` package, which is not installed; "
        "run `uv add datasets`, or switch back with `dvc exp run -S turkish.source=offline`"
    )
    assert _nothing_written(tmp_path)


def test_a_vocab_size_below_the_alphabet_writes_nothing(project):
    _edit(project, lambda t: t["wordpiece"].update(vocab_size=3))
    with pytest.raises(
        PipelineError, match=r"^params.yaml: turkish.wordpiece.vocab_size: must be at least \d+ for the turkish training split "
    ):
        stages.prepare()
    assert _nothing_written(project)


def test_train_an_unknown_run_or_before_prepare(project):
    with pytest.raises(PipelineError, match=r"turkish.runs: no run 'gru' \(known: rnn\)"):
        stages.train(run="gru")
    with pytest.raises(PipelineError, match="run `dvc repro prepare_turkish` first"):
        stages.train(run="rnn")


@pytest.mark.usefixtures("one_torch_thread")
def test_train_writes_a_run_and_translate_uses_it(project, capsys):
    stages.prepare()
    stages.train(run="rnn")
    metrics = json.loads((project / "metrics/turkish/rnn.json").read_text())
    curve = pd.read_csv(project / "plots/turkish/rnn.csv")
    assert not [column for column in curve.columns if is_timing_key(column)]  # a DVC plot holds no wall time
    assert len(curve) == metrics["epochs_trained"] == 2 and metrics["test_sentences"] == 10
    assert metrics["best_val_loss"] == pytest.approx(curve["val_loss"].min(), rel=1e-5)
    # Kept: the first epoch of highest validation chrF.
    assert metrics["best_epoch"] == curve["epoch"][curve["val_chrf"].idxmax()]
    assert metrics["val_chrf_at_best"] == pytest.approx(curve["val_chrf"].max(), rel=1e-5)
    assert 0 <= metrics["bleu"] <= 100 and 0 <= metrics["copy_bleu"] <= 100 and metrics["train_pairs"] == 60
    assert curve["iterations"].tolist() == [4, 8]  # 60 pairs in batches of 16
    folder = project / "outputs/turkish/rnn"
    assert (folder / "model.safetensors").exists() and (folder / "tokenizers/english/tokenizer.json").exists()

    capsys.readouterr()
    translate.main(["--run", "rnn", "Tom eve gitti.", "ЖЖЖ ЖЖ"])
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("Tom eve gitti. -> ") and lines[1].startswith("ЖЖЖ ЖЖ -> ")
    assert "warning: 'ЖЖЖ ЖЖ': the Turkish tokenizer maps 100% of it to [UNK]; characters not in its vocabulary: Ж" in captured.err
    assert "Tom eve" not in captured.err
    with pytest.raises(PipelineError, match="turkish.runs: no run 'lstm'"):
        translate.main(["--run", "lstm", "Merhaba."])


@pytest.mark.usefixtures("one_torch_thread")
def test_a_killed_run_resumes_in_its_mlflow_run_and_ends_as_an_uninterrupted_one(project, monkeypatch, capsys):
    """Killed in epoch 2, rerun: it continues after epoch 1 (the resume file), in the same MLflow run, logs each
    epoch once and writes exactly the metrics and curve of a run that was never killed."""
    from mlflow.tracking import MlflowClient

    from pipeline.studies.turkish import train as training_module

    # The runs go to this project's own store: earlier tests may have pointed MLflow elsewhere.
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("DVC_ROOT", raising=False)
    stages.prepare()
    stages.train(run="rnn")  # uninterrupted: the reference
    metrics_file, curve_file = project / "metrics/turkish/rnn.json", project / "plots/turkish/rnn.csv"
    uninterrupted = (metrics_file.read_text(), curve_file.read_text())
    real_loss, calls = training_module.sequence_loss, []

    def killed_in_the_second_epoch(model, batch):
        calls.append(1)
        if len(calls) == 6:  # 4 training batches in an epoch, then validation: this is epoch 2
            raise KeyboardInterrupt  # what SIGTERM becomes in a stage (errors.stop_on_sigterm)
        return real_loss(model, batch)

    monkeypatch.setattr(training_module, "sequence_loss", killed_in_the_second_epoch)
    with pytest.raises(KeyboardInterrupt):
        stages.train(run="rnn")
    assert list((project / ".cache/resume/turkish").glob("rnn-*/state.pt"))
    monkeypatch.setattr(training_module, "sequence_loss", real_loss)
    capsys.readouterr()
    stages.train(run="rnn")
    assert "after epoch 1" in capsys.readouterr().err  # fit: "resuming from <file> after epoch 1"

    assert metrics_file.read_text() == uninterrupted[0]
    assert curve_file.read_text() == uninterrupted[1]  # no wall time in it: a rerun's plot is the same file
    client = MlflowClient(tracking_uri=f"sqlite:///{project / '.mlflow' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("turkish-english")
    runs = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time ASC"])
    assert [run.info.status for run in runs] == ["FINISHED", "FINISHED"]  # the killed run, reopened and finished
    resumed = runs[1].info.run_id
    assert [m.step for m in client.get_metric_history(resumed, "val_loss")] == [1, 2]
    # The summary at step 0, like every study's: a bar per run, not a dot at the last epoch.
    assert [m.step for m in client.get_metric_history(resumed, "chrf")] == [0]
    assert [m.step for m in client.get_metric_history(resumed, "val_chrf")] == [1, 2]
    assert not list((project / ".cache/resume").rglob("*.pt"))  # the resume state goes once the run finished


@pytest.mark.usefixtures("one_torch_thread")
def test_benchmark_times_every_listed_run_at_every_length(project, monkeypatch):
    from mlflow.tracking import MlflowClient

    from pipeline.reporting import ReportContext
    from pipeline.studies.turkish.results import load_benchmark

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("DVC_ROOT", raising=False)
    _edit(
        project,
        lambda t: t.update(
            runs={
                "rnn": {"cell": "rnn"},
                "small_transformer": {"cell": "transformer", "teacher_forcing": 1.0, "heads": 2, "feedforward_size": 16},
            },
            benchmark={"runs": ["rnn", "small_transformer"], "lengths": [4, 6], "batches": 2, "threads": 1},
        ),
    )
    stages.prepare()
    with pytest.raises(PipelineError, match="run `dvc repro train_turkish@rnn` first"):
        stages.benchmark()
    stages.train(run="rnn")
    stages.train(run="small_transformer")
    stages.benchmark()
    assert not (project / "plots/turkish/benchmark.csv").exists()  # all timings: no DVC plot
    client = MlflowClient(tracking_uri=f"sqlite:///{project / '.mlflow' / 'mlflow.db'}")
    table = load_benchmark(ReportContext(project, out=None, _client=client))  # the run the report finds by its files
    assert sorted(zip(table["run"], table["mode"], table["length"])) == sorted(
        (run, mode, length) for run in ("rnn", "small_transformer") for mode in ("train", "decode") for length in (4, 6)
    )
    assert (table["min_seconds"] <= table["seconds"]).all() and (table["seconds"] <= table["max_seconds"]).all()
    train = table[table["mode"] == "train"]
    assert train["epoch_seconds"].tolist() == pytest.approx((train["seconds"] * 4).tolist(), rel=1e-5)  # 60 pairs in batches of 16
    assert table[table["mode"] == "decode"]["epoch_seconds"].isna().all()
    metrics = json.loads((project / "metrics/turkish/benchmark.json").read_text())
    timings = json.loads((project / "timings/turkish/benchmark.json").read_text())
    assert set(metrics) == {"rnn_parameters", "small_transformer_parameters"}  # every timing goes to the twin
    for row in table.itertuples():  # which holds every time of the table
        key = f"{row.run}_{row.mode}_seconds_L{row.length}"
        assert [timings[key], timings[f"{key}_min"], timings[f"{key}_max"]] == pytest.approx(
            [row.seconds, row.min_seconds, row.max_seconds]
        )
    assert timings["rnn_epoch_seconds_L6"] == pytest.approx(train.set_index(["run", "length"]).loc[("rnn", 6), "epoch_seconds"])
    experiment = client.get_experiment_by_name("turkish-english")
    (run,) = client.search_runs([experiment.experiment_id], filter_string="attributes.run_name = 'benchmark'")
    assert run.data.metrics["rnn_decode_seconds_L4"] == pytest.approx(timings["rnn_decode_seconds_L4"])
