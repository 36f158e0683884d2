"""Report section: the IsoFLOP grid and the scaling-law fits (MLflow experiment `isoflop`).

Everything is read from MLflow (`results.py`): the grid's runs by the hash of their current DVC
outputs, the fits from the grid's parent run. Every sentence that states a result is computed
here from the numbers that make it true.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.core import figures
from pipeline.reporting import FIGURES, TABLES, ReportContext, Section
from pipeline.studies.isoflop import APPROACHES, LOSSES, PRIMARY_LOSS, STUDY
from pipeline.studies.isoflop.answers import ANSWERS, BEST, HEADLINE, OPTIMAL, PROFILES, REFERENCE
from pipeline.studies.isoflop.figures import draw_figures
from pipeline.studies.isoflop.results import IsoflopResults, best_sentences, interval, load, parent_ids, reference
from pipeline.translators.flops import hidden_size_for
from pipeline.translators.vocab import VOCAB_FILE, Vocabulary


def render(ctx: ReportContext) -> list[str]:
    r = load(ctx)
    config, out = r.config, ctx.out
    members = members_table(r)
    members.to_csv(out.path(TABLES / "isoflop_members.csv"), index=False)
    r.table.to_csv(out.path(TABLES / "isoflop_budget_fits.csv"), index=False)
    for key, figure in draw_figures(r.curves, r.table, r.points, r.metrics, r.draws, config).items():
        figures.save(figure, out.path(FIGURES / f"scaling_{key}.png"))
    seeds = len(config.matrix.seed)
    return [
        f"## {HEADLINE}",
        "",
        f"{len(config.matrix.model)} decoder-only models ({config.train.num_layers} layer(s), {config.train.dataset} data, "
        f"batch {config.train.batch_size}), each trained with {seeds} seed(s) (`{STUDY.name}.matrix.seed`: the "
        "initialisation and batch order); training FLOPs counted per batch with the assignment's formula "
        "(`pipeline/translators/flops.py`). "
        + (
            f"Each run stops after the epoch that passes {config.stop_at_flops:.3g} FLOPs "
            "(`isoflop.stop_at_flops`): the fits need each curve only up to the largest budget."
            if config.stop_at_flops
            else "Every run trains all epochs."
        ),
        "",
        members.to_markdown(index=False),
        "",
        f"All {sum(map(len, r.runs.values()))} runs are child runs of the parent run "
        f"{', '.join(f'`{p}`' for p in sorted(map(str, parent_ids(r))))}. Columns with `a / b` give each seed's value; "
        "`GFLOP/s` is the formula's training FLOPs over wall time.",
        "",
        "![loss vs FLOPs](figures/scaling_loss_vs_flops.png)",
        "",
        *best_section(r),
        *profiles_section(r),
        *optimal_section(r),
        *reference_section(r, ctx),
    ]


def members_table(r: IsoflopResults) -> pd.DataFrame:
    rows = []
    for model, runs in r.runs.items():
        m = [run.data.metrics for run in runs]

        def each(key: str, fmt: str = "{:.4g}") -> str:
            return " / ".join(fmt.format(x[key]) for x in m)  # noqa: B023 - called within its iteration

        rows.append(
            {
                "model": model,
                "hidden": r.config.matrix.hidden_sizes()[model],
                "N (non-embedding)": int(m[0]["non_embedding_parameters"]),
                "epochs trained": each("epochs_trained", "{:.0f}"),
                "cumulative FLOPs": each("cumulative_flops", "{:.3g}"),
                "lowest val loss": each("best_val_loss"),
                "lowest val loss (notebooks')": each("best_val_loss_batch_mean"),
                "train seconds": each("train_seconds", "{:.1f}"),
                "GFLOP/s": each("flops_per_second", "{:.3g}").replace("e+09", "e9"),
            }
        )
    return pd.DataFrame(rows)


def best_section(r: IsoflopResults) -> list[str]:
    best = r.best
    shown = best.assign(budget=best["budget"].map(lambda v: f"{v:.3g}"))
    return [
        f"### {BEST}",
        "",
        f"At each budget, the models that reached it ranked by {LOSSES[PRIMARY_LOSS]} (mean over seeds); "
        "an inversion is a model worse than the next smaller one, set against the larger of the two models' seed ranges "
        "(max - min over seeds): one within that range cannot be told apart from run noise.",
        "",
        shown.to_markdown(index=False),
        "",
        " ".join(best_sentences(r)),
        "",
    ]


def profiles_section(r: IsoflopResults) -> list[str]:
    s, metrics = r.config.scaling, r.metrics
    wide = []
    for loss in LOSSES:
        rows = r.table[r.table["loss"] == loss].set_index("budget")
        wide.append(
            pd.DataFrame(
                {
                    f"N_opt, {loss}": rows["n_opt"].map(lambda v: f"{v:.3g}" if pd.notna(v) else ""),
                    f"R², {loss}": rows["r2"].map(lambda v: f"{v:.2f}" if pd.notna(v) else ""),
                    f"left out, {loss}": rows["skipped"].fillna(""),
                }
            )
        )
    first = r.table[r.table["loss"] == PRIMARY_LOSS].set_index("budget")
    shown = pd.concat([first[["models"]], *wide], axis=1).reset_index()
    shown["budget"] = shown["budget"].map(lambda v: f"{v:.3g}")
    counted = {loss: r.table[(r.table["loss"] == loss) & r.table["counts"].astype(bool)] for loss in LOSSES}
    return [
        f"### {PROFILES}",
        "",
        "The loss of each run at a budget C is read off its per-epoch validation curve by linear interpolation in "
        "log10(cumulative FLOPs) between the two evaluations that bracket C; never extrapolated: a model whose curve ends "
        "before C, or whose first evaluation comes after C, is left out there. A model's loss is the mean over its seeds. "
        "Reading losses off the curves costs no training, so the fit uses "
        f"{s.budgets.count} budgets, log-spaced from {s.budgets.low:.3g} to {s.budgets.high:.3g} FLOPs "
        f"(`{STUDY.name}.scaling.budgets`). Per budget: loss = a x² + b x + c with x = log10 N (the loss itself not "
        "log-transformed), N_opt = 10^(-b / 2a) (`find_optimal_params`), D_opt = C / (training FLOPs per token of an "
        f"N_opt model) at the data's token-weighted mean sequence length ({metrics['mean_tokens_per_sequence']:.2f} tokens).",
        "",
        f"**Which budgets count** (`{STUDY.name}.scaling`, the same rule in every bootstrap draw): at least "
        f"{s.min_models_per_budget} distinct models reached it (a parabola has 3 coefficients), the parabola is convex "
        f"with R² >= {s.min_r2:g}, and its vertex lies within the sizes that reached it"
        + (f" (give or take {s.vertex_margin:g} decades). " if s.vertex_margin else ". ")
        + " ".join(
            f"With {LOSSES[loss]}, {len(rows)} of {s.budgets.count} count"
            + (f" ({', '.join(f'{b:.3g}' for b in rows['budget'])})." if len(rows) else ".")
            for loss, rows in counted.items()
        ),
        "",
        shown.to_markdown(index=False),
        "",
        "![IsoFLOP profiles](figures/scaling_isoflop_profiles.png)",
        "",
    ]


def optimal_section(r: IsoflopResults) -> list[str]:
    m, config = r.metrics, r.config
    target, level, boot = m["target_compute"], r.level, config.scaling.bootstrap
    low, high = config.published.n_opt_at_1e15
    slow, shigh = config.published.slope
    rows = []
    for loss in LOSSES:
        for approach, name in APPROACHES.items():
            values = m["estimates"][loss][approach]
            rows.append(
                {
                    "loss": LOSSES[loss],
                    "approach": name,
                    f"N_opt({target:.0e}) [{level:.0%}]": interval(*r.estimate(loss, approach, "n_opt")),
                    f"D_opt({target:.0e}) [{level:.0%}]": interval(*r.estimate(loss, approach, "d_opt")),
                    "slope of log N_opt": interval(*r.estimate(loss, approach, "slope")),
                    "draws without an answer": f"{int(values.get('failed_draws', 0))} of {boot.resamples}",
                }
            )
    agreement = " ".join(
        f"With {LOSSES[loss]}, the three N_opt intervals {'overlap' if r.agree(loss) else 'do not all overlap'}: the "
        f"approaches {'agree within their uncertainty' if r.agree(loss) else 'disagree'}."
        for loss in LOSSES
    )
    iso = m["estimates"][PRIMARY_LOSS]["isoflop"]
    law = m["estimates"][PRIMARY_LOSS]["parametric"]
    law_rows = [
        {"loss": LOSSES[loss], **{p: interval(*r.estimate(loss, "parametric", p)) for p in ("E", "A", "B", "alpha", "beta")}}
        for loss in LOSSES
    ]
    return [
        f"### {OPTIMAL}",
        "",
        f"Approach 2 (the assignment's): log10 N_opt = {m['slope']:.3f} log10 C {m['intercept']:+.3f} (R² {m['r2']:.3f}; "
        f"peers' slopes {slow:.2f}-{shigh:.2f}) and log10 D_opt = {m['tokens_slope']:.3f} log10 C "
        f"{m['tokens_intercept']:+.3f} (R² {m['tokens_r2']:.3f}), over the {int(m['budgets_fitted'])} budgets that count "
        f"({LOSSES[PRIMARY_LOSS]}). At C = {target:.3g} FLOPs: **N_opt = {m['n_opt_at_target']:.3g}** parameters (peers: "
        f"{low:.2g}-{high:.2g}), **D_opt = {m['d_opt_at_target']:.3g}** tokens, "
        f"{np.log10(target / r.table['budget'].max()):.1f} decades past the largest budget.",
        "",
        f"**Uncertainty.** {boot.resamples} bootstrap draws (seed {boot.seed}): the models drawn with replacement, then "
        "each drawn model's seeds, and every estimator refitted on the draw exactly as on the data (budget rule included; "
        "approach 3 restarts L-BFGS from the data's optimum). Intervals are the central "
        f"{level:.0%} of the draws that gave an answer (a draw with fewer than {config.scaling.min_models_per_budget} "
        f"distinct models at every budget gives none). For approach 2 with {LOSSES[PRIMARY_LOSS]}: N_opt over seeds alone (models fixed: "
        f"run noise only) {interval(iso['n_opt'], iso.get('n_opt_seeds_low', np.nan), iso.get('n_opt_seeds_high', np.nan))}"
        f"; leaving out one budget at a time moves it within [{iso.get('n_opt_lobo_min', np.nan):.3g}, "
        f"{iso.get('n_opt_lobo_max', np.nan):.3g}], the slope within [{iso.get('slope_lobo_min', np.nan):.3f}, "
        f"{iso.get('slope_lobo_max', np.nan):.3f}].",
        "",
        "The three estimators of Hoffmann et al. (2022) on the same curves: 1, the lower envelope of loss over compute "
        f"across models ({config.scaling.envelope_points} log-spaced C, the best model's N per C, then the power law); "
        "2, the IsoFLOP profiles above; 3, L(N, D) = E + A/N^α + B/D^β fitted to every evaluation of every run (Huber "
        f"loss, δ = {config.scaling.parametric.huber_delta:g}, on log-loss; L-BFGS from the "
        f"{config.scaling.parametric.starts} best points of the paper's 4,500-point initialisation grid), its N_opt(C) "
        "the N minimising L(N, D(N, C)) under the assignment's FLOP formula and its slope d log N_opt / d log C at C.",
        "",
        pd.DataFrame(rows).to_markdown(index=False),
        "",
        agreement,
        "",
        f"Approach 3's fitted L(N, D) [{level:.0%} interval] (Huber objective {law.get('objective', np.nan):.4g} with "
        f"{LOSSES[PRIMARY_LOSS]}):",
        "",
        pd.DataFrame(law_rows).to_markdown(index=False),
        "",
        "![compute-optimal](figures/scaling_compute_optimal.png)",
        "",
    ]


def reference_section(r: IsoflopResults, ctx: ReportContext) -> list[str]:
    found = reference(r)
    if found is None:
        return []
    tokens_per_epoch = found.tokens / found.epochs
    return [
        f"### {REFERENCE}",
        "",
        " ".join(found.sentences(r.level)),
        f"At D_opt that is about {found.d_opt[0] / tokens_per_epoch:.0f} epochs of {tokens_per_epoch:,.0f} tokens, and "
        f"N_opt is a model of h ~ {_hidden(found.n_opt[0], r, ctx):.0f} at {r.config.train.num_layers} layer(s).",
        "",
    ]


def _hidden(parameters: float, r: IsoflopResults, ctx: ReportContext) -> float:
    data = r.setup.data.prepared(ctx.root, r.config.train.dataset)
    vocab_size = len(Vocabulary.load(data.folder / VOCAB_FILE))
    return hidden_size_for(parameters, r.config.train.num_layers, vocab_size)


SECTION = Section(STUDY.name, render, answers=ANSWERS)
