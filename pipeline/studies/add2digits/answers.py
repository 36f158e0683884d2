"""The Add2Digits entries of the answer sheet: the sister course's homework 3, questions 1.1-1.3.

Every sentence that states a result is built from the numbers it quotes, read from the runs
behind the current outputs (`results`, the same reads as the report section's). A claim that one
cell beats the other at a length is made only where the data size lets a cell learn the task and
the seeds do not overlap (`results.compare`); the homework's protocol has one run per cell, so it
states its numbers without a claim. Published figures come from params.yaml and are attributed to
what they come from: the homework's reference run, or a later variant of the course.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.reporting import Answer, AnswerFunction, ReportContext
from pipeline.studies.add2digits import GRADIENTS_RUN, length_value, run_name
from pipeline.studies.add2digits.gradient_table import first_over_last
from pipeline.studies.add2digits.params import Add2DigitsParams
from pipeline.studies.add2digits.results import Results, config_of, load, load_gradients, mean_std, published_figures

GRADIENTS = "Gradient reaching each input (HW3-1.1)"
EXTENDED = "Beyond the homework's protocol: more data, several seeds"
PROTOCOL_TABLE = "Homework protocol: test accuracy per run"

# What the reference run states, in the protocol answer's words.
PUBLISHED_PROSE = {
    "best_test_accuracy": "test accuracy peaking at {:.3f}",
    "final_test_accuracy": "ending at {:.3f}",
    "test_accuracy": "test accuracy about {:.2f}",
    "train_accuracy_1_by_epoch": "training accuracy 1.0 from about step {}",
}


def protocol_heading(length: str) -> str:
    return f"Homework protocol at length {length_value(length)}"


def _steps(value: float | None) -> str:
    return "never" if value is None or np.isnan(value) else f"at step {int(value)}"


def later_variant_text(config: Add2DigitsParams, length: str) -> str:
    variant = config.published.later_variant
    values = {cell: variant.test_accuracy.get(run_name(cell, length)) for cell in config.matrix.cell}
    if not any(value is not None for value in values.values()):
        return ""
    shown = " / ".join(f"{cell.upper()} {value:.3f}" for cell, value in values.items() if value is not None)
    return (
        f"A later published variant of the course, not the homework's protocol ({variant.train_examples:,} training "
        f"examples, {variant.epochs} epochs), reported {shown} at this length."
    )


def extended_sentence(results: Results, length: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    config = results.config
    grid = config.extended.active
    accuracies = results.accuracies(length)
    verdict = results.verdict(length)
    shown = ", ".join(f"{cell.upper()} {mean_std(values)[0]:.3f} ± {mean_std(values)[1]:.3f}" for cell, values in accuracies.items())
    text = (
        f"With {grid.train_examples:,} training examples, mini-batches and early stopping ({len(grid.seeds)} seeds, preset "
        f"`{config.extended.preset}`) the test accuracy is {shown}: {verdict}."
    )
    numbers = tuple(
        (f"test accuracy, runs `{run_name(cell, length)}-extended-s{seed}`", f"{value:.3f}")
        for cell, values in accuracies.items()
        for seed, value in zip(grid.seeds, values)
    )
    return text, numbers


def protocol_answer(length: str) -> AnswerFunction:
    """HW3-1.2 at one length: the two graphs (the linked heading's figure) and what they show."""

    def answer(ctx: ReportContext) -> Answer:
        config = config_of(ctx)
        if length not in config.matrix.length:
            return Answer(
                f"Length {length_value(length)} is not trained: `add2digits.matrix.length` is {config.matrix.length}.", link=EXTENDED
            )
        results = load(ctx)
        extended, extended_numbers = extended_sentence(results, length)
        variant = later_variant_text(config, length)
        n, protocol = length_value(length), config.reference
        if not config.runs_reference(length):
            text = (
                f"The homework's protocol was not run at length {n} (`add2digits.reference.lengths`), so there are no "
                f"graphs of it here. {extended} {variant}"
            ).strip()
            return Answer(text, extended_numbers, link=EXTENDED)
        baseline = results.baselines[f"{length}/reference"]
        runs = {cell: results.reference[(cell, length)] for cell in config.matrix.cell}
        finals = " / ".join(f"{cell.upper()} {m['final_test_accuracy']:.3f}" for cell, m in runs.items())
        bests = " / ".join(f"{m['best_test_accuracy']:.3f} (step {int(m['best_test_epoch'])})" for m in runs.values())
        fitted = " / ".join(_steps(m.get("first_epoch_train_accuracy_1")) for m in runs.values())
        learned = [cell for cell, m in runs.items() if m["final_test_accuracy"] >= config.fails_below]
        memorised = all(m["final_train_accuracy"] >= 1.0 for m in runs.values())
        if learned:
            verdict = (
                f"The {' and '.join(c.upper() for c in learned)} learns the task here (test accuracy at least "
                f"{config.fails_below:g}); with one run per cell the protocol measures no spread, so the gap is not "
                "established by it alone."
            )
        else:
            verdict = (
                f"Neither run reaches a test accuracy of {config.fails_below:g}"
                + (
                    " although both fit their training set: with so few examples they memorise it rather than learn "
                    "the rule, so this data size cannot compare the cells here"
                    if memorised
                    else ""
                )
                + "; with one run per cell the protocol also measures no spread."
            )
        published = "; ".join(
            f"{cell.upper()}: {text}"
            for cell in config.matrix.cell
            if (text := published_figures(config.published.reference.get(run_name(cell, length)), PUBLISHED_PROSE))
        )
        published = (
            f"The homework's reference run (RNN only) reported {published}."
            if published
            else "The homework's reference run shows nothing at this length."
        )
        text = (
            f"The figure under the linked heading shows the homework's protocol at length {n} ({protocol.train_examples} "
            f"training and {protocol.examples - protocol.train_examples} test examples, full-batch Adam for {protocol.epochs} "
            f"steps, lr {protocol.lr.rnn:g} RNN / {protocol.lr.lstm:g} LSTM): training loss per step (top) and training and "
            f"test accuracy per step (bottom), RNN and LSTM. "
            f"Final test accuracy {finals} (best {bests}) against a majority-class baseline of {baseline:.2f}; training "
            f"accuracy reaches 1.0 {fitted}. {verdict} {published} {extended} {variant}"
        ).strip()
        numbers = (
            tuple(
                (f"{what}, run `{run_name(cell, length)}`", fmt(m))
                for cell, m in runs.items()
                for what, fmt in (
                    ("final test accuracy", lambda m: f"{m['final_test_accuracy']:.3f}"),
                    ("best test accuracy", lambda m: f"{m['best_test_accuracy']:.3f}"),
                    ("final training accuracy", lambda m: f"{m['final_train_accuracy']:.3f}"),
                )
            )
            + (("majority-class baseline, test split (prepare stage)", f"{baseline:.3f}"),)
            + extended_numbers
        )
        return Answer(text, numbers, link=protocol_heading(length))

    return answer


# ------------------------------------------------------------------- HW3-1.1: the gradients


def gradient_summary(ctx: ReportContext) -> pd.DataFrame:
    """first_over_last and per_step of every measured model, with its test accuracy from its training run."""

    def compute() -> pd.DataFrame:
        results = load(ctx)
        config = results.config
        summary = first_over_last(load_gradients(ctx))
        accuracy = {}
        for (cell, length), runs in results.extended.items():
            for seed, m in zip(config.extended.active.seeds, runs):
                accuracy[f"{run_name(cell, length)}-extended-s{seed}"] = m["test_accuracy"]
        for (cell, length), m in results.reference.items():
            accuracy[run_name(cell, length)] = m["final_test_accuracy"]
        summary["test_accuracy"] = summary["model"].map(accuracy)
        return summary

    return ctx.memo("add2digits:gradient_summary", compute)


def _range(values: pd.Series, fmt: str = ".2g") -> str:
    low, high = values.min(), values.max()
    return f"{low:{fmt}}" if f"{low:{fmt}}" == f"{high:{fmt}}" else f"{low:{fmt}} to {high:{fmt}}"


def gradient_answer(ctx: ReportContext) -> Answer:
    config = config_of(ctx)
    if set(config.matrix.cell) != {"rnn", "lstm"}:
        return Answer(f"The comparison needs both cells; `add2digits.matrix.cell` is {config.matrix.cell}.", link=GRADIENTS)
    summary = gradient_summary(ctx)
    longest = max(config.matrix.length, key=length_value)
    n = length_value(longest)
    seeds = summary[(summary["length"] == n) & (summary["grid"] == "extended")]
    initial = {cell: seeds[(seeds["cell"] == cell) & (seeds["weights"] == "initial")] for cell in ("rnn", "lstm")}
    trained = {cell: seeds[(seeds["cell"] == cell) & (seeds["weights"] == "trained")] for cell in ("rnn", "lstm")}
    slower_at_init = initial["lstm"]["per_step"].min() > initial["rnn"]["per_step"].max()
    faster_at_init = initial["lstm"]["per_step"].max() < initial["rnn"]["per_step"].min()
    init_verdict = (
        "the LSTM's gradient shrinks more slowly per step on every seed"
        if slower_at_init
        else "the LSTM's gradient shrinks faster per step on every seed"
        if faster_at_init
        else "the two cannot be told apart (their seeds overlap)"
    )
    learners = trained["lstm"][trained["lstm"]["test_accuracy"] >= config.fails_below]
    apart = trained["lstm"]["first_over_last"].min() > trained["rnn"]["first_over_last"].max()
    if apart:
        trained_verdict = "every LSTM seed keeps more of it than every RNN seed"
    else:
        trained_verdict = "the seeds overlap, so the two cannot be told apart on the ratio alone"
    best = trained["lstm"].loc[trained["lstm"]["test_accuracy"].idxmax()]
    text = (
        "A plain RNN carries everything through h_t = tanh(W_hh h_(t-1) + W_xh x_t), so the gradient reaching an input d "
        "steps before the end is a product of d Jacobians diag(tanh') W_hh: it shrinks geometrically when their norms are "
        "below 1 (or explodes above 1), and on long sequences the loss barely reaches the early inputs, here the digit after "
        "the marker. "
        "An LSTM also carries a cell state updated additively, c_t = f_t * c_(t-1) + i_t * g_t, whose step Jacobian along that "
        "path is diag(f_t): a product of forget gates, which training can hold near 1, so information and gradient can "
        "survive many steps, and the LSTM should beat the RNN when the input is long. "
        f"Measured (mean norm of d loss / d x_t over the test split, by distance from the end; the {len(initial['rnn'])} "
        f"extended-grid seeds of each cell at length {n}): at initialisation the gradient at the first input is "
        f"{_range(initial['rnn']['first_over_last'])} (RNN) and {_range(initial['lstm']['first_over_last'])} (LSTM) times "
        f"that at the last, a factor of {_range(initial['rnn']['per_step'], '.3f')} and "
        f"{_range(initial['lstm']['per_step'], '.3f')} per step, so {init_verdict}. "
        f"After training the ratio is {_range(trained['rnn']['first_over_last'])} for the RNN and "
        f"{_range(trained['lstm']['first_over_last'])} for the LSTM: {trained_verdict}; the LSTM seed that scores best "
        f"(test accuracy {best['test_accuracy']:.3f}) keeps {best['first_over_last']:.2g} of it"
        + (
            f", and the {len(learners)} LSTM seed(s) that learn the task (test accuracy at least {config.fails_below:g}) keep "
            f"{_range(learners['first_over_last'])}."
            if len(learners)
            else f", and no LSTM seed learns the task at this length (test accuracy at least {config.fails_below:g}) with this data size."
        )
    )
    numbers = tuple(
        (
            f"gradient at the first input / at the last, {row.weights} weights, model `{row.model}` (run `{GRADIENTS_RUN}`)",
            f"{row.first_over_last:.3g}",
        )
        for row in seeds.itertuples()
    ) + tuple((f"test accuracy, run `{row.model}`", f"{row.test_accuracy:.3f}") for row in trained["lstm"].itertuples())
    return Answer(text, numbers, link=GRADIENTS)


# ------------------------------------------------------------------- HW3-1.3: the analysis


def analysis_answer(ctx: ReportContext) -> Answer:
    results = load(ctx)
    config = results.config
    grid = config.extended.active
    lengths = sorted(config.matrix.length, key=length_value)
    comparisons = {length: results.comparison(length) for length in lengths}
    ahead = [length for length, c in comparisons.items() if c.kind == "ahead" and c.leader == "lstm"]
    silent = [length for length, c in comparisons.items() if c.kind == "neither"]
    protocol = results.reference_lengths
    finals = "; ".join(
        f"length {length_value(length)}: "
        + " / ".join(f"{cell.upper()} {results.reference[(cell, length)]['final_test_accuracy']:.2f}" for cell in config.matrix.cell)
        for length in protocol
    )
    memorised = sum(m["final_train_accuracy"] >= 1.0 for m in results.reference.values())
    summary = gradient_summary(ctx)

    def names(chosen: list[str]) -> str:
        return ", ".join(str(length_value(length)) for length in chosen)

    support = (
        f"(i) Partly. Under the homework's protocol ({config.reference.train_examples} training examples) the final test "
        f"accuracies are {finals}, and {memorised} of {len(results.reference)} runs fit their training set "
        "exactly: the runs memorise, each cell is run once, and the differences carry no measured spread, so the "
        "protocol alone neither confirms nor refutes the hypothesis. "
        f"With {grid.train_examples:,} training examples and {len(grid.seeds)} seeds, "
        + "; ".join(results.verdict(length) for length in lengths)
        + ". "
        + (
            f"The data support the hypothesis where a cell can learn the task at this data size (the LSTM is ahead at length "
            f"{names(ahead)}), "
            if ahead
            else "No length shows the LSTM ahead at this data size, "
        )
        + (
            f"and say nothing at length {names(silent)}, where neither cell learns: there the comparison needs more data, such as "
            f"the later variant's {config.published.later_variant.train_examples:,} examples (preset `train_5000`)."
            if silent
            else "and no length is beyond both cells."
        )
        + " The gradient measurement of HW3-1.1 tests the mechanism the hypothesis rests on, apart from accuracy."
    )
    seeds_lr = f"{config.reference.lr.rnn:g} / {config.reference.lr.lstm:g}"
    weaknesses = (
        f" (ii) Weaknesses: {config.reference.train_examples} training examples for 100 digit pairs at up to "
        f"{max(length_value(length) for length in lengths) - 2} marker positions, so the models memorise; one run per cell, "
        "so no spread; no validation split, so the test split is watched every step and a best-of-curve accuracy is "
        f"optimistic; learning rates that differ by cell ({seeds_lr}) and are not tuned; a fixed {config.reference.epochs} "
        "full-batch steps whatever the curve does; and accuracy alone, which says whether a cell failed but not why. "
        "Fixes: more data per length (the extended grid above, the later variant's 5,000); several seeds per cell with "
        "mean and spread; separate validation (early stopping, kept weights) and test splits; the same tuning budget for "
        "both cells; and a direct measure of the mechanism, the gradient reaching each input "
        f"({len(summary[summary['weights'] == 'trained'])} trained models measured)."
    )
    numbers = tuple(
        (f"final test accuracy, run `{run_name(cell, length)}`", f"{results.reference[(cell, length)]['final_test_accuracy']:.3f}")
        for length in protocol
        for cell in config.matrix.cell
    ) + tuple(
        (f"mean test accuracy over {len(grid.seeds)} seeds, runs `{run_name(cell, length)}-extended-s*`", f"{mean_std(values)[0]:.3f}")
        for length in lengths
        for cell, values in results.accuracies(length).items()
    )
    return Answer(support + weaknesses, numbers, link=EXTENDED)


ANSWERS: dict[str, AnswerFunction] = {
    "HW3-1.1": gradient_answer,
    **{f"HW3-1.2-L{n}": protocol_answer(f"L{n}") for n in (5, 10, 30)},  # the lengths the homework asks for
    "HW3-1.3": analysis_answer,
}
