"""The transformer runs as the report and the answers read them: every seed, and the effects of size.

Every published figure uses the assignment notebooks' validation loss (the mean of per-batch
mean losses, `best_val_loss_batch_mean`), so it comes first; ours (every batch weighted by its
characters, `best_val_loss`) stands beside it. The two disagree on the effect of the data
set's size, and `effects` says so in both. Runs listed in `transformer.extra_seeds` were
trained with more than one seed: a difference is stated only where it exceeds the run-to-run
spread those seeds measure (`pipeline.reporting.compare`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.reporting import ReportContext, TranslatorResult, compare, load_results, seed_spread, told_apart
from pipeline.studies.transformer import STUDY, params
from pipeline.studies.transformer.params import TransformerParams
from pipeline.translators.pairs import read_pairs

NOTEBOOKS = "best_val_loss_batch_mean"  # the notebooks' definition: every published figure
OURS = "best_val_loss"  # every batch weighted by its characters
CURVES = {"notebooks": "val_loss_batch_mean", "ours": "val_loss"}
DEFINITION = {NOTEBOOKS: "the notebooks' definition", OURS: "ours"}
HEADLINE = "Transformer: lowest validation loss and loss curves"  # report headings the answers link to
EFFECTS = "Transformer: effects of hidden size and data size"


@dataclass(frozen=True)
class Configurations:
    """Each run of the matrix with every seed it was trained with (the run itself first)."""

    config: TransformerParams
    seeds: dict[str, list[TranslatorResult]]

    @property
    def runs(self) -> list[TranslatorResult]:
        return [replicates[0] for replicates in self.seeds.values()]

    def value(self, run: str, key: str) -> float:
        """The run's own figure (the seed whose curves and translations the report shows)."""
        return self.seeds[run][0].metrics[key]

    def spread(self, run: str, key: str) -> float | None:
        return seed_spread([result.metrics[key] for result in self.seeds[run]])

    def noise(self, a: str, b: str, key: str) -> float | None:
        """The spread `a` and `b` are judged against: the larger of theirs, else the largest measured in the study."""
        measured = [s for s in (self.spread(a, key), self.spread(b, key)) if s is not None]
        anywhere = [s for run in self.seeds if (s := self.spread(run, key)) is not None]
        return max(measured or anywhere, default=None)

    def compare(self, a: str, b: str, key: str) -> str:
        return compare(f"`{a}`", self.value(a, key), f"`{b}`", self.value(b, key), self.noise(a, b, key))

    def seeds_note(self) -> str:
        """Which runs were trained with several seeds, and what that says about the others."""
        several = [run for run, replicates in self.seeds.items() if len(replicates) > 1]
        once = [run for run, replicates in self.seeds.items() if len(replicates) == 1]
        if not several:
            return (
                "Every run was trained with one seed (`transformer.extra_seeds` is empty), so no run-to-run spread "
                "was measured: differences below are stated as measured, and may be noise."
            )
        return (
            f"{', '.join(f'`{r}` ({len(self.seeds[r])} seeds)' for r in several)} measure the run-to-run spread "
            "(max - min over seeds; the table shows the first seed's run); "
            + (
                f"{', '.join(f'`{r}`' for r in once)} were trained once, and are judged against the largest spread measured here. "
                if once
                else ""
            )
            + "A difference is stated only where it exceeds that spread; otherwise the runs cannot be told apart."
        )


def load(ctx: ReportContext) -> Configurations:
    """The runs behind the current outputs, every seed; read once per report (the comparisons share it)."""
    config = params.load().config
    names = config.matrix.run_names()
    runs = load_results(ctx, STUDY, names, STUDY.stage_name, extra_curves=(CURVES["notebooks"],))
    seeds = {}
    for run in runs:
        extra = config.replicates(run.name)[1:]
        stage = STUDY.stage_name(run.name, block="seeds")
        seeds[run.name] = [
            run,
            *(load_results(ctx, STUDY, extra, lambda _, s=stage: s, extra_curves=(CURVES["notebooks"],)) if extra else []),
        ]
    return Configurations(config, seeds)


