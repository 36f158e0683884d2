"""The translator runs the comparisons read: the registry of translator studies, and what is computed from them.

`TRANSLATOR_STUDIES` is the one registry of the studies whose runs are translators: the
comparisons section and `python -m pipeline.translate --study` both read it, so a new
translator study is one entry here (its loader says how to find its runs).

Computed here, for `translators.py` (the section) and `translator_answers.py`:
- every translator run's losses in both definitions, word accuracy, time per epoch, the
  words of the assignment's sentences each translates by the rule, accuracy by word category;
- decoder-only against encoder-decoder on the data both were trained on: the loss each
  reached within the same training FLOPs, and at matched parameter counts, from the logged
  curves, in both definitions of the validation loss. The decoder-only runs logged their
  FLOPs; the encoder-decoder's are counted from its params and training pairs (`compute.py`).
  `at_common_budget` is the one place that decides two runs cannot be compared at a budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.comparisons.compute import best_within, epoch_flops
from pipeline.core.paths import Study
from pipeline.datasets.piglatin.data import to_pig_latin
from pipeline.datasets.piglatin.params import load as load_piglatin
from pipeline.reporting import ReportContext, TranslatorResult, artifact_table, load_results, seed_spread, versus
from pipeline.studies import decoder_only, isoflop, recurrent, transformer
from pipeline.studies.decoder_only import params as decoder_only_params
from pipeline.studies.isoflop import params as isoflop_params
from pipeline.studies.recurrent import params as recurrent_params
from pipeline.studies.recurrent.analysis import CATEGORY_ORDER, accuracy_by_category
from pipeline.studies.transformer import results as transformer_results
from pipeline.translators.pairs import read_pairs
from pipeline.translators.vocab import VOCAB_FILE, Vocabulary

BATCH_MEAN = "val_loss_batch_mean"  # the notebooks' validation loss, per epoch
NOTEBOOKS, OURS = f"best_{BATCH_MEAN}", "best_val_loss"
LOSSES = {"notebooks": BATCH_MEAN, "ours": "val_loss"}  # per-epoch curve columns of both definitions
FLOP_CURVES = (BATCH_MEAN, "cumulative_flops")  # what the decoder-only runs' curves are read with
EVERY_TRANSLATOR = "Every translator"  # report headings the answers link to
TRANSLATIONS = "The assignment's sentences, translated by every run"
MATCHED = "Decoder-only vs encoder-decoder at matched compute and size"


# ------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class Translator:
    """One configuration of a translator study, with every seed it was trained with (its own run first)."""

    study: str
    architecture: str  # encoder-decoder, decoder-only, rnn, rnn-additive-attention, ...
    seeds: tuple[TranslatorResult, ...]
    published: tuple[float, float] | None = None  # lowest val loss of published runs, notebooks' definition
    label: str = ""  # how tables name it, when the run name alone is ambiguous

    @property
    def run(self) -> TranslatorResult:
        return self.seeds[0]

    @property
    def name(self) -> str:
        return self.label or self.run.name

    def spread(self, key: str) -> float | None:
        return seed_spread([seed.metrics[key] for seed in self.seeds])


@dataclass(frozen=True)
class TranslatorStudy:
    study: Study
    load: Callable[[ReportContext], list[Translator]]  # its configurations, read from MLflow (memoised reads)
    in_table: bool = True  # in "Every translator" (the IsoFLOP grid has a section of its own)


def _transformer(ctx: ReportContext) -> list[Translator]:
    c = transformer_results.load(ctx)
    return [
        Translator(transformer.STUDY.name, "encoder-decoder", tuple(seeds), c.config.published.best_val_loss.get(name))
        for name, seeds in c.seeds.items()
    ]


def _decoder_only(ctx: ReportContext) -> list[Translator]:
    config = decoder_only_params.load().config
    (run,) = load_results(ctx, decoder_only.STUDY, [config.run_name], lambda _: decoder_only.STAGE, extra_curves=FLOP_CURVES)
    return [Translator(decoder_only.STUDY.name, "decoder-only", (run,), config.published.best_val_loss)]


def _recurrent(ctx: ReportContext) -> list[Translator]:
    config = recurrent_params.load().config
    runs = load_results(ctx, recurrent.STUDY, list(config.runs), recurrent.STUDY.stage_name, extra_curves=(BATCH_MEAN,))
    return [
        Translator(recurrent.STUDY.name, config.runs[run.name].model, (run,), config.published.best_val_loss.get(run.name)) for run in runs
    ]


def grid_member_runs(config) -> dict[str, list[str]]:
    """IsoFLOP model -> its run names, the first seed's first. Read through the grid's params: one run per
    (model, seed) where the grid trains seeds (`matrix.runs()`), else one run named after the model."""
    runs = getattr(config.matrix, "runs", None)
    if runs is None:
        return {model: [model] for model in config.matrix.model}
    members: dict[str, list[str]] = {model: [] for model in config.matrix.model}
    for name, (model, _) in runs().items():
        members[model].append(name)
    return members


def _isoflop(ctx: ReportContext) -> list[Translator]:
    config = isoflop_params.load().config
    members = []
    for model, names in grid_member_runs(config).items():
        seeds = load_results(ctx, isoflop.STUDY, names, isoflop.stage_name, extra_curves=FLOP_CURVES)
        members.append(Translator(isoflop.STUDY.name, "decoder-only", tuple(seeds), label=f"grid {model}"))
    return members


TRANSLATOR_STUDIES: tuple[TranslatorStudy, ...] = (
    TranslatorStudy(transformer.STUDY, _transformer),
    TranslatorStudy(decoder_only.STUDY, _decoder_only),
    TranslatorStudy(recurrent.STUDY, _recurrent),
    TranslatorStudy(isoflop.STUDY, _isoflop, in_table=False),
)


def translators(ctx: ReportContext, study: str | None = None) -> list[Translator]:
    """Every configuration of the registered studies (or of one), read once per report."""
    chosen = [entry for entry in TRANSLATOR_STUDIES if study in (None, entry.study.name)]
    return [t for entry in chosen for t in ctx.memo(f"comparisons:{entry.study.name}", lambda entry=entry: entry.load(ctx))]


def in_table(ctx: ReportContext) -> list[Translator]:
    return [t for s in TRANSLATOR_STUDIES if s.in_table for t in translators(ctx, s.study.name)]


# ------------------------------------------------------------------- every translator


def _range(published) -> str:
    return f"{published[0]:.2f}-{published[1]:.2f}" if published else "n/a"


def seconds_per_epoch(run: TranslatorResult) -> float:
    return run.metrics["train_seconds"] / run.metrics["epochs_trained"]


def every_translator_table(entries: list[Translator]) -> pd.DataFrame:
    rows = []
    for t in entries:
        run, spread = t.run, t.spread(NOTEBOOKS)
        rows.append(
            {
                "study": t.study,
                "run": t.name,
                "model": t.architecture
                + (f" ({run.params['run.cell']})" if t.architecture.startswith("rnn") and "run.cell" in run.params else ""),
                "dataset": run.params.get("run.dataset", ""),
                "parameters": int(run.metrics["parameters"]),
                "seeds": len(t.seeds),
                "lowest val loss (notebooks)": round(run.metrics[NOTEBOOKS], 4),
                "spread (notebooks)": round(spread, 4) if spread is not None else "-",
                "lowest val loss (ours)": round(run.metrics[OURS], 4),
                "published range (notebooks)": _range(t.published),
                "vs published": versus(run.metrics[NOTEBOOKS], t.published),
                "val word accuracy": round(run.metrics["val_word_accuracy"], 4),
                "s/epoch": round(seconds_per_epoch(run), 2),
            }
        )
    return pd.DataFrame(rows)


def error_analysis(ctx: ReportContext, entries: list[Translator]) -> pd.DataFrame:
    """Rows: word categories (with their word counts per dataset); columns: each run's accuracy."""
    columns, counts = {}, {}
    for t in entries:
        predictions = ctx.memo(
            f"val_predictions:{t.run.run_id}", lambda t=t: artifact_table(ctx.client, t.run.run_id, "tables/val_predictions.json")
        )
        table = accuracy_by_category(predictions).set_index("category")
        columns[t.name] = table["accuracy"].round(3)
        counts.setdefault(f"words ({t.run.params['run.dataset']})", table["words"])
    frame = pd.DataFrame({**counts, **columns})
    frame = frame.reindex([c for c in CATEGORY_ORDER if c in frame.index])
    frame.index.name = "category"
    return frame.reset_index()


