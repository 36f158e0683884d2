"""The answer sheet's entries of the IsoFLOP study (assignment §2.3): the plot, the profiles, the
compute-optimal size at 1e15 FLOPs with its interval, and the verdict on the decoder-only run."""

from __future__ import annotations

from pipeline.reporting import Answer, AnswerFunction, ReportContext
from pipeline.studies.isoflop import APPROACHES, LOSSES, PARENT_RUN_NAME, PRIMARY_LOSS, STUDY
from pipeline.studies.isoflop.bootstrap import bootstrap, percentile_interval
from pipeline.studies.isoflop.results import best_sentences, interval, load, reference
from pipeline.studies.isoflop.scaling import ComputeOptimal, find_optimal_params, fit_power_law, isoflop_profiles

# Report headings the answers link to.
HEADLINE = f"IsoFLOP grid and scaling laws (MLflow experiment `{STUDY.experiment}`, parent run `{PARENT_RUN_NAME}`)"
PROFILES = "IsoFLOP profiles"
BEST = "Which model is best at each budget"
OPTIMAL = "Compute-optimal model size and tokens"
REFERENCE = "Is the decoder-only setup compute-optimal?"

PARENT = f"parent run `{PARENT_RUN_NAME}`"


def loss_plot(ctx: ReportContext) -> Answer:
    """A25-2.3.1a: the plot of validation loss against FLOPs, one curve per model (and seed)."""
    r = load(ctx)
    numbers = tuple(
        (f"cumulative training FLOPs reached, run `{run.info.run_name}`", f"{run.data.metrics['cumulative_flops']:.3g}")
        for runs in r.runs.values()
        for run in runs
    )
    seeds = len(r.config.matrix.seed)
    text = (
        f"The figure `figures/scaling_loss_vs_flops.png` plots validation loss against cumulative training FLOPs for "
        f"the {len(r.runs)} models, {seeds} run(s) each (one line per seed, the model's colour), the "
        f"{r.config.scaling.budgets.count} budgets dotted; the losses at a budget are read off these curves, so the "
        "epoch counts the assignment asks for need no extra training."
    )
    return Answer(text, numbers, link=HEADLINE)


def bigger_is_better(ctx: ReportContext) -> Answer:
    """A25-2.3.1b (at most 3 sentences): which model is best per budget; is bigger always better."""
    r = load(ctx)
    best = r.best[r.best["models"] > 0]
    numbers = tuple((f"best model at {row.budget:.3g} FLOPs ({LOSSES[PRIMARY_LOSS]}, {PARENT})", row.best) for row in best.itertuples())
    return Answer(" ".join(best_sentences(r)), numbers, link=BEST)


def profiles(ctx: ReportContext) -> Answer:
    """A25-2.3.2: the function finding each budget's optimal parameter count, and the fitted profiles."""
    r = load(ctx)
    rows = r.table[r.table["loss"] == PRIMARY_LOSS]
    counted = rows[rows["counts"].astype(bool)]
    numbers = tuple((f"N_opt at {row.budget:.3g} FLOPs (R² {row.r2:.2f}, {PARENT})", f"{row.n_opt:.3g}") for row in counted.itertuples())
    s = r.config.scaling
    text = (
        f"`find_optimal_params` fits loss = a x² + b x + c with x = log10 N over the models that reached a budget "
        "(the loss not log-transformed) and returns the vertex N_opt = 10^(-b/2a); `isoflop_profiles` runs it at each of "
        f"the {s.budgets.count} budgets ({s.budgets.low:.3g} to {s.budgets.high:.3g} FLOPs). {len(counted)} of them count "
        f"(at least {s.min_models_per_budget} models, a convex parabola with R² >= {s.min_r2:g}, the vertex among the "
        f"sizes{f' give or take {s.vertex_margin:g} decades' if s.vertex_margin else ''}); the fitted profiles are the "
        "figure `figures/scaling_isoflop_profiles.png`."
    )
    return Answer(text, numbers, code=(find_optimal_params, isoflop_profiles), link=PROFILES)


