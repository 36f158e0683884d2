"""Report section: the GPT-style classifier against BERT, at the same recipe and tuned for each.

Listed after the studies' sections; it reads the runs the `bert` and `gpt` sections read (the
same `ctx.memo` entries). Two runs are "at the same recipe" only if every recipe and split
value they logged is equal (`classification.report.recipe_differences`); which runs those
are is read from the runs, not from their names. A run that collapsed to one class is the
majority baseline, never the best of its kind. Each run was trained once, so gaps of a
few test sentences may be noise (no run-to-run spread was measured).

Also here, because they rest on both studies' runs: the 2021 notebook's frozen vs
fine-tuned BERT (A21-P4.2), ten test sentences GPT against BERT (A21-P4.3), and the
Matthews correlation of every classifier on the imbalanced test set (A21-P4.5).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, matthews_corrcoef, recall_score

from pipeline.classification.report import (
    ClassifierRun,
    against_majority,
    recipe_differences,
    recipe_text,
    split_text,
    step_seconds,
    verdicts,
)
from pipeline.datasets.arithmetic.data import LABELS
from pipeline.reporting import TABLES, Answer, AnswerFunction, ReportContext, Section, versus
from pipeline.studies.bert import results as bert_results
from pipeline.studies.gpt import params as gpt_params
from pipeline.studies.gpt import results as gpt_results

HEADING = "GPT-style vs BERT classifiers"
SAME = "GPT and BERT at the same recipe"
TEN = "Ten test sentences, GPT against BERT"
MCC = "Matthews correlation on the imbalanced test set"


def load(ctx: ReportContext) -> tuple[list[ClassifierRun], list[ClassifierRun]]:
    return gpt_results.load(ctx), bert_results.load(ctx).runs


def learned(runs: list[ClassifierRun], frozen: bool) -> list[ClassifierRun]:
    """Pretrained runs, frozen or fine-tuned, that did not collapse to one class."""
    return [run for run in runs if run.frozen == frozen and run.pretrained and not run.collapsed]


def best(runs: list[ClassifierRun], frozen: bool) -> ClassifierRun | None:
    chosen = learned(runs, frozen)
    return max(chosen, key=lambda run: run.metrics["val_accuracy"]) if chosen else None


def same_recipe_pairs(gpt: list[ClassifierRun], bert: list[ClassifierRun]) -> list[tuple[ClassifierRun, ClassifierRun]]:
    """(GPT, BERT) runs, both pretrained and frozen alike, that logged the same recipe and split."""
    return [(g, b) for g in gpt for b in bert if g.frozen == b.frozen and b.pretrained and not recipe_differences(g, b)]


def closest_pair(gpt: list[ClassifierRun], bert: list[ClassifierRun]) -> tuple[ClassifierRun, ClassifierRun, list[str]] | None:
    candidates = [(g, b, recipe_differences(g, b)) for g in gpt for b in bert if g.frozen == b.frozen and b.pretrained]
    return min(candidates, key=lambda c: len(c[2])) if candidates else None


def describe_gap(a: ClassifierRun, b: ClassifierRun) -> str:
    """`a` against `b` on the shared test set, in sentences of it."""
    gap = round((a.metrics["test_accuracy"] - b.metrics["test_accuracy"]) * a.test_rows)
    if gap == 0:
        return "the same number of test sentences right"
    return f"{abs(gap)} test sentence{'s' if abs(gap) > 1 else ''} of {a.test_rows} {'more' if gap > 0 else 'fewer'} right"


def right(run: ClassifierRun) -> int:
    return round(run.metrics["test_accuracy"] * run.test_rows)


# ------------------------------------------------------------------------------ render


def render(ctx: ReportContext) -> list[str]:
    gpt, bert = load(ctx)
    config = gpt_params.load().config
    side_by_side = comparison_table(config, gpt + bert)
    side_by_side.to_csv(ctx.out.path(TABLES / "gpt_vs_bert.csv"), index=False)
    ten = ten_sentences(gpt, bert)
    mcc = mcc_table(gpt + bert)
    mcc.to_csv(ctx.out.path(TABLES / "classifiers_mcc.csv"), index=False)
    lines = [
        f"## {HEADING}",
        "",
        "The GPT-style classifier (a causal LM, head on the last token) and the BERT variants (an encoder, head on the "
        "pooled [CLS]) on the same 160 test sentences. Each run trained once: gaps of a few sentences may be noise.",
        "",
        side_by_side.to_markdown(index=False),
        "",
        "`published`: the 2021 notebook this task comes from (`openai-gpt` fine-tuned; `bert-base-uncased` fine-tuned "
        "and frozen); `vs published`: where our test accuracy falls against it. Trainable parameters count what the "
        "optimizer updates; train seconds are the epochs' wall time (loading not included); `step s/batch`: forward, "
        "backward and optimizer step of one training batch.",
        "",
        f"### {SAME}",
        "",
        *same_recipe_lines(gpt, bert),
        "",
        "### Tuned for each",
        "",
        *tuned_lines(gpt, bert),
        "",
        "### Uni-directional vs bi-directional encoder for this task",
        "",
        "A bi-directional encoder (BERT) lets every token attend to every other one, so the [CLS] summary the head reads "
        "has seen both numbers and the operator at every layer. A uni-directional (causal) model lets each token attend "
        "only to itself and the tokens before it: only the last token's state has read the whole sentence, which is why "
        "the head classifies from the last non-padding token (padding after it changes no logit: the gpt study's tests "
        "check this). The sign of `a plus b` / `a minus b` needs all three words, and the last one is the second number, "
        "so the last token of a causal model sees everything it needs: nothing in this task requires looking ahead.",
        "",
        *frozen_lines(gpt, bert),
        "",
    ]
    if ten is not None:
        ten.to_csv(ctx.out.path(TABLES / "gpt_vs_bert_ten_sentences.csv"), index=False)
        lines += [f"### {TEN}", "", *ten_intro(gpt, bert), "", ten.to_markdown(index=False), ""]
    lines += [
        f"### {MCC}",
        "",
        "The test set is imbalanced ("
        + ", ".join(f"{int(n)} {label}" for label, n in zip(LABELS, (gpt + bert)[0].confusion_test.sum(axis=1)))
        + "): accuracy rewards always answering the majority class, Matthews correlation (scikit-learn's multi-class "
        "`matthews_corrcoef`) gives that 0.",
        "",
        mcc.to_markdown(index=False),
        "",
    ]
    return lines


def comparison_table(config, runs: list[ClassifierRun]) -> pd.DataFrame:
    published = config.published
    rows = []
    for run in runs:
        backbone = "frozen" if run.frozen else "fine-tuned"
        if run.study == "gpt":
            bounds = None if run.frozen else tuple(published.test_accuracy)
            published_val = "" if run.frozen else span(published.val_accuracy)
        else:  # the notebook's BERT was pretrained (bert-base-uncased): no figure for a from-scratch baseline
            value = published.bert_test_accuracy.get(backbone) if run.pretrained else None
            bounds = None if value is None else (value, value)
            published_val = ""
        test = run.metrics["test_accuracy"]
        rows.append(
            {
                "run": run.label,
                "starts from": run.model,
                "backbone": backbone,
                "trainable parameters": int(run.metrics["trainable_parameters"]),
                "lr": float(run.recipe()["lr"]),
                "epochs": int(run.recipe()["epochs"]),
                "batch": int(run.recipe()["batch_size"]),
                "train/val split": split_text(run),
                "val accuracy": round(run.metrics["val_accuracy"], 4),
                "published val": published_val,
                "test accuracy": round(test, 4),
                "published test": "" if bounds is None else span(bounds),
                "vs published": "" if bounds is None else versus(test, bounds),
                "collapsed": "majority baseline" if run.collapsed else "no",
                "train seconds": round(run.metrics["train_seconds"], 1),
                "step s/batch": round(step_seconds(run), 4),
            }
        )
    return pd.DataFrame(rows)


def span(bounds) -> str:
    low, high = bounds
    return f"{low:.3g}" if low == high else f"{low:.3g}-{high:.3g}"


def same_recipe_lines(gpt: list[ClassifierRun], bert: list[ClassifierRun]) -> list[str]:
    pairs = same_recipe_pairs(gpt, bert)
    if not pairs:
        closest = closest_pair(gpt, bert)
        if closest is None:
            return ["No GPT and BERT runs to compare."]
        g, b, differences = closest
        return [
            f"No GPT and BERT runs logged the same recipe and split; the closest, `{g.label}` and `{b.label}`, "
            f"differ in {'; '.join(differences)}."
        ]
    lines = []
    for g, b in pairs:
        lines.append(
            f"- `{g.label}` and `{b.label}` logged the same recipe and split ({recipe_text(g)}; {split_text(g)}): the causal "
            f"model gets {right(g)} of {g.test_rows} test sentences right (validation {g.metrics['val_accuracy']:.4f}), "
            f"BERT {right(b)} (validation {b.metrics['val_accuracy']:.4f}): {describe_gap(g, b)} for the causal model, "
            f"with {g.metrics['trainable_parameters'] / b.metrics['trainable_parameters']:.1f}x the trainable parameters and "
            f"{g.metrics['train_seconds'] / max(b.metrics['train_seconds'], 1e-9):.1f}x the training time."
        )
    return lines


def tuned_lines(gpt: list[ClassifierRun], bert: list[ClassifierRun]) -> list[str]:
    g, b = best(gpt, frozen=False), best(bert, frozen=False)
    if g is None or b is None:
        return ["No fine-tuned GPT and BERT runs that learned something to compare."]
    return [
        f"The best fine-tuned run of each by validation accuracy: `{g.label}` ({recipe_text(g)}) reaches test accuracy "
        f"{g.metrics['test_accuracy']:.4f} (validation {g.metrics['val_accuracy']:.4f}) in {g.metrics['train_seconds']:.0f} s; "
        f"`{b.label}` ({recipe_text(b)}) {b.metrics['test_accuracy']:.4f} (validation {b.metrics['val_accuracy']:.4f}) in "
        f"{b.metrics['train_seconds']:.0f} s: the causal model gets {describe_gap(g, b)}. Their recipes differ in: "
        + ("; ".join(recipe_differences(g, b)) or "nothing")
        + "."
    ]


def frozen_lines(gpt: list[ClassifierRun], bert: list[ClassifierRun]) -> list[str]:
    frozen_gpt = [run for run in gpt if run.frozen and run.pretrained]
    frozen_bert = [run for run in bert if run.frozen and run.pretrained]
    if not frozen_gpt or not frozen_bert:
        return []
    g = max(frozen_gpt, key=lambda run: run.metrics["val_accuracy"])
    b = max(frozen_bert, key=lambda run: run.metrics["val_accuracy"])
    return [
        f"Frozen (only the head trains): `{g.label}` {g.metrics['test_accuracy']:.4f}, {against_majority(g)}; "
        f"`{b.label}` {b.metrics['test_accuracy']:.4f}, {against_majority(b)}. A linear head on pretrained features "
        "alone tells how much of the sign those features already carry, at the one position each model pools."
    ]


# ----------------------------------------------------------------- ten test sentences


def ten_pair(gpt: list[ClassifierRun], bert: list[ClassifierRun]) -> tuple[ClassifierRun, ClassifierRun] | None:
    """The fine-tuned pair at the same recipe, else the best fine-tuned of each."""
    pairs = [(g, b) for g, b in same_recipe_pairs(gpt, bert) if not g.frozen and not g.collapsed and not b.collapsed]
    if pairs:
        return pairs[0]
    g, b = best(gpt, frozen=False), best(bert, frozen=False)
    return (g, b) if g is not None and b is not None else None


def ten_sentences(gpt: list[ClassifierRun], bert: list[ClassifierRun], count: int = 10) -> pd.DataFrame | None:
    """Ten telling test sentences: where one model is right and the other wrong (the larger gap in the true
    class's probability first), then where both fail, then the closest calls both got right."""
    pair = ten_pair(gpt, bert)
    if pair is None:
        return None
    g, b = pair
    table = verdicts([g, b], "test")
    p_g, p_b = table[f"p_true {g.label}"].astype(float), table[f"p_true {b.label}"].astype(float)
    right_g, right_b = table[g.label] == table["truth"], table[b.label] == table["truth"]
    table["kind"] = np.select(
        [right_g & ~right_b, ~right_g & right_b, ~right_g & ~right_b],
        [f"only {g.label} right", f"only {b.label} right", "both wrong"],
        default="both right, closest call",
    )
    table["order"] = np.select([right_g != right_b, ~right_g & ~right_b], [0, 1], default=2)
    table["key"] = np.where(table["order"] == 0, -(p_g - p_b).abs(), np.where(table["order"] == 1, 0.0, np.minimum(p_g, p_b)))
    chosen = table.sort_values(["order", "key"], kind="stable").head(count)
    return pd.DataFrame(
        {
            "sentence": chosen["sentence"],
            "truth": chosen["truth"],
            g.label: [f"{p} (p_true {q:.2f})" for p, q in zip(chosen[g.label], chosen[f"p_true {g.label}"])],
            b.label: [f"{p} (p_true {q:.2f})" for p, q in zip(chosen[b.label], chosen[f"p_true {b.label}"])],
            "what": chosen["kind"],
        }
    )


def ten_intro(gpt: list[ClassifierRun], bert: list[ClassifierRun]) -> list[str]:
    g, b = ten_pair(gpt, bert)
    table = verdicts([g, b], "test")
    right_g, right_b = table[g.label] == table["truth"], table[b.label] == table["truth"]
    both_wrong = table[~right_g & ~right_b]
    wrong_labels = both_wrong["truth"].value_counts()
    return [
        f"Every test sentence is unseen (all 800 sentences of the task are in the train or the test CSV, so no other "
        f"input of the task's form exists). `{g.label}` and `{b.label}`"
        + (" (same recipe)" if not recipe_differences(g, b) else "")
        + f": only the causal model is right on {int((right_g & ~right_b).sum())} sentences, only BERT on "
        f"{int((~right_g & right_b).sum())}, both are wrong on {len(both_wrong)}"
        + (" (" + ", ".join(f"{n} {label}" for label, n in wrong_labels.items()) + ")" if len(both_wrong) else "")
        + ". Below, those first (the larger gap in the true class's probability first), then the closest calls both got right."
    ]


# ----------------------------------------------------------------------------- MCC


def mcc_table(runs: list[ClassifierRun]) -> pd.DataFrame:
    rows = []
    for run in runs:
        predictions = run.test_predictions
        truth, predicted = predictions["label"].astype(int), predictions["prediction"].astype(int)
        recalls = recall_score(truth, predicted, labels=range(len(LABELS)), average=None, zero_division=0)
        rows.append(
            {
                "run": run.label,
                "test accuracy": round(float(accuracy_score(truth, predicted)), 4),
                "Matthews correlation": round(float(matthews_corrcoef(truth, predicted)), 4),
                **{f"recall {label}": round(float(r), 3) for label, r in zip(LABELS, recalls)},
                "collapsed": "majority baseline" if run.collapsed else "no",
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- answers


def _memo(ctx: ReportContext):
    return ctx.memo("classifier-comparison", lambda: load(ctx))


def freeze_vs_finetune(ctx: ReportContext) -> Answer:
    """A21-P4.2: (i)-(iv) in at most 4 sentences, on BERT's frozen and fine-tuned runs of the same recipe."""
    b = ctx.memo("bert-results", lambda: bert_results.load(ctx))
    pair = b.same_recipe_pair() or (b.best(frozen=True), b.best(frozen=False))
    frozen, tuned = pair
    published = gpt_params.load().config.published.bert_test_accuracy
    if frozen is None or tuned is None:
        return Answer("No frozen and fine-tuned BERT runs to compare.", link=bert_results.PER_EPOCH)
    f_curve, t_curve = frozen.curve, tuned.curve
    lower = min((frozen, tuned), key=lambda run: run.metrics["final_train_loss"])
    better = max((frozen, tuned), key=lambda run: run.metrics["test_accuracy"])
    recalls = {run.name: np.diag(run.confusion_test) / np.maximum(run.confusion_test.sum(axis=1), 1) for run in (frozen, tuned)}
    weakest = {name: int(np.argmin(r)) for name, r in recalls.items()}
    train_counts = b.splits["train"]
    rare = min(LABELS, key=lambda label: train_counts[label])
    rare_index = LABELS.index(rare)
    same = not recipe_differences(frozen, tuned)
    if all(index == rare_index for index in weakest.values()):
        fails = (
            f"(iv) Both fail most on the rarest label, `{rare}`, {train_counts[rare]} of {train_counts['rows']} "
            f"training sentences (test recall {recalls[frozen.name][rare_index]:.2f} frozen, "
            f"{recalls[tuned.name][rare_index]:.2f} fine-tuned)"
        )
    else:
        fails = (
            f"(iv) Their weakest labels are `{LABELS[weakest[frozen.name]]}` (frozen) and `{LABELS[weakest[tuned.name]]}` "
            f"(fine-tuned); the rarest, `{rare}`, is {train_counts[rare]} of {train_counts['rows']} training sentences "
            f"(test recall {recalls[frozen.name][rare_index]:.2f} frozen, {recalls[tuned.name][rare_index]:.2f} fine-tuned)"
        )
    text = (
        f"(i) {'Trained with the same recipe, the' if same else 'The'} frozen model (`{frozen.name}`) takes "
        f"{step_seconds(frozen):.3f} s per training step against {step_seconds(tuned):.3f} s, but its training loss goes from "
        f"{f_curve['train_loss'].iloc[0]:.3f} to {f_curve['train_loss'].iloc[-1]:.3f}, against "
        f"{t_curve['train_loss'].iloc[0]:.3f} to {t_curve['train_loss'].iloc[-1]:.3f} for the fine-tuned one (`{tuned.name}`). "
        f"(ii) `{lower.name}` ends with the lower training error ({lower.metrics['final_train_loss']:.3f} cross-entropy). "
        f"(iii) `{better.name}` does better on the unseen test sentences, {better.metrics['test_accuracy']:.4f} against "
        f"{min(frozen, tuned, key=lambda r: r.metrics['test_accuracy']).metrics['test_accuracy']:.4f} (2021 notebook: "
        f"fine-tuned {published['fine-tuned']:.3g}, frozen {published['frozen']:.3g}). "
        f"{fails}: so few examples barely move a cross-entropy dominated by the other labels, and `zero` needs the two "
        "numbers to be exactly equal, a narrower decision than a sign."
    )
    numbers = []
    for run in (frozen, tuned):
        numbers += [
            (f"final train loss, run `{run.label}`", f"{run.metrics['final_train_loss']:.4f}"),
            (f"test accuracy, run `{run.label}`", f"{run.metrics['test_accuracy']:.4f}"),
            (f"recall of `{rare}` on test, run `{run.label}`", f"{recalls[run.name][rare_index]:.2f}"),
        ]
    return Answer(text, tuple(numbers), link=bert_results.PER_EPOCH)


def gpt_vs_bert(ctx: ReportContext) -> Answer:
    """A21-P4.3: at most 3 sentences, and the ten results as numbers."""
    gpt, bert = _memo(ctx)
    pair = ten_pair(gpt, bert)
    if pair is None:
        return Answer("No fine-tuned GPT and BERT runs to compare.", link=TEN)
    g, b = pair
    ten = ten_sentences(gpt, bert)
    same = not recipe_differences(g, b)
    kinds = ten["what"].value_counts()
    table = verdicts([g, b], "test")
    both_wrong = table[(table[g.label] != table["truth"]) & (table[b.label] != table["truth"])]
    boundary = both_wrong["sentence"].map(result).abs() <= 1
    text = (
        f"{'At the same recipe and split' if same else 'Each with its own recipe'}, `{g.label}` gets {right(g)} of "
        f"{g.test_rows} unseen test sentences right and `{b.label}` {right(b)} ({describe_gap(g, b)} for the causal model). "
        "Of the ten results below: "
        + "; ".join(f"{kind}, {n}" for kind, n in kinds.items())
        + ". "
        + (
            f"Both fail on {len(both_wrong)} test sentences, {int(boundary.sum())} of them with a result of -1, 0 or 1, "
            "where the two numbers are equal or adjacent and the sign turns on a difference of one."
            if len(both_wrong)
            else "No test sentence is wrong for both."
        )
    )
    numbers = tuple(
        (f"`{sentence}` (true: {truth}), {what}", f"{g.label}: {gpt_answer}; {b.label}: {bert_answer}")
        for sentence, truth, gpt_answer, bert_answer, what in ten[["sentence", "truth", g.label, b.label, "what"]].itertuples(index=False)
    )
    return Answer(text, numbers, link=TEN)


def result(sentence: str) -> int:
    """The value of `a plus b` / `a minus b`."""
    from pipeline.datasets.arithmetic.data import parse_expression

    a, operator, b = parse_expression(sentence)
    return a + b if operator == "plus" else a - b


def matthews(ctx: ReportContext) -> Answer:
    """A21-P4.5: one genuine attempt (option 4), at most 4 sentences."""
    gpt, bert = _memo(ctx)
    table = mcc_table(gpt + bert)
    scores = dict(zip(table["run"], table["Matthews correlation"]))
    accuracies = dict(zip(table["run"], table["test accuracy"]))
    candidates = table[table["collapsed"] == "no"] if (table["collapsed"] == "no").any() else table
    top = candidates.loc[candidates["Matthews correlation"].idxmax(), "run"]
    majority = (gpt + bert)[0].metrics["majority_test_accuracy"]
    by_accuracy = list(table.sort_values("test accuracy", ascending=False, kind="stable")["run"])
    by_correlation = list(table.sort_values("Matthews correlation", ascending=False, kind="stable")["run"])
    text = (
        "Tried option (4): the multi-class Matthews correlation (scikit-learn's `matthews_corrcoef`) of every classifier on "
        f"the imbalanced test set, where always answering the majority class scores {majority:.4f} accuracy but 0 correlation. "
        f"The best, `{top}`, reaches {scores[top]:.3f} at accuracy {accuracies[top]:.4f}; the others: "
        + ", ".join(f"`{run}` {score:.3f}" for run, score in scores.items() if run != top)
        + ". "
        + (
            "Ranking by correlation reorders the runs ranked by accuracy, since it weighs every class, the rare `zero` included."
            if by_accuracy != by_correlation
            else "Ranking by correlation keeps the order by accuracy here."
        )
    )
    numbers = tuple((f"Matthews correlation on test, run `{run}`", f"{score:.4f}") for run, score in scores.items())
    return Answer(text, numbers, link=MCC)


ANSWERS: dict[str, AnswerFunction] = {"A21-P4.2": freeze_vs_finetune, "A21-P4.3": gpt_vs_bert, "A21-P4.5": matthews}

SECTION = Section("comparisons.classifiers", render, ANSWERS)