def error_summary(errors: pd.DataFrame, datasets: dict[str, str], least: int = 20) -> list[str]:
    """One line per run: its weakest and strongest category among those with `least` words of its dataset."""
    lines = []
    for name, dataset in datasets.items():
        counted = errors[errors[f"words ({dataset})"] >= least]
        column = counted[["category", name]].dropna()
        if column.empty:
            continue
        worst, best = column.loc[column[name].idxmin()], column.loc[column[name].idxmax()]
        lines.append(f"- `{name}`: weakest on {worst['category']} ({worst[name]:.3f}), strongest on {best['category']} ({best[name]:.3f}).")
    if lines:
        lines = [f"Weakest and strongest category of each run (categories with at least {least} validation words):", "", *lines]
    return [*lines, ""] if lines else []


def words_right(translation: str, sentence: str) -> tuple[int, int]:
    """(words translated exactly by the rule, words) of one sentence's word-by-word translation."""
    words = sentence.split()
    produced = translation.split(" ")  # an empty translation of a word leaves two spaces: keep alignment
    return sum(out == to_pig_latin(word) for word, out in zip(words, produced)), len(words)


def sentence_score(run: TranslatorResult) -> tuple[int, int]:
    """(words right, words) over the evaluation sentences a run translated."""
    scores = [words_right(t, s) for s, t in zip(run.translations["sentence"], run.translations["translation"])]
    return sum(r for r, _ in scores), sum(n for _, n in scores)