def optimal_size(ctx: ReportContext) -> Answer:
    """A25-2.3.3: N_opt at 1e15 FLOPs with its interval, and how it was estimated."""
    r = load(ctx)
    m, boot = r.metrics, r.config.scaling.bootstrap
    target = m["target_compute"]
    ours = r.estimate(PRIMARY_LOSS, "isoflop", "n_opt")
    slope = r.estimate(PRIMARY_LOSS, "isoflop", "slope")
    numbers = [
        (f"N_opt({target:.0e}), approach 2, {LOSSES[PRIMARY_LOSS]}, {PARENT}", interval(*ours)),
        (f"slope of log10 N_opt in log10 C, approach 2, {PARENT}", interval(*slope)),
    ]
    others = []
    for loss in LOSSES:
        for approach, name in APPROACHES.items():
            if (loss, approach) == (PRIMARY_LOSS, "isoflop"):
                continue
            value = r.estimate(loss, approach, "n_opt")
            numbers.append((f"N_opt({target:.0e}), approach {name}, {LOSSES[loss]}, {PARENT}", interval(*value)))
            others.append(f"approach {name[0]} with {LOSSES[loss].split(' (')[0]}: {value[0]:.3g}")
    agree = [LOSSES[loss].split(" (")[0] for loss in LOSSES if r.agree(loss)]
    text = (
        f"N_opt({target:.3g} FLOPs) = **{interval(*ours)}** parameters ({r.level:.0%} interval, {LOSSES[PRIMARY_LOSS]}). "
        "Method: at each budget the vertex of the IsoFLOP parabola (A25-2.3.2); a least-squares line "
        f"log10 N_opt = m log10 C + k through the vertices of the {int(m['budgets_fitted'])} budgets that count "
        f"(`fit_power_law`, the notebook's `fit_linear_log`; m = {interval(*slope)}), read at C = {target:.3g}. "
        f"The interval is the central {r.level:.0%} of {boot.resamples} bootstrap refits that draw the models and then "
        "each model's seeds with replacement (`bootstrap`, `percentile_interval`). The other estimators of Hoffmann et "
        "al. (2022) and the notebooks' loss on the same curves: " + "; ".join(others) + ". The three approaches' "
        "intervals "
        + (f"overlap with {' and with '.join(agree)}." if agree else "do not all overlap in either loss.")
        + ("" if len(agree) in (0, len(LOSSES)) else " They do not all overlap with the other.")
    )
    return Answer(text, tuple(numbers), code=(fit_power_law, ComputeOptimal, bootstrap, percentile_interval), link=OPTIMAL)


def reference_setup(ctx: ReportContext) -> Answer:
    """A25-2.3.4 (at most 3 sentences): the decoder-only run's size and tokens against the intervals."""
    r = load(ctx)
    found = reference(r)
    if found is None:
        return Answer(
            "The decoder-only run was not trained when the fit ran, so there is no verdict; rerun "
            "`dvc repro fit_scaling` after `train_decoder_only`.",
            link=REFERENCE,
        )
    numbers = (
        (f"training FLOPs, run `{found.run}`", f"{found.compute:.3g}"),
        (f"non-embedding parameters, run `{found.run}`", f"{found.parameters:,.0f}"),
        (f"training tokens, run `{found.run}`", f"{found.tokens:.3g}"),
        (f"N_opt at its compute, approach 2, {PARENT}", interval(*found.n_opt)),
        (f"D_opt at its compute, approach 2, {PARENT}", interval(*found.d_opt)),
    )
    return Answer(" ".join(found.sentences(r.level)), numbers, link=REFERENCE)


ANSWERS: dict[str, AnswerFunction] = {
    "A25-2.3.1a": loss_plot,
    "A25-2.3.1b": bigger_is_better,
    "A25-2.3.2": profiles,
    "A25-2.3.3": optimal_size,
    "A25-2.3.4": reference_setup,
}
