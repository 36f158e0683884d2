"""Length generalisation of the positional-encoding runs (stage `evaluate_ablations`).

Each trained model of experiment 1 is scored on the validation words of the trained
lengths and on every longer word of the dataset (`long.txt`, never trained on), per
source length: greedy word accuracy, and the teacher-forced cross-entropy per target
character. The rows go to one MLflow run `length-generalisation` (a table and a figure),
the bucket sums to its metrics file.

A word whose source or target needs more positions than the model has (a one-hot code
has one per hidden dimension) cannot be represented: it counts as wrong, is left out of
the loss, and is counted in `unrepresentable`.
"""

from __future__ import annotations

import pandas as pd
import torch

from pipeline.core.io import require_inputs, write_metrics
from pipeline.core.runtime import select_device
from pipeline.core.tracked_run import TrackedRun
from pipeline.studies.ablations import EVALUATE_STAGE, LENGTH_RUN, LONG_WORDS, STUDY
from pipeline.studies.ablations.data import bucket_table
from pipeline.studies.ablations.figures import loss_by_length_figure
from pipeline.studies.ablations.params import Setup
from pipeline.translators.architectures import load_model, word_accuracy
from pipeline.translators.batching import LengthBucketBatcher
from pipeline.translators.encoder_decoder import seq2seq_loss
from pipeline.translators.pairs import Pair, read_pairs

COLUMNS = ["source_length", "words", "unrepresentable", "correct", "loss_sum", "characters"]


@torch.no_grad()
def score_by_length(model, pairs: list[Pair], vocab, max_decode_len: int, device: torch.device) -> pd.DataFrame:
    """One row per source length: words, unrepresentable words, exact greedy translations,
    summed teacher-forced loss and the target characters (with `<EOS>`) it sums over."""
    model.eval()
    positions = model.config.max_positions
    fits = [p for p in pairs if len(p.source) + 1 <= positions and len(p.target) + 1 <= positions]
    _, predictions = word_accuracy(model, fits, vocab, max_decode_len, device)
    rows = {n: dict.fromkeys(COLUMNS[1:], 0) for n in sorted({len(p.source) for p in pairs})}
    for pair in pairs:
        rows[len(pair.source)]["words"] += 1
    for pair, prediction in zip(fits, predictions):
        rows[len(pair.source)]["correct"] += prediction == pair.target
    for n in rows:
        rows[n]["unrepresentable"] = rows[n]["words"] - sum(len(p.source) == n for p in fits)
    for batch in LengthBucketBatcher(fits, vocab, batch_size=512, seed=0, shuffle=False).batches():
        loss, characters = seq2seq_loss(model, batch.to(device))
        row = rows[batch.source.size(1) - 1]  # the source is the word and <EOS>
        row["loss_sum"] += loss.item() * characters
        row["characters"] += characters
    return pd.DataFrame([{"source_length": n, **row} for n, row in rows.items()], columns=COLUMNS)


def run_length_evaluation(setup: Setup, root) -> None:
    config = setup.config
    data = setup.short_words(root)
    data.check()
    runs = config.position_runs()
    require_inputs([root / STUDY.paths(name).output_dir for name in runs], "train_ablations_positions")
    require_inputs([data.folder / LONG_WORDS], data.prepare_stage)
    pairs = read_pairs(data.folder / "val.txt") + read_pairs(data.folder / LONG_WORDS)
    device = select_device(setup.shared.device)
    max_len = setup.data.eval.max_decode_len
    if config.transformer.threads is not None:  # as in training: tiny matrices, and more threads contend (measured ~5x slower)
        torch.set_num_threads(min(config.transformer.threads, torch.get_num_threads()))

    frames = []
    for name, run in runs.items():
        model, vocab, _ = load_model(root / STUDY.paths(name).output_dir, device)
        scores = score_by_length(model, pairs, vocab, max_len, device)
        frames.append(scores.assign(run=name, encoding=run.positional_encoding))
    rows = pd.concat(frames, ignore_index=True)[["run", "encoding", *COLUMNS]]
    rows["word_accuracy"] = rows["correct"] / rows["words"]
    rows["loss"] = rows["loss_sum"] / rows["characters"].where(rows["characters"] > 0)  # NaN: nothing representable
    # Per run and bucket; a bucket with nothing representable has no loss (null in JSON, absent in MLflow).
    metrics = {name: bucket_table(group, config.length_buckets, config.train_max_length) for name, group in rows.groupby("run", sort=False)}

    with TrackedRun(
        STUDY,
        LENGTH_RUN,
        stage=EVALUATE_STAGE,
        shared=setup.shared,
        dataset=data.name,
        model="transformer-encoder-decoder",
        description=f"Length generalisation of the `{STUDY.name}` positional-encoding runs: trained on words of at most "
        f"{config.train_max_length} characters, scored on longer ones (DVC stage `{EVALUATE_STAGE}`).",
    ) as tracked:
        tracked.tracker.log_params(
            {
                "runs": list(runs),
                "train_max_length": config.train_max_length,
                "length_buckets": config.length_buckets,
                "max_decode_len": max_len,
                "data": data.data_params,
            }
        )
        paths = tracked.paths
        with tracked.outputs(clear=[paths.metrics_file, paths.timings_file, paths.curve_file]) as out:
            write_metrics(out, paths.metrics_file, metrics)
            rows.to_csv(out.path(paths.curve_file), index=False, float_format="%.6g")
        tracked.log_summary(
            {
                f"{name}.{stat}.{bucket}": value
                for name, table in metrics.items()
                for bucket, stats in table.items()
                for stat, value in stats.items()
                if value is not None
            }
        )
        tracker = tracked.tracker
        tracker.log_table(rows, "tables/scores_by_length.json")
        tracked.log_figure(loss_by_length_figure(rows, config.train_max_length), "figures/loss_by_length.png")
        tracked.say(f"scored {len(runs)} runs on {len(pairs)} words")
