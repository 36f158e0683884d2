"""One translator training run, end to end: train, evaluate, write outputs, track.

Shared by the encoder-decoder runs, the decoder-only translator and the IsoFLOP grid
members; what differs between them is the `Architecture` and the optional callbacks
(FLOP accounting, a compute budget) and MLflow parent run.

Order matters for safety: the stage's own files (weights, metrics, curve) are written
before the last MLflow calls, so a tracking failure never loses a finished training;
the resume state is deleted only once everything, tracking included, succeeded.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pandas as pd

from pipeline import figures
from pipeline.data.batching import LengthBucketBatcher
from pipeline.data.piglatin import read_pairs
from pipeline.errors import PipelineError
from pipeline.io import staged_outputs, write_json
from pipeline.lineage import OUTPUTS_TAG, outputs_fingerprint
from pipeline.flops import FlopCounter
from pipeline.models.transformer import TransformerConfig
from pipeline.nmt import Architecture, save_model, translate_sentence, word_accuracy
from pipeline.params import Params, TranslatorRun
from pipeline.paths import project_root
from pipeline.runtime import seed_everything, select_device
from pipeline.tracking import RunTracker, git_commit
from pipeline.training import CallbackList, Callbacks, EpochRecord, FitConfig, fit
from pipeline.vocab import VOCAB


class MlflowEpochLogger(Callbacks):
    """Streams per-epoch metrics to MLflow (step = epoch) while training runs."""

    def __init__(self, tracker: RunTracker):
        self.tracker = tracker

    def on_resume(self, history: list[EpochRecord]) -> None:
        # Replay the epochs this MLflow run has not seen: all of them for a fresh run, the
        # tail for a reopened one (its logging may have stopped before the kill).
        logged = self.tracker.last_step("val_loss") if self.tracker.resumed else 0
        for record in history:
            if record.epoch > logged:
                self.on_epoch_end(record)

    def on_epoch_end(self, record: EpochRecord) -> None:
        self.tracker.log_metrics(epoch_metrics(record), step=record.epoch)
        if "cumulative_flops" in record.extra:
            # The same loss with compute as its step: MLflow's default step-axis chart then
            # overlays runs of different sizes as loss-vs-FLOPs curves.
            self.tracker.log_metrics({"val_loss_by_flops": record.val_loss}, step=int(record.extra["cumulative_flops"]))


def epoch_metrics(record: EpochRecord) -> dict[str, float]:
    return {
        "train_loss": record.train_loss,
        "val_loss": record.val_loss,
        "lr": record.lr,
        "iterations": record.iterations,
        "tokens": record.tokens,
        "epoch_seconds": record.seconds,
        **record.extra,
    }


def train_seq2seq_run(
    *,
    name: str,
    run: TranslatorRun,
    params: Params,
    data_dir: Path,
    experiment: str,
    output_dir: Path,
    metrics_file: Path,
    curve_file: Path,
    state_dir: Path,
    fingerprint: str,
    stage: str,
    architecture: Architecture,
    flop_counter: FlopCounter | None = None,
    parent_run_id: str | None = None,
) -> None:
    started = time.perf_counter()
    device = select_device(params.device)
    train_pairs = read_pairs(data_dir / "train.txt")
    val_pairs = read_pairs(data_dir / "val.txt")

    seed_everything(params.seed)
    config = TransformerConfig(vocab_size=len(VOCAB), hidden_size=run.hidden_size, num_layers=run.num_layers)
    model = architecture.model_class(config)
    buckets = LengthBucketBatcher(train_pairs, VOCAB, run.batch_size, seed=params.seed)

    def train_batches(epoch: int) -> list:
        return [architecture.as_batch(batch, VOCAB) for batch in buckets.batches(epoch)]

    val_buckets = LengthBucketBatcher(val_pairs, VOCAB, run.batch_size, seed=params.seed, shuffle=False)
    val_batches = [architecture.as_batch(batch, VOCAB) for batch in val_buckets.batches()]
    num_parameters = sum(p.numel() for p in model.parameters())

    commit, dirty = git_commit()
    tags = {
        "git_commit": commit,
        "git_dirty": str(dirty).lower(),
        "dvc_stage": os.environ.get("DVC_STAGE", stage),
        "dataset": f"piglatin-{run.dataset}",
        "profile": params.profile,
        "model": architecture.name,
        "config_sha256": fingerprint,
    }
    resume_file = state_dir / "mlflow_run_id"
    with RunTracker(experiment, name, tags, resume_file=resume_file, parent_run_id=parent_run_id) as tracker:
        tracker.log_params(  # idempotent: a reopened run gets any it missed
            {"run": run.model_dump(), "seed": params.seed, "device": str(device), "parameters": num_parameters}
            | {"data": params.data.piglatin.model_dump(exclude={"files"}), "eval": params.nmt.eval.model_dump(exclude={"sentences"})}
        )
        if not tracker.resumed:
            for split, pairs in (("train", train_pairs), ("validation", val_pairs)):
                frame = pd.DataFrame({"english": [p.source for p in pairs], "piglatin": [p.target for p in pairs]})
                tracker.log_dataset(frame, f"piglatin-{run.dataset}-{split}", str(data_dir / f"{split}.txt"), split)

        callbacks: list[Callbacks] = [flop_counter] if flop_counter else []
        result = fit(
            model,
            train_batches=train_batches,
            val_batches=val_batches,
            loss_fn=architecture.loss,
            config=FitConfig(epochs=run.epochs, patience=run.patience, lr=run.lr, lr_decay=run.lr_decay),
            resume_path=state_dir / "state.pt",
            fingerprint=fingerprint,
            callbacks=CallbackList(*callbacks, MlflowEpochLogger(tracker)),
            device=device,
            description=name,
        )

        max_len = params.nmt.eval.max_decode_len
        accuracy, predictions = word_accuracy(model, val_pairs, VOCAB, max_len, device)
        translations = pd.DataFrame(
            {
                "sentence": params.nmt.eval.sentences,
                "translation": [translate_sentence(model, s, VOCAB, max_len, device) for s in params.nmt.eval.sentences],
            }
        )
        curve = pd.DataFrame([epoch_metrics(r) | {"epoch": r.epoch} for r in result.history])
        accounting = ["cumulative_flops", "cumulative_tokens"] if flop_counter else []
        curve = curve[["epoch", "iterations", "tokens", *accounting, "train_loss", "val_loss", "lr", "epoch_seconds"]]
        curve[accounting] = curve[accounting].astype("int64")  # exact counts, not 6 significant digits
        metrics = {
            "best_val_loss": result.best_val_loss,
            "best_epoch": result.best_epoch,
            "epochs_trained": len(result.history),
            "stopped_early": result.stopped_early,
            "final_train_loss": result.history[-1].train_loss,
            "val_word_accuracy": accuracy,
            # Targets longer than the decoding limit can never be matched: accuracy's ceiling.
            "val_targets_over_max_len": sum(len(p.target) > max_len for p in val_pairs),
            "parameters": num_parameters,
            "train_tokens": result.history[-1].tokens,
            "train_seconds": round(result.train_seconds, 2),
            "tokens_per_second": round(result.history[-1].tokens / max(result.train_seconds, 1e-9), 1),
        }
        if flop_counter:
            flops = result.history[-1].extra["cumulative_flops"]
            metrics |= {
                "non_embedding_parameters": flop_counter.parameters,
                "cumulative_flops": flops,
                "cumulative_tokens": result.history[-1].extra["cumulative_tokens"],
                "flops_per_second": round(flops / max(result.train_seconds, 1e-9), 1),
                "stopped_at_flop_budget": flop_counter.should_stop(result.history[-1]),
            }

        root = project_root()
        with staged_outputs(root, clear=[output_dir, metrics_file, curve_file]) as out:
            model_dir = out.path(output_dir)
            save_model(model_dir, model, result.best_state, {"run": name, "stage": stage, "params": run.model_dump()})
            translations.to_json(model_dir / "translations.json", orient="records", indent=2)
            write_json(out.path(metrics_file), metrics)
            curve.drop(columns="epoch_seconds").to_csv(out.path(curve_file), index=False, float_format="%.6g")

        # Summaries go to step 0; a key the epochs already logged (cumulative_flops) would add
        # a bogus point at epoch 0 to its curve, so those keep their per-epoch history only.
        per_epoch = set(epoch_metrics(result.history[-1]))
        tracker.log_metrics({k: float(v) for k, v in metrics.items() if k not in per_epoch})
        figure = figures.loss_curve(curve, f"{name}: loss per epoch")
        tracker.log_figure(figure, "figures/loss_curve.png")
        figures.close(figure)
        tracker.log_table(translations, "tables/sample_translations.json")
        tracker.log_table(
            pd.DataFrame(
                {
                    "english": [p.source for p in val_pairs],
                    "target": [p.target for p in val_pairs],
                    "prediction": predictions,
                    "correct": [pred == p.target for pred, p in zip(predictions, val_pairs)],
                }
            ),
            "tables/val_predictions.json",
        )
        tracker.set_tags({OUTPUTS_TAG: outputs_fingerprint(metrics_file, curve_file)})

    print(
        f"{name}: best val loss {result.best_val_loss:.4f} at epoch {result.best_epoch}, "
        f"word accuracy {accuracy:.3f}; training {result.train_seconds:.1f}s, "
        f"whole stage {time.perf_counter() - started:.1f}s after imports",
        file=sys.stderr,
    )
    for row in translations.itertuples():
        print(f"  {row.sentence} -> {row.translation}", file=sys.stderr)
    if tracker.failures:
        raise PipelineError(
            f"{name}: training finished and its outputs are written, but MLflow did not record everything "
            f"({tracker.failure_summary()}); rerun the stage to log it again (it resumes from the finished state)"
        )
    shutil.rmtree(state_dir, ignore_errors=True)