# ------------------------------------------------------------------- decoder-only vs encoder-decoder


@dataclass(frozen=True)
class Contender:
    """A configuration on the compute axis: per seed, its validation losses against cumulative training FLOPs."""

    name: str
    architecture: str
    parameters: int
    curves: tuple[pd.DataFrame, ...]  # per seed: epoch, cumulative_flops, val_loss, val_loss_batch_mean

    @property
    def budget(self) -> float:
        """The compute every seed's training spent (the least of them: early stopping may end seeds apart)."""
        return float(min(curve["cumulative_flops"].iloc[-1] for curve in self.curves))

    def within(self, budget: float, column: str) -> list[float] | None:
        """Per seed, the lowest loss within `budget` FLOPs; None unless every seed trained that far."""
        if any(curve["cumulative_flops"].iloc[-1] < budget * (1 - 1e-9) for curve in self.curves):
            return None
        values = [best_within(curve, budget, column) for curve in self.curves]
        return None if any(v is None for v in values) else values


def contenders(ctx: ReportContext) -> tuple[list[Contender], str, float]:
    """Every decoder-only and encoder-decoder configuration trained on the decoder-only run's data set, on one
    compute axis; the data set; and the decoder-only run's logged FLOPs over the count of `compute.epoch_flops`
    (1: the count reproduces what the decoder-only runs logged)."""
    (reference,) = translators(ctx, decoder_only.STUDY.name)
    dataset = reference.run.params["run.dataset"]
    folder = load_piglatin().prepared(ctx.root, dataset).folder
    pairs = ctx.memo(f"train_pairs:{dataset}", lambda: read_pairs(folder / "train.txt"))
    vocab_size = len(Vocabulary.load(folder / VOCAB_FILE))

    def per_epoch(t: Translator, architecture: str) -> int:
        p = t.run.params
        return epoch_flops(pairs, architecture, int(p["run.hidden_size"]), int(p["run.num_layers"]), vocab_size)

    found = []
    for t in translators(ctx, transformer.STUDY.name):
        if t.run.params["run.dataset"] != dataset:
            continue
        flops = per_epoch(t, "encoder-decoder")
        curves = tuple(seed.curve.assign(cumulative_flops=seed.curve["epoch"] * flops) for seed in t.seeds)
        found.append(Contender(f"encoder-decoder {t.name}", "encoder-decoder", int(t.run.metrics["parameters"]), curves))
    decoders = [reference] + [t for t in translators(ctx, isoflop.STUDY.name) if t.run.params["run.dataset"] == dataset]
    for t in decoders:
        found.append(Contender(f"decoder-only {t.name}", "decoder-only", int(t.run.metrics["parameters"]), tuple(s.curve for s in t.seeds)))
    logged = reference.run.curve["cumulative_flops"].iloc[-1] / reference.run.curve["epoch"].iloc[-1]
    return found, dataset, float(logged / per_epoch(reference, "decoder-only"))


def at_budget(contender: Contender, budget: float) -> dict[str, tuple[float, float | None]] | None:
    """definition -> (value of the first seed, spread over seeds) of the lowest loss within `budget`; None if not reached."""
    values = {definition: contender.within(budget, column) for definition, column in LOSSES.items()}
    if any(v is None for v in values.values()):
        return None
    return {definition: (v[0], seed_spread(v)) for definition, v in values.items()}


