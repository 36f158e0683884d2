"""What the BERT and GPT report sections both write about their runs (light on purpose: no torch).

Each section passes its runs (anything with `name`, `curve`, `probes` and `confusion_test`,
as it loaded them from MLflow) and a file prefix; the tables and figures are named
`<prefix>_val_accuracy_per_epoch.csv`, `<prefix>_probe_predictions.csv`,
`<prefix>_confusion_test_<run>.csv`, `<prefix>_training.png` and `<prefix>_confusion_test.png`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from pipeline.classification.figures import confusion_figure, training_figure
from pipeline.core import figures
from pipeline.core.io import StagedOutputs
from pipeline.reporting import FIGURES, TABLES
from pipeline.studies.arithmetic.data import LABELS


def val_accuracy_per_epoch(runs: Sequence[Any]) -> pd.DataFrame:
    """Validation accuracy per epoch, a column per run; blank where a run trained fewer epochs."""
    table = pd.DataFrame({run.name: run.curve.set_index("epoch")["val_accuracy"].round(4) for run in runs})
    table.index.name = "epoch"
    return table.astype(object).where(table.notna(), "")


def probes_table(runs: Sequence[Any]) -> pd.DataFrame:
    """The probe sentences with each run's prediction and its probability."""
    table = runs[0].probes[["sentence", "truth"]].copy()
    for run in runs:
        probes = run.probes.set_index("sentence").loc[table["sentence"]]
        table[run.name] = [f"{p} ({q:.2f})" for p, q in zip(probes["prediction"], probes["probability"])]
    return table


def write_run_outputs(out: StagedOutputs, prefix: str, runs: Sequence[Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write the per-epoch, probe and confusion tables and the two figures; return (per-epoch, probes)."""
    per_epoch, probes = val_accuracy_per_epoch(runs), probes_table(runs)
    per_epoch.to_csv(out.path(TABLES / f"{prefix}_val_accuracy_per_epoch.csv"))
    probes.to_csv(out.path(TABLES / f"{prefix}_probe_predictions.csv"), index=False)
    for run in runs:
        pd.DataFrame(run.confusion_test, index=LABELS, columns=LABELS).rename_axis("true \\ predicted").to_csv(
            out.path(TABLES / f"{prefix}_confusion_test_{run.name}.csv")
        )
    figures.save(training_figure({run.name: run.curve for run in runs}), out.path(FIGURES / f"{prefix}_training.png"))
    figures.save(confusion_figure({run.name: run.confusion_test for run in runs}), out.path(FIGURES / f"{prefix}_confusion_test.png"))
    return per_epoch, probes