# ------------------------------------------------------------------- the effects (question 2.1.4b)


def share_below(a: pd.DataFrame, b: pd.DataFrame, column: str) -> float:
    """Share of the iterations both runs trained where `a`'s curve lies below `b`'s (b interpolated at a's points)."""
    shared = a[a["iterations"] <= b["iterations"].max()]
    other = np.interp(shared["iterations"], b["iterations"], b[column])
    return float(np.mean(shared[column].to_numpy() < other))


def generalisation_gap(run: TranslatorResult) -> float:
    """Validation minus training loss at the best epoch (ours: the training loss is logged in our definition only)."""
    best = run.curve.loc[run.curve["epoch"] == int(run.metrics["best_epoch"])].iloc[0]
    return float(best["val_loss"] - best["train_loss"])


def validation_batches(pairs, batch_size: int) -> list[tuple[int, int]]:
    """(words, target characters) of each validation batch: pairs grouped by (source, target) length,
    each group cut into batches of `batch_size` (as `LengthBucketBatcher` does, without torch)."""
    groups = Counter((len(p.source), len(p.target)) for p in pairs)
    batches = []
    for (_, target), words in sorted(groups.items()):
        full, rest = divmod(words, batch_size)
        batches += [(batch_size, batch_size * (target + 1))] * full + ([(rest, rest * (target + 1))] if rest else [])
    return batches


def batch_weights(root: Path, setup: params.Setup, run: str, few: int = 4) -> tuple[int, float, float]:
    """Validation batches of `run`, and the share of them (= their weight in the notebooks' mean) and of the
    characters (their weight in ours) that batches of at most `few` words hold."""
    settings = setup.config.runs[run]
    pairs = read_pairs(setup.data.prepared(root, settings.dataset).folder / "val.txt")
    batches = validation_batches(pairs, settings.batch_size)
    small = [(words, chars) for words, chars in batches if words <= few]
    return len(batches), len(small) / len(batches), sum(c for _, c in small) / sum(c for _, c in batches)


def _moves(values: list[tuple[float, float]]) -> str:
    falls = [after < before for before, after in values]
    return "falls" if all(falls) else "rises" if not any(falls) else "moves"


