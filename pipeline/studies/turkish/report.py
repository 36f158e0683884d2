"""Report section: Turkish -> English (MLflow experiment `turkish-english`).

Light on purpose (no torch). Every number comes from the MLflow runs behind the current
`metrics/turkish/*.json` and `plots/turkish/*.csv` (found by `ReportContext.run_for`),
from the prepare stage's statistics, or, for the parameter-count question, from the
`written` study's run, which already counts those modules; published figures come from
params.yaml. The homework answers are sentences chosen by the measured differences.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from pipeline.core import figures
from pipeline.core.io import require_inputs
from pipeline.reporting import FIGURES, TABLES, ReportContext, Section, artifact_table, metric_curve
from pipeline.studies.turkish import PREPARE_STAGE, STATISTICS, STUDY, params, stage_name
from pipeline.studies.turkish.figures import loss_curves
from pipeline.studies.turkish.params import TurkishParams
from pipeline.studies.written import LINEAGE as WRITTEN_LINEAGE
from pipeline.studies.written import RUN as WRITTEN_RUN
from pipeline.studies.written import STAGE as WRITTEN_STAGE
from pipeline.studies.written import STUDY as WRITTEN
from pipeline.studies.written.tables import from_mlflow


@dataclass
class TurkishRun:
    name: str
    cell: str
    changes: dict  # settings that differ from the recipe
    metrics: dict[str, float]
    curve: pd.DataFrame  # epoch, iterations, train_loss, val_loss
    samples: pd.DataFrame  # turkish, reference, translation


def load_runs(ctx: ReportContext, config: TurkishParams) -> list[TurkishRun]:
    runs = []
    for name in config.runs:
        run = ctx.run_for(STUDY, name, stage_name(name))
        run_id = run.info.run_id
        runs.append(TurkishRun(
            name=name,
            cell=config.recipe_for(name).cell,
            changes=config.changes(name),
            metrics=run.data.metrics,
            curve=metric_curve(ctx.client, run_id),
            samples=artifact_table(ctx.client, run_id, "tables/sample_translations.json"),
        ))
    return runs


def render(ctx: ReportContext) -> list[str]:
    config = params.load().turkish
    require_inputs([ctx.root / STATISTICS], PREPARE_STAGE)
    data = json.loads((ctx.root / STATISTICS).read_text())
    runs = load_runs(ctx, config)
    cells = [run for run in runs if not run.changes or set(run.changes) == {"cell"}]  # the recipe, one per cell
    ablations = [run for run in runs if run not in cells]

    scores = scores_table(runs)
    samples = samples_table(cells or runs)
    effects = effects_table(config, cells, ablations)
    counts = counts_table(ctx, config)
    scores.to_csv(ctx.out.path(TABLES / "turkish_scores.csv"), index=False)
    samples.to_csv(ctx.out.path(TABLES / "turkish_sample_translations.csv"), index=False)
    effects.to_csv(ctx.out.path(TABLES / "turkish_effects.csv"), index=False)
    counts.to_csv(ctx.out.path(TABLES / "turkish_parameter_counts.csv"), index=False)
    shown = cells or runs
    figures.save(loss_curves({r.name: r.curve for r in shown}, "RNN vs LSTM encoder-decoder"), ctx.out.path(FIGURES / "turkish_loss_curves.png"))
    lines = [
        f"## Turkish -> English with a recurrent encoder-decoder (MLflow experiment `{STUDY.experiment}`)",
        "",
        *data_lines(config, data),
        *model_lines(config, runs),
        "### Scores on the test split",
        "",
        scores.to_markdown(index=False),
        "",
        f"BLEU and chrF: sacrebleu corpus scores against one reference per pair ({int(runs[0].metrics['test_sentences'])} "
        "test sentences); `copy source` scores the Turkish sentence itself as the translation. `train BLEU`: the same",
        "score on as many training pairs (how well the model reproduces what it trained on). Validation and test",
        "losses are measured free running (teacher forcing 0), the training loss with the run's teacher forcing.",
        "",
        "![loss curves](figures/turkish_loss_curves.png)",
        "",
        "### Sample translations (test split)",
        "",
        samples.to_markdown(index=False),
        "",
    ]
    if ablations:
        figures.save(
            loss_curves({r.name: r.curve for r in runs if r.cell == ablations[0].cell}, "Ablations"),
            ctx.out.path(FIGURES / "turkish_ablations.png"),
        )
        lines += [
            "### Homework: which hyperparameters moved the training and validation loss?",
            "",
            "Each ablation changes one setting of the run it is compared with; differences are ablation minus base.",
            "",
            effects.to_markdown(index=False),
            "",
            *effect_sentences(effects),
            "",
            "![ablations](figures/turkish_ablations.png)",
            "",
        ]
    lines += [
        "### Homework: what prevented underfitting and overfitting?",
        "",
        *fitting_sentences(runs, cells, ablations),
        "",
        *counts_lines(config, counts),
    ]
    return lines


def data_lines(config: TurkishParams, data: dict) -> list[str]:
    splits, tokenizers = data["splits"], data["tokenizers"]
    raw = data["raw"]
    size = ", ".join(f"{v['pairs']} {k} ({v['english_sentences']} English sentences)" for k, v in splits.items())
    vocab = ", ".join(
        f"{language} {info['kind']} {info['vocab_size']:,} pieces (test: {info['test']['mean_tokens']:.1f} tokens per sentence, "
        f"{info['test']['truncated_share']:.0%} cut at {config.max_length}, [UNK] rate {info['test']['unk_rate']:.2%})"
        for language, info in tokenizers.items()
    )
    source = f"`{raw['file']}` ({raw['pairs']:,} pairs)" if "pairs" in raw else raw["file"]
    return [
        f"Data: {source}, split with seed {config.split.seed} into {size}; English sentences in two splits: "
        f"{data['english_sentences_in_two_splits']}. Tokenizers: {vocab}.",
        "",
    ]


def model_lines(config: TurkishParams, runs: list[TurkishRun]) -> list[str]:
    recipe = config.recipe
    lstm = next((run for run in runs if run.cell == "lstm" and not set(run.changes) - {"cell"}), None)
    reference = int(lstm.metrics["reference_parameters"]) if lstm else 0
    same = "exactly the count of" if reference == config.published_parameters else "which differs from"
    count = [
        f"Built with the hub tokenizers' vocabularies ({config.reference_vocab_sizes[0]:,} Turkish, {config.reference_vocab_sizes[1]:,} "
        f"English) the LSTM model has {reference:,} parameters, {same} the homework's reference model ({config.published_parameters:,})."
    ] if lstm else []
    return [
        f"Model (the homework's): embedding {recipe.embedding_dim}, hidden {recipe.hidden_size}, {recipe.num_layers} layers, "
        f"dropout {recipe.dropout:g}; the encoder's final state initialises the decoder; teacher forcing {recipe.teacher_forcing:g} "
        f"in training, 0 in evaluation; clipping {recipe.grad_clip:g}; init U(-{recipe.init_range:g}, {recipe.init_range:g}); "
        f"Adam lr {recipe.lr:g}, batch {recipe.batch_size}; at most {recipe.epochs} epochs; {SELECTION[recipe.select_by].format(patience=recipe.patience)}; "
        f"greedy decoding up to {config.max_length} tokens or [SEP].",
        *count,
        "",
    ]


SELECTION = {
    "val_chrf": (
        "the kept weights are those of the epoch with the highest validation chrF (greedy translations of the validation "
        "split), and training stops after {patience} epochs without a higher one (the reference kept its lowest-validation-loss "
        "epoch instead: here that loss bottoms out while every translation is still the same few tokens)"
    ),
    "val_loss": "early stopping after {patience} epochs without a lower validation loss, the lowest-loss weights kept (the reference's rule)",
}


def scores_table(runs: list[TurkishRun]) -> pd.DataFrame:
    rows = []
    for run in runs:
        m = run.metrics
        rows.append({
            "run": run.name,
            "cell": run.cell,
            "changes": ", ".join(f"{k}={v}" for k, v in run.changes.items() if k != "cell") or "-",
            "parameters": f"{int(m['parameters']):,}",
            "train pairs": int(m["train_pairs"]),
            "epochs (kept)": f"{int(m['epochs_trained'])} ({int(m['best_epoch'])})",
            "val chrF at kept": round(m["val_chrf_at_best"], 2),
            "lowest val loss (epoch)": f"{m['best_val_loss']:.3f} ({int(m['best_val_loss_epoch'])})",
            "val loss at kept": round(m["val_loss_at_best"], 3),
            "test loss": round(m["test_loss"], 3),
            "BLEU": round(m["bleu"], 2),
            "chrF": round(m["chrf"], 2),
            "train BLEU": round(m["train_bleu"], 2),
            "s/epoch": round(m["seconds_per_epoch"], 2),
        })
    first = runs[0].metrics
    rows.append({"run": "copy source", "cell": "-", "changes": "-", "BLEU": round(first["copy_bleu"], 2), "chrF": round(first["copy_chrf"], 2)})
    table = pd.DataFrame(rows)
    return table.astype(object).where(table.notna(), "")  # the baseline row has scores only


def samples_table(runs: list[TurkishRun]) -> pd.DataFrame:
    table = runs[0].samples[["turkish", "reference"]].copy()
    for run in runs:
        table[run.name] = run.samples["translation"].to_numpy()
    return table


def effects_table(config: TurkishParams, cells: list[TurkishRun], ablations: list[TurkishRun]) -> pd.DataFrame:
    """Each ablation against the recipe run of its cell, and the LSTM against the RNN: differences other - base."""
    by_cell = {run.cell: run for run in cells}
    compared = []
    if "rnn" in by_cell and "lstm" in by_cell:
        compared.append((by_cell["rnn"], by_cell["lstm"], "cell: rnn -> lstm"))
    for ablation in ablations:
        base = by_cell.get(ablation.cell)
        if base is not None:
            was = config.recipe_for(base.name).model_dump() | {"train_pairs": int(base.metrics["train_pairs"])}
            change = ", ".join(f"{k}: {was[k]} -> {v}" for k, v in ablation.changes.items() if k != "cell")
            compared.append((base, ablation, change))
    rows = []
    for base, other, change in compared:
        b, o = base.metrics, other.metrics
        rows.append({
            "change": change,
            "base": base.name,
            "run": other.name,
            "Δ train loss at best": round(o["train_loss_at_best"] - b["train_loss_at_best"], 3),
            "Δ final train loss": round(o["final_train_loss"] - b["final_train_loss"], 3),
            "Δ best val loss": round(o["best_val_loss"] - b["best_val_loss"], 3),
            "Δ val chrF at kept": round(o["val_chrf_at_best"] - b["val_chrf_at_best"], 2),
            "Δ kept epoch": int(o["best_epoch"] - b["best_epoch"]),
            "Δ BLEU": round(o["bleu"] - b["bleu"], 2),
            "Δ train BLEU": round(o["train_bleu"] - b["train_bleu"], 2),
        })
    return pd.DataFrame(rows)


CLEAR = 0.02  # nats: a smaller change of the best validation loss is not credited to a setting (one seed per run)


def _direction(delta: float, tolerance: float = 0.005) -> str:
    return "raised" if delta > tolerance else "lowered" if delta < -tolerance else "left about unchanged"


def effect_sentences(effects: pd.DataFrame) -> list[str]:
    lines = []
    for row in effects.to_dict("records"):
        lines.append(
            f"- **{row['change']}** ({row['run']} vs {row['base']}): {_direction(row['Δ final train loss'])} the final training loss "
            f"({row['Δ final train loss']:+.3f}) and {_direction(row['Δ best val loss'])} the best validation loss "
            f"({row['Δ best val loss']:+.3f}); validation chrF {row['Δ val chrF at kept']:+.2f}, test BLEU {row['Δ BLEU']:+.2f}, "
            f"train BLEU {row['Δ train BLEU']:+.2f}."
        )
    return lines


def fitting_sentences(runs: list[TurkishRun], cells: list[TurkishRun], ablations: list[TurkishRun]) -> list[str]:
    lines = []
    for run in runs:
        m = run.metrics
        lowest, kept, last = int(m["best_val_loss_epoch"]), int(m["best_epoch"]), int(m["epochs_trained"])
        rise = m["final_val_loss"] - m["best_val_loss"]
        drop = m["train_loss_at_best"] - m["final_train_loss"]
        if lowest < last and rise > 0:
            loss = (f"the validation loss was lowest at epoch {lowest} ({m['best_val_loss']:.3f}) and ended {rise:+.3f} higher at epoch "
                    f"{last}, while the training loss kept falling (overfitting, as the loss sees it)")
        else:
            loss = f"the validation loss was still falling at the last epoch ({last}): no overfitting by the loss"
        chrf = m["val_chrf_at_best"]
        after = (f"after which the training loss changed by {-drop:+.3f} in {last - kept} more epochs" if kept < last
                 else "the last epoch trained")
        lines.append(
            f"- `{run.name}`: {loss}; the epoch-{kept} weights were kept (validation chrF {chrf:.1f}, validation loss "
            f"{m['val_loss_at_best']:.3f}), {after}. Train BLEU {m['train_bleu']:.1f} vs test BLEU {m['bleu']:.1f}."
        )
    by_name = {run.name: run for run in runs}
    for ablation in ablations:
        base = next((c for c in cells if c.cell == ablation.cell), None)
        if base is None:
            continue
        d_val = ablation.metrics["best_val_loss"] - base.metrics["best_val_loss"]
        d_chrf = ablation.metrics["val_chrf_at_best"] - base.metrics["val_chrf_at_best"]
        if "dropout" in ablation.changes:
            lines.append(
                f"- Dropout: without it (`{ablation.name}`) the lowest validation loss is {d_val:+.3f} against `{base.name}` and it is "
                f"reached at epoch {int(ablation.metrics['best_val_loss_epoch'])} instead of {int(base.metrics['best_val_loss_epoch'])}; "
                f"the kept epoch's validation chrF is {d_chrf:+.2f}; "
                + ("dropout held overfitting back." if d_val > CLEAR else
                   f"a difference below {CLEAR} nats, too small to credit dropout with preventing overfitting in runs this short.")
            )
        if "train_pairs" in ablation.changes:
            lines.append(
                f"- Data: with {int(ablation.metrics['train_pairs'])} instead of {int(base.metrics['train_pairs'])} training pairs "
                f"(`{ablation.name}`) the lowest validation loss is {d_val:+.3f} and the kept epoch's validation chrF {d_chrf:+.2f}; "
                + ("more data is what counters overfitting most directly." if d_val > CLEAR else "the smaller set did not validate clearly worse here.")
            )
    if "rnn" in by_name and "lstm" in by_name:
        rnn, lstm = by_name["rnn"].metrics, by_name["lstm"].metrics
        fitted = max(rnn["train_bleu"], lstm["train_bleu"]) >= 50
        lines.append(
            f"- Underfitting: the training loss went from {rnn['train_loss_at_best']:.3f} at the kept epoch to "
            f"{rnn['final_train_loss']:.3f} at the last (RNN), {lstm['train_loss_at_best']:.3f} to {lstm['final_train_loss']:.3f} "
            f"(LSTM), and the models reproduce their own training pairs at BLEU {rnn['train_bleu']:.1f} / {lstm['train_bleu']:.1f}: "
            + ("they fit the training set." if fitted else
               "neither fits the training set in this budget (the reference needed ~500 epochs). Stopping on the free-running "
               "validation loss would end training long before that; the validation translations go on improving after it.")
        )
    return lines


def counts_table(ctx: ReportContext, config: TurkishParams) -> pd.DataFrame:
    """The written study's module counts (one logit) beside the homework's published two-logit answer."""
    run = ctx.run_for(WRITTEN, WRITTEN_RUN, WRITTEN_STAGE, lineage=WRITTEN_LINEAGE)
    counted = from_mlflow(artifact_table(ctx.client, run.info.run_id, "tables/classifier_counts.json"))
    published = config.published_parameter_counts
    rows = []
    for row in counted.to_dict("records"):
        length = int(row["L"])
        for model in ("mlp", "rnn"):
            key = f"mlp_{length}" if model == "mlp" else "rnn"
            ours = int(row[model])
            rows.append({
                "model": "MLP, 2 hidden layers of 256" if model == "mlp" else "nn.RNN(100, 256) + linear head",
                "L": length,
                "counted (1 logit)": ours,
                "published (2 logits)": published.get(key),
                "difference": published[key] - ours if key in published else None,
            })
    return pd.DataFrame(rows)


def counts_lines(config: TurkishParams, counts: pd.DataFrame) -> list[str]:
    differences = sorted({int(d) for d in counts["difference"].dropna()})
    return [
        "### Homework: parameters of an MLP and an RNN classifier",
        "",
        "A 10,000-token vocabulary embedded in 100 dimensions, sequences of 10 or 40 tokens, binary classification,",
        "embedding excluded. The `written` study already builds these modules and counts them (one output logit; its run in",
        f"experiment `{WRITTEN.experiment}`); its numbers are reused here beside the homework's published answer, which used two",
        "logits (a softmax head):",
        "",
        counts.to_markdown(index=False),
        "",
        f"The differences ({', '.join(map(str, differences))}) are one more output unit's weights and bias (256 + 1). The MLP grows",
        "with the sequence length (its first layer reads all L x 100 inputs); the RNN reuses the same weights at every step,",
        "so its count is the same for 10 and 40 tokens.",
        "",
    ]


SECTION = Section(STUDY.name, render)
