"""Stage `written_checks`: every written answer as a numeric check, written out and tracked.

`compute` runs the checks (each from its own generator, seeded from `written.seed`) and
collects their numbers, curves and failures; `run_checks` refuses to record a failed
check (one line naming it), then writes metrics/written/checks.json (its timing to
timings/written/checks.json), the curves plots/written/{jacobian,conv,maxpool}.csv and the
figures in outputs/written/, and logs all of it to one MLflow run, tagged with the hash
of the metrics and timings files (how the report finds it).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import pandas as pd

from pipeline.core.errors import PipelineError
from pipeline.core.io import write_metrics
from pipeline.core.params import SharedParams
from pipeline.core.tracked_run import TrackedRun
from pipeline.core.tracking import flatten
from pipeline.studies.written import CURVES, LINEAGE, METRICS, OUTPUTS, PLOTS, RUN, STAGE, STUDY, TABLE_NAMES, TIMINGS
from pipeline.studies.written.attention_questions import network_counts, network_failures, step_seconds
from pipeline.studies.written.figures import FILES, draw_figures
from pipeline.studies.written.gradients import relu_chain_check, relu_chain_failures, sigmoid_jacobian_check, sigmoid_jacobian_failures
from pipeline.studies.written.parameter_counts import classifier_counts, counts_failures, encoder_counts
from pipeline.studies.written.params import WrittenParams
from pipeline.studies.written.relative_attention import conv_check, conv_failures, maxpool_check, maxpool_failures
from pipeline.studies.written.tables import for_mlflow


@dataclass
class Results:
    metrics: dict  # metrics/written/checks.json, with its timing (timings/written/checks.json)
    tables: dict[str, pd.DataFrame]  # by TABLE_NAMES
    failures: list[str]  # one line per failed check; empty when every answer holds


def compute(config: WrittenParams) -> Results:
    seed, samples = config.seed, config.samples
    relu = relu_chain_check(config.chain_layers, samples, seed)
    jacobian, jacobian_table = sigmoid_jacobian_check(config.steps, config.jacobian_dim, samples, seed + 1)
    conv, conv_table = conv_check(config.conv_kernel, config.sequence_length, config.conv_channels, samples, config.scales, seed + 2)
    pool, pool_table = maxpool_check(config.maxpool_k, config.sequence_length, samples, config.scales, seed + 3)
    encoders = encoder_counts(config.encoder_sizes)
    classifiers, embedding = classifier_counts(
        config.vocab_size,
        config.embedding_dim,
        config.hidden_size,
        config.sequence_lengths,
        config.classifier_layers,
        config.classifier_logits,
        seed + 4,
    )
    encoder_network, decoder_network = network_counts(config.network_sizes, seed + 5)
    timing = step_seconds(config.timing_hidden, config.timing_length, config.timing_batch, config.timing_repeats, seed + 6)
    counts = {
        "encoders_match": bool(
            (encoders["gru"] == encoders["gru_formula"]).all()
            and (encoders["lstm"] == encoders["lstm_formula"]).all()
            and (encoders["gru_cell"] == encoders["gru_formula"]).all()
            and (encoders["lstm_cell"] == encoders["lstm_formula"]).all()
        ),
        "classifiers_match": bool((classifiers["parameters"] == classifiers["formula"]).all()),
        "embedding_parameters": embedding,  # V x E, counted apart (`with_embedding`)
        "rnn_same_for_every_length": bool(
            (classifiers[classifiers["network"] == "rnn"].groupby(["layers", "biases", "logits"])["parameters"].nunique() == 1).all()
        ),
    }
    failures = (
        relu_chain_failures(relu)
        + sigmoid_jacobian_failures(jacobian)
        + conv_failures(conv)
        + maxpool_failures(pool)
        + counts_failures(encoders, classifiers)
        + network_failures(encoder_network, decoder_network)
    )
    tables = {
        "jacobian": jacobian_table,
        "conv": conv_table,
        "maxpool": pool_table,
        "encoder_counts": encoders,
        "classifier_counts": classifiers,
        "encoder_network": encoder_network,
        "decoder_network": decoder_network,
        "attention_timing": timing,
    }
    metrics = {
        "relu_chain": relu,
        "sigmoid_jacobian": jacobian,
        "conv": conv,
        "maxpool": pool,
        "parameter_counts": counts,
        "attention": {
            "networks_match": not network_failures(encoder_network, decoder_network),
            "step_seconds_ratio": float(timing["ratio_to_rnn"].iloc[-1]),
            # Wall-clock rows: a timing (its name says so), written to the timings twin, not the metrics file.
            "step_seconds_table": _records(timing),
        },
        "checks_failed": len(failures),
        "tables": {name: _records(frame) for name, frame in tables.items() if name != "attention_timing"},
    }
    return Results(metrics, tables, failures)


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as plain Python numbers (JSON-ready)."""
    return [{key: (value.item() if hasattr(value, "item") else value) for key, value in row.items()} for row in frame.to_dict("records")]


def summary_metrics(metrics: dict) -> dict[str, float]:
    """The scalar numbers, flattened (`maxpool.max_ratio`): what the MLflow run records as metrics."""
    flat = flatten({key: value for key, value in metrics.items() if key != "tables"})
    return {key: float(value) for key, value in flat.items() if isinstance(value, (int, float))}


def run_checks(shared: SharedParams, config: WrittenParams) -> Results:
    started = time.perf_counter()
    results = compute(config)
    if results.failures:
        more = f" (and {len(results.failures) - 1} more)" if len(results.failures) > 1 else ""
        raise PipelineError(f"{STAGE}: a written answer failed its check: {results.failures[0]}{more}")
    figures = draw_figures(results.tables, config.maxpool_k)

    with TrackedRun(
        STUDY,
        RUN,
        stage=STAGE,
        shared=shared,
        dataset="synthetic-random-instances",
        model="written-answers",
        lineage=LINEAGE,
        description="Every written answer checked on seeded random instances: its numbers are the metrics, "
        "its curves and counts the tables, its plots the figures.",
    ) as run:
        run.tracker.log_params(config.model_dump())
        with run.outputs(clear=[METRICS, TIMINGS, PLOTS, OUTPUTS]) as out:
            write_metrics(out, METRICS, results.metrics)
            for name in CURVES:
                results.tables[name].to_csv(out.path(PLOTS / f"{name}.csv"), index=False, float_format="%.10g")
            for name, figure in figures.items():
                figure.savefig(out.path(OUTPUTS / FILES[name]), dpi=110, metadata={"Software": None})
        run.log_summary(summary_metrics(results.metrics))
        for name in TABLE_NAMES:
            run.tracker.log_table(for_mlflow(results.tables[name]), f"tables/{name}.json")
        for name, figure in figures.items():
            run.log_figure(figure, f"figures/{FILES[name]}")
    print(
        f"{STAGE}: every written answer holds (1.1.1, 1.1.2, 1.2.1, 1.3.1, 1.3.2, parameter counts, units and connections); "
        f"{time.perf_counter() - started:.1f}s after imports",
        file=sys.stderr,
    )
    return results
