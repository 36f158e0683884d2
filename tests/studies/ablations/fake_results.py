"""Made-up ablation results whose comparisons are known, and a report context holding them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.reporting import ReportContext, TranslatorResult
from pipeline.studies.ablations import STUDY, params
from pipeline.studies.ablations.results import Results, Variant

SENTENCE = "the air conditioning is working"


def run(name: str, translation: str = "ethay airway", **metrics) -> TranslatorResult:
    curve = pd.DataFrame({"epoch": [1, 2], "iterations": [10, 20], "train_loss": [2.0, 1.0], "val_loss": [2.1, 1.2]})
    base = {
        "best_val_loss": 0.5,
        "best_val_loss_batch_mean": 0.55,
        "val_word_accuracy": 0.5,
        "final_train_loss": 0.3,
        "train_seconds": 10.0,
        "epochs_trained": 5,
        "seconds_per_epoch": 2.0,
        "parameters": 1000,
    }
    return TranslatorResult(
        name, f"id-{name}", {}, base | metrics, curve, pd.DataFrame({"sentence": [SENTENCE], "translation": [translation]})
    )


def variant(label: str, prefix: str, values: list[dict], **kwargs) -> Variant:
    return Variant(label, [run(f"{prefix}-{r}", **kwargs, **v) for r, v in enumerate(values)])


def length_rows(losses: dict[str, float]) -> pd.DataFrame:
    rows = []
    for run, loss in losses.items():
        for length, words in ((5, 10), (8, 4), (13, 2)):
            scale = 1.0 if length <= 7 else loss
            rows.append(
                {
                    "run": run,
                    "encoding": run.split("-")[1],
                    "source_length": length,
                    "words": words,
                    "unrepresentable": 0,
                    "correct": words // 2,
                    "loss_sum": scale * words * 10,
                    "characters": words * 10,
                }
            )
    frame = pd.DataFrame(rows)
    return frame.assign(word_accuracy=frame["correct"] / frame["words"], loss=frame["loss_sum"] / frame["characters"])


def results(close: bool) -> Results:
    """Two replicates each; `close`: sinusoidal and one-hot within each other's spread on longer words."""
    setup = params.load()
    setup = type(setup)(setup.shared, setup.config.model_copy(update={"replicates": [0, 1]}), setup.data)
    losses = {
        "positions-none-0": 3.0,
        "positions-none-1": 3.2,
        "positions-sinusoidal-0": 1.0,
        "positions-sinusoidal-1": 1.4,
        "positions-learned-0": 5.0,
        "positions-learned-1": 5.5,
        "positions-one-hot-0": 1.2 if close else 2.5,
        "positions-one-hot-1": 1.3 if close else 2.6,
    }
    positions = {
        "none": variant("none", "positions-none", [{"best_val_loss": 0.80}, {"best_val_loss": 0.82}]),
        "sinusoidal": variant("sinusoidal", "positions-sinusoidal", [{"best_val_loss": 0.25}, {"best_val_loss": 0.30}]),
        "learned": variant("learned", "positions-learned", [{"best_val_loss": 0.20}, {"best_val_loss": 0.22}]),
        "one-hot": variant("one-hot", "positions-one-hot", [{"best_val_loss": 0.45}, {"best_val_loss": 0.5}]),
    }
    attention = {
        "additive": variant("additive", "attention-additive", [{"seconds_per_epoch": 1.00}, {"seconds_per_epoch": 1.10}]),
        "scaled-dot": variant(
            "scaled-dot",
            "attention-scaled-dot",
            [{"seconds_per_epoch": 1.05, "parameters": 999}, {"seconds_per_epoch": 1.02, "parameters": 999}],
        ),
    }
    unmasked = variant("unmasked", "unmasked", [{"final_train_loss": 0.002, "val_word_accuracy": 0.0}] * 2, translation="ay ay oay")
    return Results(
        setup, positions, Variant("causal", positions["sinusoidal"].runs), unmasked, attention, length_rows(losses), "length-generalisation"
    )


def context(results: Results, tmp_path: Path | None = None, out=None) -> ReportContext:
    ctx = ReportContext(tmp_path or Path("."), out)
    ctx._memo[f"{STUDY.name}:results"] = results
    return ctx
