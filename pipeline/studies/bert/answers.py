"""The answer sheet's entries of the BERT runs: 2025 §3 (A25-3.x) and the 2022 Part 3 (A22-P3.x).

The 2022 questions repeat the 2025 ones; where their published figures differ (fine-tuned,
frozen and BERTweet validation accuracy) they get their own entry, the 2022 figures beside
the same runs; the others (the code, the timings, the inspection) are reused by the sheet.
"""

from __future__ import annotations

from pipeline.classification.report import ClassifierRun, inspection_lines, recipe_text, verdicts
from pipeline.reporting import Answer, AnswerFunction, ReportContext, versus
from pipeline.studies.bert import STUDY
from pipeline.studies.bert.model import SentenceClassifier  # its source is shown (A25-3.1)
from pipeline.studies.bert.results import PER_EPOCH, UNIFORM, BertRuns, load, pretraining_pairs, share, timing_statement

# Report headings the answers link to (`results.PER_EPOCH` too).
HEADING = f"BERT on verbal arithmetic (MLflow experiment `{STUDY.experiment}`)"
TIMING = "Why freezing the encoder is faster"
FROZEN = "Frozen encoder: how far its head trains at each recipe"
PRETRAINING = "Pretraining data (question 4)"
INSPECTION = "Where one model clearly beats the others, and where all fail (question 5)"

YEARS = {"val_accuracy": "2025", "val_accuracy_2022": "2022"}


def _published(b: BertRuns, key: str, run: ClassifierRun | None) -> str:
    bounds = b.published(key, run) if run is not None else None
    return "no published figure" if bounds is None else f"published {_span(bounds)}"


def _span(bounds: tuple[float, float]) -> str:
    low, high = bounds
    return f"{low:.3g}" if low == high else f"{low:.3g}-{high:.3g}"


def _accuracy_numbers(*runs: ClassifierRun | None) -> tuple[tuple[str, str], ...]:
    return tuple((f"val accuracy, run `{run.label}`", f"{run.metrics['val_accuracy']:.4f}") for run in runs if run is not None)


def classifier_code(ctx: ReportContext) -> Answer:
    return Answer(
        "`SentenceClassifier.__init__` keeps the encoder and adds `Linear(hidden_size, 3)` (freezing the encoder's "
        "weights when asked); `forward` runs the encoder and feeds its pooled last-layer [CLS] output (`pooler_output`, "
        "(B, H)) to that layer, returning unnormalised scores (B, 3) for negative, zero and positive.",
        code=(SentenceClassifier,),
        link=HEADING,
    )


def fine_tuning(key: str) -> AnswerFunction:
    """A25-3.2 / A22-P3.2: the fine-tuned runs' curves and final validation accuracy, against `key`'s figures."""

    def answer(ctx: ReportContext) -> Answer:
        b = load(ctx)
        tuned = b.best(frozen=False)
        reference = b.same_recipe_pair()[1] if b.same_recipe_pair() else None
        if tuned is None:
            return Answer("No fine-tuned run learned anything (every one collapsed to one class).", link=PER_EPOCH)
        text = (
            f"The figure under the per-epoch table shows training loss and validation accuracy per epoch; "
            f"`{tuned.name}` (every weight trained; {recipe_text(tuned)}) ends at validation accuracy "
            f"{tuned.metrics['val_accuracy']:.4f}, {versus(tuned.metrics['val_accuracy'], b.published(key, tuned))} the "
            f"{YEARS[key]} {_published(b, key, tuned)}."
        )
        if reference is not None and reference is not tuned:
            text += (
                f" With the reference recipe as is (`{reference.name}`: {recipe_text(reference)}) it reaches "
                f"{reference.metrics['val_accuracy']:.4f}, {versus(reference.metrics['val_accuracy'], b.published(key, reference))} it."
            )
        return Answer(text, _accuracy_numbers(tuned, reference), link=PER_EPOCH)

    return answer


def timing(ctx: ReportContext) -> Answer:
    """A25-3.3a: at most 2 sentences."""
    text, numbers = timing_statement(load(ctx))
    return Answer(text, tuple(numbers), link=TIMING)


