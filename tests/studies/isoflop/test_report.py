"""The report's sentences and the answer sheet's entries, on a synthetic fit of known optimum
(MLflow left out: the runs are stand-ins holding the metrics the report reads)."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from pipeline.core.tracking import flatten
from pipeline.reporting import ReportContext
from pipeline.studies.isoflop import params
from pipeline.studies.isoflop.answers import ANSWERS
from pipeline.studies.isoflop.fit import fit_scaling
from pipeline.studies.isoflop.params import Setup
from pipeline.studies.isoflop.report import best_section, optimal_section, profiles_section
from pipeline.studies.isoflop.results import IsoflopResults, Reference, best_sentences, unflatten, verdict
from pipeline.translators.flops import parameter_count
from tests.params_helpers import PARAMS
from tests.studies.isoflop import synthetic

ROOT = Path(__file__).resolve().parents[3]
SIZES = {f"h{h}": parameter_count(h, 4, 30) for h in (16, 32, 48, 64, 96, 128)}
DECODER = {"cumulative_flops": 8.6e12, "non_embedding_parameters": 268_062, "cumulative_tokens": 5.0e6, "epochs_trained": 100}


def _run(name: str, metrics: dict):
    return SimpleNamespace(info=SimpleNamespace(run_name=name, run_id=name), data=SimpleNamespace(metrics=metrics, tags={}))


@pytest.fixture(scope="module")
def results() -> IsoflopResults:
    config = synthetic.config(bootstrap={"resamples": 20}, parametric={"starts": 2})
    curves = synthetic.grid_curves(SIZES, seeds=2, noise=0.01, reach={"h16": (1e10, 2.2e11), "h128": (8.6e10, 1.3e12)})
    fit = fit_scaling(curves, config, 30, 21.0, DECODER)
    real = params.load(PARAMS)
    runs = {
        m: [
            _run(
                f"{m}-s{s}",
                {
                    "non_embedding_parameters": SIZES[m],
                    "epochs_trained": len(c),
                    "cumulative_flops": c["cumulative_flops"].iloc[-1],
                    "best_val_loss": c["val_loss"].min(),
                    "best_val_loss_batch_mean": c["val_loss_batch_mean"].min(),
                    "train_seconds": 30.0,
                    "flops_per_second": 4e10,
                },
            )
            for s, c in enumerate(frames)
        ]
        for m, frames in curves.items()
    }
    # Through MLflow a null (no answer) is left out: the report reads what remains.
    metrics = unflatten({k: v for k, v in flatten(fit.metrics).items() if v is not None})
    return IsoflopResults(
        Setup(real.shared, config, real.data),
        runs,
        curves,
        None,
        metrics,
        fit.table,
        fit.points,
        fit.best,
        fit.draws,
        _run("decoder-only h128-small", DECODER),
    )


@pytest.fixture
def ctx(results, prepared_piglatin) -> ReportContext:
    context = ReportContext(root=prepared_piglatin, out=None)
    context._memo["isoflop"] = results
    return context


def sentences(text: str) -> int:
    return len(re.findall(r"[.!?](?:\s|$)", text))


def test_verdict_against_an_interval():
    assert [verdict(v, 2.0, 5.0) for v in (1.0, 2.0, 5.0, 6.0)] == ["smaller", "within the uncertainty", "within the uncertainty", "larger"]


def test_reference_sentences_follow_the_verdict():
    small = Reference("decoder-only h128-small", 8.6e12, 2.0e5, 5.0e6, 100, (1e6, 5e5, 3e6), (1e6, 4e5, 2e6), 0.8)
    text = " ".join(small.sentences(0.95))
    assert sentences(text) == 3
    assert "its model is smaller than compute-optimal" in text and "it trains on more tokens" in text
    assert "train a larger model on fewer tokens" in text and "0.8 decades beyond" in text
    within = Reference("r", 8.6e12, 8.0e5, 1.5e6, 100, (1e6, 5e5, 3e6), (1e6, 4e5, 2e6), -0.2)
    assert "both within the uncertainty" in " ".join(within.sentences(0.95))


def test_answers_stay_within_their_limits_and_state_their_numbers(ctx, results):
    answers = {question: answer(ctx) for question, answer in ANSWERS.items()}
    assert set(answers) == {"A25-2.3.1a", "A25-2.3.1b", "A25-2.3.2", "A25-2.3.3", "A25-2.3.4"}
    for question in ("A25-2.3.1b", "A25-2.3.4"):
        assert sentences(answers[question].text) <= 3, answers[question].text
    ours = results.metrics["estimates"]["val_loss"]["isoflop"]
    assert f"{ours['n_opt']:.3g} [{ours['n_opt_low']:.3g}, {ours['n_opt_high']:.3g}]" in answers["A25-2.3.3"].text
    assert [c.__name__ for c in answers["A25-2.3.2"].code] == ["find_optimal_params", "isoflop_profiles"]
    assert answers["A25-2.3.3"].code and answers["A25-2.3.2"].link == "IsoFLOP profiles"
    reference = results.metrics["reference_setup"]
    expected = verdict(DECODER["non_embedding_parameters"], reference["n_opt_low"], reference["n_opt_high"])
    assert (expected in answers["A25-2.3.4"].text) or (
        expected == "within the uncertainty" and "within the uncertainty" in answers["A25-2.3.4"].text
    )
    for answer in answers.values():
        assert answer.link and all(len(pair) == 2 for pair in answer.numbers)


def test_best_sentences_are_computed_from_the_table(results):
    first, second = best_sentences(results)
    best = results.best
    assert first.startswith("At a fixed budget the lowest loss belongs to")
    assert f"at {int((~best['larger_always_better'].astype(bool)).sum())} of {len(best)} budgets" in second


def test_sections_render(results):
    lines = best_section(results) + profiles_section(results) + optimal_section(results)
    text = "\n".join(lines)
    assert "### IsoFLOP profiles" in text and "### Which model is best at each budget" in text
    assert "11 of 11 count" in text  # every synthetic budget counts, in both losses
    for approach in ("1: lower envelope", "2: IsoFLOP profiles", "3: parametric L(N, D)"):
        assert text.count(approach) == 2  # one row per loss definition
    assert np.isfinite(results.estimate("val_loss", "parametric", "alpha")[0])
    assert isinstance(results.best, pd.DataFrame)


def test_the_whole_section_renders_its_figures_and_tables(results, ctx, tmp_path):
    from pipeline.studies.isoflop.report import render

    def path(relative):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        return tmp_path / relative

    ctx.out = SimpleNamespace(path=path)
    text = "\n".join(render(ctx))
    assert text.startswith("## IsoFLOP grid and scaling laws") and "### Is the decoder-only setup compute-optimal?" in text
    for figure in ("scaling_loss_vs_flops", "scaling_isoflop_profiles", "scaling_compute_optimal"):
        assert (tmp_path / "reports" / "figures" / f"{figure}.png").read_bytes()[:4] == b"\x89PNG"
    members = pd.read_csv(tmp_path / "reports" / "tables" / "isoflop_members.csv")
    assert list(members["model"]) == list(SIZES) and members["epochs trained"].iloc[0] == "40 / 40"
