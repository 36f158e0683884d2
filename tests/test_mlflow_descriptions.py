"""The MLflow UI reads without the README: every study's experiment says what the study is and
what its less obvious metrics mean, and runs of two experiments never share a name.

Checked on the Study definitions (`pipeline/studies/<study>/__init__.py`) against the metric
names the studies log, as far as the committed results tell (metrics/, plots/) plus what the
training loop logs every epoch.
"""

from __future__ import annotations

import importlib
import json
from fnmatch import fnmatchcase
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.core.callbacks import EpochRecord, epoch_metrics
from pipeline.core.paths import Study
from pipeline.core.tracking import flatten

ROOT = Path(__file__).resolve().parents[1]
STUDIES: dict[str, Study] = {
    path.name: importlib.import_module(f"pipeline.studies.{path.name}").STUDY
    for path in sorted((ROOT / "pipeline" / "studies").iterdir())
    if (path / "__init__.py").exists()
}
TRACKED = sorted(name for name, study in STUDIES.items() if study.experiment)
MLFLOW_EXPERIMENT_TAG_LIMIT = 20_000  # characters (mlflow.utils.validation)

# Names that say what they are in every study; every other name a study logs needs an entry in its
# `Study.metrics` (a name, or a pattern with `*`).
PLAIN = {
    "epoch",
    "train_loss",
    "val_loss",
    "test_loss",
    "lr",
    "epochs_trained",
    "parameters",
    "train_seconds",
    "seconds_per_epoch",
    "load_seconds",
    "final_train_loss",
    "final_val_loss",
    "final_test_loss",
    "best_epoch",
    "best_val_loss",
    "stopped_early",
    "train_accuracy",
    "val_accuracy",
    "test_accuracy",
    "final_train_accuracy",
    "final_test_accuracy",
    "best_test_accuracy",
    "best_val_accuracy",
    "length",
    "train_examples",
    "val_examples",
    "test_examples",
    "train_rows",
    "val_rows",
    "test_rows",
    "train_pairs",
    "test_sentences",
    "train_images",
    "validation_images",
    "bleu",
    "chrf",
    "final_val_chrf",
    "tokens_per_second",
    "flops_per_second",
    "train_tokens",
}
# What the brief of the UI's descriptions named: each must be explained where it is logged.
NAMED = {
    "transformer": ["val_loss_batch_mean"],
    "decoder_only": ["val_loss_batch_mean", "val_loss_by_flops"],
    "recurrent": ["val_loss_batch_mean"],
    "isoflop": ["val_loss_batch_mean", "val_loss_by_flops"],
    "add2digits": ["kept_*", "first_epoch_train_accuracy_1", "test_loss"],
}


def _numeric(value) -> bool:
    return isinstance(value, (int, float))  # bools too: MLflow logs them as 0/1


def logged_keys(name: str) -> set[str]:
    """The metric names study `name` logs, as its committed results and the training loop tell.

    A run's summary is its metrics file's top-level numbers (`TrackedRun.log_summary`); the written
    checks and the IsoFLOP fits flatten theirs (`maxpool.max_ratio`, `n_opt_per_budget.8e10`).
    The curves' columns and the loop's own epoch metrics are its per-epoch names.
    """
    keys: set[str] = set()
    for path in sorted((ROOT / "metrics" / name).rglob("*.json")):
        if path.name == "data.json":  # a prepare stage's statistics: no MLflow run
            continue
        metrics = json.loads(path.read_text())
        if name == "written":
            metrics = flatten({k: v for k, v in metrics.items() if k != "tables"})
        keys |= {key for key, value in metrics.items() if _numeric(value)}
    if name == "isoflop":  # the fits, logged into the grid's parent run
        keys |= {k for k, v in flatten(json.loads((ROOT / "metrics" / "scaling.json").read_text())).items() if _numeric(v)}
    if name != "written":  # the written checks' plots are tables, and it trains nothing
        for path in sorted((ROOT / "plots" / name).rglob("*.csv")):
            keys |= set(pd.read_csv(path, nrows=0).columns)
        keys |= set(epoch_metrics(EpochRecord(1, 0.0, 0.0, 0.0, 0, 0, 0.0)))
    if "cumulative_flops" in keys:
        keys.add("val_loss_by_flops")  # the translator run's loss against compute
    return keys


def explained(key: str, study: Study) -> bool:
    return any(fnmatchcase(key, pattern) for pattern in study.metrics)


def test_every_study_with_runs_is_checked():
    assert set(TRACKED) == {
        "transformer",
        "decoder_only",
        "recurrent",
        "ablations",
        "isoflop",
        "bert",
        "gpt",
        "clip",
        "written",
        "add2digits",
        "turkish",
    }


@pytest.mark.parametrize("name", TRACKED)
def test_every_experiment_says_what_its_study_is_and_lists_its_metrics(name: str):
    study = STUDIES[name]
    text = study.experiment_description
    assert study.description.strip() and text.startswith(study.description.strip())
    assert len(study.description) < 600, "one or two sentences"
    assert "summary metrics once, at step 0" in text  # how to read its charts: curves per epoch, bars per run
    for key, meaning in study.metrics.items():
        assert meaning.strip() and f"- `{key}`: {meaning}" in text
    assert len(text) < MLFLOW_EXPERIMENT_TAG_LIMIT


@pytest.mark.parametrize("name", TRACKED)
def test_every_metric_a_study_logs_is_plain_or_explained_in_its_experiment(name: str):
    study = STUDIES[name]
    keys = logged_keys(name)
    assert keys, f"no committed results of {name}"
    unexplained = sorted(key for key in keys if key not in PLAIN and not explained(key, study))
    assert not unexplained, f"{study.experiment}: metrics without a meaning in `Study.metrics`: {unexplained}"


@pytest.mark.parametrize(("name", "keys"), sorted(NAMED.items()))
def test_the_cryptic_names_are_in_their_experiments_description(name: str, keys: list[str]):
    text = STUDIES[name].experiment_description
    for key in keys:
        assert f"`{key}`" in text
    if "val_loss_batch_mean" in keys:  # the two losses told apart
        assert "per-batch mean" in text and "weighted by its characters" in text


def test_run_names_do_not_collide_across_experiments():
    """`bert` and `gpt-classifier` both have a variant `finetune`: their MLflow run names say the study."""
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    bert, gpt = STUDIES["bert"], STUDIES["gpt"]
    shared = set(raw["bert"]["variants"]) & set(raw["gpt"]["variants"])
    assert "finetune" in shared
    assert {bert.run_label(v) for v in raw["bert"]["variants"]}.isdisjoint(gpt.run_label(v) for v in raw["gpt"]["variants"])
    assert (bert.run_label("finetune"), gpt.run_label("finetune")) == ("bert finetune", "gpt finetune")
    # A decoder-only run may take a transformer run's name (`decoder_only.run`): its label still differs.
    transformer, decoder = STUDIES["transformer"], STUDIES["decoder_only"]
    assert decoder.run_label("h64-large") == "decoder-only h64-large" != transformer.run_label("h64-large")
