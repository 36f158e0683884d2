"""The answer sheet's entries of the transformer runs: the four lowest losses and the effects of size.

The 2025 question (2.1.4) is asked again in the 2022 (P2.2.6) and 2021 (P3.5) versions; the
answers are the same runs, each version's published figures beside them.
"""

from __future__ import annotations

from pipeline.reporting import Answer, AnswerFunction, ReportContext, versus
from pipeline.studies.transformer.results import EFFECTS, HEADLINE, NOTEBOOKS, OURS, effects, load


def lowest_losses(published: str, who: str) -> AnswerFunction:
    """The four lowest validation losses (notebooks' definition first), against the published figures in `published`."""

    def answer(ctx: ReportContext) -> Answer:
        c = load(ctx)
        ranges = getattr(c.config.published, published)
        numbers, parts, verdicts = [], [], []
        for run in c.runs:
            notebooks, ours = run.metrics[NOTEBOOKS], run.metrics[OURS]
            numbers += [
                (f"lowest val loss, notebooks' definition, run `{run.name}`", f"{notebooks:.4f}"),
                (f"lowest val loss, ours, run `{run.name}`", f"{ours:.4f}"),
            ]
            spread = c.spread(run.name, NOTEBOOKS)
            if spread is not None:
                numbers.append(
                    (f"run-to-run spread (notebooks' definition) over {len(c.seeds[run.name])} seeds, `{run.name}`", f"{spread:.4f}")
                )
            low_high = ranges.get(run.name)
            parts.append(
                f"`{run.name}` {notebooks:.3f} ({ours:.3f})"
                + (f", published {low_high[0]:.3g}-{low_high[1]:.3g}: {versus(notebooks, low_high)}" if low_high else "")
            )
            verdicts.append(versus(notebooks, low_high))
        inside = sum(v == "inside" for v in verdicts)
        judged = sum(v != "n/a" for v in verdicts)
        text = (
            "Lowest validation loss in the notebooks' definition (ours in brackets), against the published runs of "
            f"{who}: " + "; ".join(parts) + f". {inside} of {judged} are inside the published ranges. "
            "The two figures under the table are the loss curves compared by hidden size and by data set size "
            "(top row: the notebooks' definition)."
        )
        spreads = [(run, s) for run in c.seeds if (s := c.spread(run, NOTEBOOKS)) is not None]
        if spreads:
            text += (
                " Run-to-run spread (max - min over seeds, notebooks' definition): "
                + ", ".join(f"`{run}` {s:.3f} ({len(c.seeds[run])} seeds)" for run, s in spreads)
                + "; the other runs were trained once."
            )
        return Answer(text, tuple(numbers), link=HEADLINE)

    return answer


def size_effects(ctx: ReportContext) -> Answer:
    """At most six sentences: hidden size and data size, curves and generalisation, in both definitions."""
    c = load(ctx)
    numbers = []
    for run in c.runs:
        numbers += [
            (f"lowest val loss, notebooks' definition, run `{run.name}`", f"{run.metrics[NOTEBOOKS]:.4f}"),
            (f"lowest val loss, ours, run `{run.name}`", f"{run.metrics[OURS]:.4f}"),
        ]
    return Answer(" ".join(effects(ctx, c)), tuple(numbers), link=EFFECTS)


ANSWERS: dict[str, AnswerFunction] = {
    "A25-2.1.4a": lowest_losses("best_val_loss", "2022-2025"),
    "A25-2.1.4b": size_effects,
    "A22-P2.2.6a": lowest_losses("best_val_loss_2022", "the 2022 version"),
    "A22-P2.2.6b": size_effects,
    "A21-P3.5a": lowest_losses("best_val_loss_2021", "the 2021 version"),
    "A21-P3.5b": size_effects,
}