def frozen_accuracy(key: str) -> AnswerFunction:
    """A25-3.3b / A22-P3.3b: at most 2 sentences."""

    def answer(ctx: ReportContext) -> Answer:
        b = load(ctx)
        pair = b.same_recipe_pair()
        frozen, tuned = b.best(frozen=True), b.best(frozen=False)
        if pair is None and (frozen is None or tuned is None):
            return Answer("No frozen and fine-tuned pair of runs to compare.", link=FROZEN)
        parts = []
        if pair is not None:
            parts.append(
                f"from {pair[1].metrics['val_accuracy']:.4f} (`{pair[1].name}`) to "
                f"{pair[0].metrics['val_accuracy']:.4f} (`{pair[0].name}`) at the same recipe"
            )
        if frozen is not None and tuned is not None and (pair is None or (frozen, tuned) != pair):
            parts.append(
                f"from {tuned.metrics['val_accuracy']:.4f} (`{tuned.name}`) to "
                f"{frozen.metrics['val_accuracy']:.4f} (`{frozen.name}`, the head at its own lr)"
            )
        any_run = (pair or (frozen, tuned))[0]
        majority = any_run.metrics["majority_val_accuracy"]
        published_frozen = _published(b, key, frozen or pair[0])
        text = (
            f"Freezing the encoder took validation accuracy {' and '.join(parts)}, against {majority:.4f} for always "
            f"answering the majority class ({YEARS[key]} frozen run: {published_frozen})."
        )
        slow = pair[0] if pair is not None else None
        compared = [p for p in (pair, (frozen, tuned)) if p is not None and None not in p]
        if all(f.metrics["val_accuracy"] < t.metrics["val_accuracy"] for f, t in compared):
            text += (
                " Only a linear read-out of features pretrained for other purposes can be learned, while fine-tuning "
                "reshapes every layer for the sign of the result"
            )
        else:
            text += " A frozen encoder is not always worse here: a linear read-out of its pretrained features suffices"
        if slow is not None and slow.metrics["val_mean_top_probability"] < UNIFORM + 0.05:
            text += (
                f"; and at the reference lr {float(slow.recipe()['lr']):g} the head moved only "
                f"{share(slow.metrics['head_weight_change'])} of its initial norm in {slow.steps} steps (mean top "
                f"probability {slow.metrics['val_mean_top_probability']:.2f}), so that run is an almost untrained head."
            )
        else:
            text += "."
        runs = [r for r in (*(pair or ()), frozen, tuned) if r is not None]
        numbers = _accuracy_numbers(*{run.label: run for run in runs}.values())
        if slow is not None:
            numbers += (
                (f"head weight change, run `{slow.label}`", f"{slow.metrics['head_weight_change']:.4f}"),
                (f"mean top probability (validation), run `{slow.label}`", f"{slow.metrics['val_mean_top_probability']:.3f}"),
            )
        numbers += ((f"always answering the majority class, validation, run `{any_run.label}`", f"{majority:.4f}"),)
        return Answer(text, numbers, link=FROZEN)

    return answer


def second_checkpoint(key: str) -> AnswerFunction:
    """A25-3.4 / A22-P3.4: at most 3 sentences."""

    def answer(ctx: ReportContext) -> Answer:
        b = load(ctx)
        main = b.best(frozen=False)
        seconds = [r for r in b.runs if r.params.get("variant.checkpoint") == "second" and r.pretrained and not r.frozen]
        if seconds and main is not None:
            second = seconds[0]
            gap = second.metrics["val_accuracy"] - main.metrics["val_accuracy"]
            text = (
                f"Starting from the second checkpoint (`{second.name}`, {second.model}) validation accuracy is "
                f"{second.metrics['val_accuracy']:.4f} against {main.metrics['val_accuracy']:.4f} from the main one "
                f"(`{main.name}`, {main.model}), {gap:+.4f} ({YEARS[key]}: {_published(b, key, second)}). "
                "The likely cause is what each was pretrained on: text about mathematics gives number words and "
                "operators representations related to their values, tweets do not, and fine-tuning on 448 sentences "
                "cannot make up for it."
            )
            return Answer(text, _accuracy_numbers(main, second), link=PRETRAINING)
        pairs = [(p, s) for p, s in pretraining_pairs(b) if not s.collapsed]
        published = getattr(b.config.published, key)
        second_figure, main_figure = published.get("second_checkpoint"), published.get("finetune")
        text = "No second pretrained checkpoint can be loaded offline, so the BERTweet run could not be made here"
        if second_figure and main_figure:
            text += f" ({YEARS[key]} published BERTweet {_span(second_figure)} against MathBERT's {_span(main_figure)})"
        text += "."
        numbers = ()
        if pairs:
            with_, without = pairs[0]
            gap = with_.metrics["val_accuracy"] - without.metrics["val_accuracy"]
            text += (
                f" What pretraining itself is worth, same architecture and recipe: `{with_.name}` "
                f"{with_.metrics['val_accuracy']:.4f} against `{without.name}` (random init) "
                f"{without.metrics['val_accuracy']:.4f}, {gap:+.4f} validation accuracy."
            )
            numbers = _accuracy_numbers(with_, without)
        text += (
            " A checkpoint pretrained on text unlike the task's (tweets rather than mathematics) starts from "
            "representations of number words and operators less related to their values, the likely cause of "
            "BERTweet's lower published accuracy."
        )
        return Answer(text, numbers, link=PRETRAINING)

    return answer


def inspection(ctx: ReportContext) -> Answer:
    """A25-3.5: the sentences where one model clearly wins and where all fail, probes and test set."""
    b = load(ctx)
    models = [run for run in b.runs if not run.collapsed]
    if not models:
        return Answer("Every variant collapsed to one class: there is no model to inspect.", link=INSPECTION)
    lines = []
    numbers = []
    for source, what in (("probes", "probe sentences"), ("test", "test sentences")):
        table = verdicts(models, source)
        lines += [line.removeprefix("- ") for line in inspection_lines(table, models, what)]
        numbers += [(f"{what} where every model (of {len(models)} that did not collapse) is wrong", str(int(table["all_wrong"].sum())))]
        numbers += [
            (f"{what} `{run.label}` alone gets right, clearly", str(int((table["clear_winner"] == run.label).sum()))) for run in models
        ]
    return Answer(" ".join(lines), tuple(numbers), link=INSPECTION)


ANSWERS: dict[str, AnswerFunction] = {
    "A25-3.1": classifier_code,
    "A25-3.2": fine_tuning("val_accuracy"),
    "A25-3.3a": timing,
    "A25-3.3b": frozen_accuracy("val_accuracy"),
    "A25-3.4": second_checkpoint("val_accuracy"),
    "A25-3.5": inspection,
    # 2022: the same questions; where the published figures differ, answered again beside them.
    "A22-P3.2": fine_tuning("val_accuracy_2022"),
    "A22-P3.3b": frozen_accuracy("val_accuracy_2022"),
    "A22-P3.4": second_checkpoint("val_accuracy_2022"),
}