@dataclass(frozen=True)
class Comparable:
    """Two contenders within one budget: per definition, each one's (first seed's value, spread over seeds)."""

    budget: float
    first: dict[str, tuple[float, float | None]]
    second: dict[str, tuple[float, float | None]]

    def spread(self, definition: str) -> float | None:
        """The larger of the two seed spreads: what their difference must exceed to count."""
        return larger_spread(self.first[definition][1], self.second[definition][1])


@dataclass(frozen=True)
class NotComparable:
    """Two contenders that cannot be compared within `budget`: `short` has no loss within it."""

    budget: float
    short: Contender

    def reason(self, name: str) -> str:
        """Why, naming `short` as `name`."""
        return f"{name} finished no epoch within {self.budget:.3g} FLOPs, so the two cannot be compared there"


def at_common_budget(first: Contender, second: Contender, budget: float | None = None) -> Comparable | NotComparable:
    """The pair's losses within `budget` FLOPs, by default the compute both trained (the smaller whole budget).
    The one place that decides a pair cannot be compared: one of them (`first` if both) has no loss within the
    budget, as its first epoch already costs more than the other's whole training."""
    budget = min(first.budget, second.budget) if budget is None else budget
    mine, theirs = at_budget(first, budget), at_budget(second, budget)
    if mine is None or theirs is None:
        return NotComparable(budget, first if mine is None else second)
    return Comparable(budget, mine, theirs)


def matched_flops(found: list[Contender]) -> pd.DataFrame:
    """At each encoder-decoder's whole training budget: every configuration that trained that far, both definitions."""
    rows = []
    for owner in [c for c in found if c.architecture == "encoder-decoder"]:
        budget = owner.budget
        for c in found:
            reached = at_budget(c, budget)
            if reached is None:
                continue
            epochs = int((c.curves[0]["cumulative_flops"] <= budget * (1 + 1e-9)).sum())
            rows.append(
                {
                    "budget (FLOPs)": f"{budget:.3g} ({owner.name.removeprefix('encoder-decoder ')})",
                    "model": c.name,
                    "architecture": c.architecture,
                    "parameters": c.parameters,
                    "epochs within": epochs,
                    "lowest val loss (notebooks)": round(reached["notebooks"][0], 4),
                    "spread (notebooks)": _maybe(reached["notebooks"][1]),
                    "lowest val loss (ours)": round(reached["ours"][0], 4),
                    "spread (ours)": _maybe(reached["ours"][1]),
                }
            )
    return pd.DataFrame(rows)


def nearest_in_size(found: list[Contender]) -> list[tuple[Contender, Contender]]:
    """Each encoder-decoder with the decoder-only configuration nearest to it in parameters (log ratio)."""
    decoders = [c for c in found if c.architecture == "decoder-only"]
    return [
        (e, min(decoders, key=lambda d: abs(np.log(d.parameters / e.parameters)))) for e in found if e.architecture == "encoder-decoder"
    ]


def matched_size(found: list[Contender]) -> pd.DataFrame:
    """Each encoder-decoder beside the decoder-only nearest in parameters, at the compute both trained (the smaller budget)."""
    rows = []
    for e, d in nearest_in_size(found):
        pair = at_common_budget(e, d)
        if isinstance(pair, NotComparable):  # no row for the pair
            continue
        ours, theirs = pair.first, pair.second
        rows.append(
            {
                "encoder-decoder": e.name.removeprefix("encoder-decoder "),
                "parameters": e.parameters,
                "decoder-only": d.name.removeprefix("decoder-only "),
                "parameters ": d.parameters,
                "common budget (FLOPs)": f"{pair.budget:.3g}",
                "encoder-decoder (notebooks)": round(ours["notebooks"][0], 4),
                "decoder-only (notebooks)": round(theirs["notebooks"][0], 4),
                "encoder-decoder (ours)": round(ours["ours"][0], 4),
                "decoder-only (ours)": round(theirs["ours"][0], 4),
                "larger spread (notebooks)": _maybe(pair.spread("notebooks")),
            }
        )
    return pd.DataFrame(rows)


def larger_spread(*spreads: float | None) -> float | None:
    """The largest of the spreads measured (None if none was): what a difference between them must exceed."""
    measured = [s for s in spreads if s is not None]
    return max(measured) if measured else None


def _maybe(value: float | None) -> float | str:
    return round(value, 4) if value is not None else "-"
