"""The BERT runs as the report and the answers read them, and the statements computed from them.

Light on purpose (no torch). Runs are read once per report (`load`, through `ctx.memo`); a
variant is picked by what it logged (frozen or not, pretrained or not, its recipe), never
by its name, so a renamed or added variant changes what the sentences say, not whether
they are true. Each variant was trained once: no run-to-run spread was measured, and the
sentences say so where a gap is a few test sentences.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pipeline.classification.report import ClassifierRun, accuracy_note, against_majority, load_runs, recipe_differences, step_seconds
from pipeline.core.io import require_inputs
from pipeline.datasets.arithmetic import PREPARE_STAGE, STATISTICS
from pipeline.reporting import ReportContext
from pipeline.studies.bert import STUDY, params
from pipeline.studies.bert.params import BertParams

PER_EPOCH = "Validation accuracy per epoch"  # a report heading the BERT answers and the GPT-vs-BERT comparison link to
UNIFORM = 1 / 3  # the top probability of a classifier with no preference among the three classes


@dataclass(frozen=True)
class BertRuns:
    config: BertParams
    runs: list[ClassifierRun]
    splits: dict  # the arithmetic study's label counts per split

    def pick(self, frozen: bool, learned: bool = True) -> list[ClassifierRun]:
        """Pretrained runs from the main checkpoint, frozen or fine-tuned (collapsed ones left out with `learned`)."""
        return [
            run
            for run in self.runs
            if run.frozen == frozen
            and run.pretrained
            and run.params.get("variant.checkpoint") == "main"
            and not (learned and run.collapsed)
        ]

    def best(self, frozen: bool) -> ClassifierRun | None:
        chosen = self.pick(frozen)
        return max(chosen, key=lambda run: run.metrics["val_accuracy"]) if chosen else None

    def same_recipe_pair(self) -> tuple[ClassifierRun, ClassifierRun] | None:
        """(frozen, fine-tuned) trained with the same logged recipe and split, the reference recipe first."""
        for frozen in self.pick(frozen=True, learned=False):
            for tuned in self.pick(frozen=False, learned=False):
                if not recipe_differences(frozen, tuned):
                    return frozen, tuned
        return None

    def published(self, key: str, run: ClassifierRun) -> tuple[float, float] | None:
        return getattr(self.config.published, key).get(run.name)


def load(ctx: ReportContext) -> BertRuns:
    """The runs behind the current outputs and the data's split sizes; read once per report (the section,
    its answers and the GPT-vs-BERT comparison share it)."""

    def read() -> BertRuns:
        config = params.load().config
        require_inputs([ctx.root / STATISTICS], PREPARE_STAGE)
        splits = json.loads((ctx.root / STATISTICS).read_text())
        runs = load_runs(ctx, STUDY, list(config.variants), "variant.freeze_encoder", "checkpoint.pretrained")
        return BertRuns(config, runs, splits)

    return ctx.memo(f"{STUDY.name}:results", read)


def share(fraction: float) -> str:
    """A change relative to a norm: one decimal below 10%, none above (3.1%, 1780%)."""
    return f"{fraction:.1%}" if fraction < 0.1 else f"{fraction:.0%}"


def scores(run: ClassifierRun) -> str:
    note = accuracy_note(run)
    return f"`{run.name}` {run.metrics['val_accuracy']:.4f} / {run.metrics['test_accuracy']:.4f}" + (f" ({note})" if note else "")


# ------------------------------------------------------------------------------ timing


def epochs(a: ClassifierRun, b: ClassifierRun) -> str:
    ea, eb = int(a.metrics["epochs_trained"]), int(b.metrics["epochs_trained"])
    return f"{ea} epochs each" if ea == eb else f"{ea} and {eb} epochs"


def timing_statement(b: BertRuns) -> tuple[str, list[tuple[str, str]]]:
    """Why freezing is faster, from the step timings of a frozen and a fine-tuned run (the same recipe if any)."""
    pair = b.same_recipe_pair() or (b.best(frozen=True), b.best(frozen=False))
    frozen, tuned = pair
    if frozen is None or tuned is None:
        return "No frozen and fine-tuned pair of runs to compare.", []
    f, t = frozen.metrics, tuned.metrics
    per_epoch = {run.name: run.metrics["train_seconds"] / int(run.metrics["epochs_trained"]) for run in (frozen, tuned)}
    text = (
        f"Freezing the encoder made training {per_epoch[tuned.name] / per_epoch[frozen.name]:.1f}x faster per epoch "
        f"(`{frozen.name}` {per_epoch[frozen.name]:.2f} s, `{tuned.name}` {per_epoch[tuned.name]:.2f} s; "
        f"{f['train_seconds']:.1f} s against {t['train_seconds']:.1f} s over {epochs(frozen, tuned)}), a training step taking {step_seconds(frozen):.3f} s instead of "
        f"{step_seconds(tuned):.3f} s. "
        f"The forward pass takes {f['forward_seconds_per_batch']:.3f} s against {t['forward_seconds_per_batch']:.3f} s, "
        f"since the frozen encoder still runs it, but the backward pass falls from {t['backward_seconds_per_batch']:.3f} s "
        f"to {f['backward_seconds_per_batch']:.4f} s and the optimizer step from {t['optimizer_seconds_per_batch']:.4f} s to "
        f"{f['optimizer_seconds_per_batch']:.4f} s: gradients stop at the head, and only its "
        f"{int(f['trainable_parameters']):,} of {int(f['parameters']):,} weights are updated."
    )
    numbers = []
    for run in (frozen, tuned):
        numbers += [(f"train seconds, run `{run.label}`", f"{run.metrics['train_seconds']:.2f}")]
        numbers += [
            (f"{phase} seconds per batch, run `{run.label}`", f"{run.metrics[f'{phase}_seconds_per_batch']:.4f}")
            for phase in ("forward", "backward", "optimizer")
        ]
    return text, numbers


# ----------------------------------------------------------------- the frozen encoder


def frozen_statements(b: BertRuns) -> list[str]:
    """For each frozen run: how far its head moved, how sure its answers are, and what it scores against the majority."""
    lines = []
    for run in b.pick(frozen=True, learned=False):
        m = run.metrics
        recipe = run.recipe()
        state = (
            "its head is barely trained: its answers are hardly more confident than a uniform guess"
            if m["val_mean_top_probability"] < UNIFORM + 0.05
            else "its head has learned a read-out"
        )
        lines.append(
            f"- `{run.name}` (lr {float(recipe['lr']):g}, {recipe['epochs']} epochs, {run.steps} steps): the head's weights "
            f"moved {share(m['head_weight_change'])} of their initial norm, reading pooled [CLS] features of mean magnitude "
            f"{m['initial_pooled_scale']:.3f}; its mean top probability on validation is {m['val_mean_top_probability']:.2f} "
            f"(uniform: {UNIFORM:.2f}), so {state}. Validation accuracy {m['val_accuracy']:.4f}: "
            f"{against_majority(run, 'val')} ({m['majority_val_accuracy']:.4f})."
        )
    return lines


def frozen_cause(b: BertRuns) -> str:
    """One sentence: why the reference recipe leaves a frozen encoder's head untrained (or that it does not)."""
    reference = [run for run in b.pick(frozen=True, learned=False) if run.metrics["val_mean_top_probability"] < UNIFORM + 0.05]
    trained = b.best(frozen=True)
    if not reference:
        return "Every frozen run's head learned a read-out (mean top probability above uniform)."
    slow = reference[0]
    text = (
        f"At lr {float(slow.recipe()['lr']):g} for {slow.steps} steps (`{slow.name}`) the head's weights moved only "
        f"{share(slow.metrics['head_weight_change'])} of their initial norm: the lr is sized for fine-tuning a pretrained "
        f"network, where small steps suffice, while a head trained alone on pooled features of mean magnitude "
        f"{slow.metrics['initial_pooled_scale']:.3f} needs far larger ones"
    )
    if trained is not None and trained is not slow and trained.metrics["val_mean_top_probability"] >= UNIFORM + 0.05:
        text += (
            f"; at lr {float(trained.recipe()['lr']):g} for {trained.steps} steps (`{trained.name}`) they moved "
            f"{share(trained.metrics['head_weight_change'])} and validation accuracy reached {trained.metrics['val_accuracy']:.4f}"
        )
    return text + "."