def effects(ctx: ReportContext, configurations: Configurations) -> list[str]:
    """Question 2.1.4b in at most six sentences, each computed from the runs: capacity (hidden 32 -> 64) and data
    (small -> large), their curves and generalisation, in both definitions of the validation loss."""
    config, c = configurations.config, configurations
    by_name = {run.name: run for run in c.runs}
    small, large = config.matrix.dataset[0], config.matrix.dataset[-1]
    narrow, wide = config.matrix.model[0], config.matrix.model[-1]
    # (before, after) run names: the matrix's run name is `{model}-{dataset}`.
    pairs = {
        "capacity": [(f"{narrow}-{d}", f"{wide}-{d}") for d in (small, large)],
        "data": [(f"{m}-{small}", f"{m}-{large}") for m in (narrow, wide)],
    }
    held = {"capacity": (small, large), "data": (narrow, wide)}  # the axis held fixed in each pair

    def values(key: str, which: str) -> str:
        return ", ".join(f"{fixed} {c.value(a, key):.3f} -> {c.value(b, key):.3f}" for fixed, (a, b) in zip(held[which], pairs[which]))

    def resolved(key: str, which: str) -> str:
        verdicts = [told_apart(c.value(a, key), c.value(b, key), c.noise(a, b, key)) for a, b in pairs[which]]
        measured = any(c.noise(a, b, key) is not None for a, b in pairs[which])
        if not measured:
            return "no run-to-run spread was measured"
        return (
            "each beyond the run-to-run spread"
            if all(verdicts)
            else "none beyond the run-to-run spread: cannot be told apart"
            if not any(verdicts)
            else "only "
            + " and ".join(f"`{a}` vs `{b}`" for (a, b), v in zip(pairs[which], verdicts) if v)
            + " beyond the run-to-run spread"
        )

    def movement(key: str, which: str) -> str:
        return _moves([(c.value(a, key), c.value(b, key)) for a, b in pairs[which]])

    below = {which: [share_below(by_name[b].curve, by_name[a].curve, CURVES["notebooks"]) for a, b in pairs[which]] for which in pairs}
    below_ours = {which: [share_below(by_name[b].curve, by_name[a].curve, CURVES["ours"]) for a, b in pairs[which]] for which in pairs}
    gaps = {which: [(generalisation_gap(by_name[a]), generalisation_gap(by_name[b])) for a, b in pairs[which]] for which in pairs}
    setup = params.load()
    weights = {d: ctx.memo(f"transformer:weights:{d}", lambda d=d: batch_weights(ctx.root, setup, f"{narrow}-{d}")) for d in (small, large)}

    def gap_text(which: str) -> str:
        return ", ".join(f"{x:.3f} -> {y:.3f}" for x, y in gaps[which])

    def trend(which: str) -> str:
        return "narrows" if all(y < x for x, y in gaps[which]) else "widens" if all(y > x for x, y in gaps[which]) else "changes"

    capacity_gap, data_gap = trend("capacity"), trend("data")
    expected = {key: movement(key, "capacity") == "falls" and movement(key, "data") == "falls" for key in (NOTEBOOKS, OURS)}
    sentences = [
        f"Hidden size {narrow[1:]} -> {wide[1:]}: the lowest validation loss {movement(NOTEBOOKS, 'capacity')} in the notebooks' "
        f"definition ({values(NOTEBOOKS, 'capacity')}; {resolved(NOTEBOOKS, 'capacity')}) and {movement(OURS, 'capacity')} in ours "
        f"({values(OURS, 'capacity')}; {resolved(OURS, 'capacity')}).",
        f"The {wide} validation curves lie below the {narrow} ones at "
        f"{' and '.join(f'{100 * s:.0f}%' for s in below['capacity'])} of the iterations both trained ({small}, {large}; "
        "notebooks' definition), so the wider model reaches a given loss in fewer iterations, and its gap between "
        f"validation and training loss at the best epoch {capacity_gap} ({gap_text('capacity')}, ours).",
        f"Data {small} -> {large}: the lowest validation loss {movement(OURS, 'data')} in ours ({values(OURS, 'data')}; "
        f"{resolved(OURS, 'data')}) but {movement(NOTEBOOKS, 'data')} in the notebooks' definition ({values(NOTEBOOKS, 'data')}; "
        f"{resolved(NOTEBOOKS, 'data')}).",
        f"The {large}-data curves lie below the {small}-data ones at {' and '.join(f'{100 * s:.0f}%' for s in below_ours['data'])} "
        f"of the shared iterations in ours ({' and '.join(f'{100 * s:.0f}%' for s in below['data'])} in the notebooks'), and the "
        f"validation-training gap at the best epoch {data_gap} ({gap_text('data')}): more data generalises "
        f"{'better' if data_gap == 'narrows' else 'no better' if data_gap == 'widens' else 'differently'}.",
        f"The definitions disagree because the notebooks' mean gives each validation batch the same weight: batches of at most 4 "
        f"words (rare length pairs) are {100 * weights[large][1]:.0f}% of the {large} set's {weights[large][0]} batches but hold "
        f"{100 * weights[large][2]:.1f}% of its characters ({small}: {100 * weights[small][1]:.0f}% of {weights[small][0]}, "
        f"{100 * weights[small][2]:.1f}%), so what the {large} runs learn on common words barely moves it.",
        "Expectations (more capacity and more data, lower loss): "
        + (
            "met in both definitions."
            if all(expected.values())
            else "met in ours, not in the notebooks' definition, whose weighting, not the models, makes the difference."
            if expected[OURS]
            else "not met in ours either; see the table."
        ),
    ]
    return sentences