# ------------------------------------------------------------------------ pretraining


def pretraining_pairs(b: BertRuns) -> list[tuple[ClassifierRun, ClassifierRun]]:
    """(pretrained, not pretrained) fine-tuned runs of the same checkpoint slot, logged recipe and split."""
    pretrained = [run for run in b.runs if run.pretrained and not run.frozen]
    scratch = [run for run in b.runs if not run.pretrained and not run.frozen]
    return [
        (p, s)
        for s in scratch
        for p in pretrained
        if p.params.get("variant.checkpoint") == s.params.get("variant.checkpoint") and not recipe_differences(p, s)
    ]


def pretraining_statements(b: BertRuns) -> list[str]:
    lines = []
    for with_, without in pretraining_pairs(b):
        majority = with_.metrics["majority_test_accuracy"]
        if without.collapsed:
            lines.append(
                f"- Same architecture and recipe with and without pretraining (validation / test accuracy): {scores(with_)} "
                f"against {scores(without)}: without pretraining the model collapsed to always answering "
                f"{without.only_class!r}, so it is the majority baseline ({majority:.4f} on test), not a learned baseline."
            )
            continue
        gap = with_.metrics["test_accuracy"] - without.metrics["test_accuracy"]
        lines.append(
            f"- Same architecture and recipe with and without pretraining (validation / test accuracy): {scores(with_)} "
            f"against {scores(without)}, beside always answering the majority class ({majority:.4f} on test): "
            f"pretraining is worth {gap:+.4f} test accuracy ({gap * with_.test_rows:+.0f} test sentences) over a "
            f"random-init model that learned ({against_majority(without)}); one seed each."
        )
    return lines
