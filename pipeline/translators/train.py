"""One translator training run, end to end: train, evaluate, write outputs, track.

Every translator study's stage (encoder-decoder, decoder-only, the IsoFLOP grid members,
the ablations, the recurrent models) checks its params and data, then calls `train_stage`,
which keys the run by its stage's code and calls `train_translator`; what differs between
them is the `Architecture` and the optional FLOP counter (with a compute budget) and MLflow
parent run. The run skeleton (tags, staged outputs, the outputs hash, the MLflow failure
check, resume cleanup) is `pipeline.core.tracked_run.TrackedRun`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn

from pipeline.core import figures
from pipeline.core.callbacks import EpochRecord, epoch_metrics
from pipeline.core.errors import stop_on_sigterm
from pipeline.core.io import file_sha256, write_metrics
from pipeline.core.lineage import function_fingerprint
from pipeline.core.params import SharedParams, StudySetup
from pipeline.core.paths import Study, project_root
from pipeline.core.runtime import process_seconds, seed_everything, select_device
from pipeline.core.tracked_run import TrackedRun
from pipeline.core.training import CallbackList, Callbacks, FitConfig, fit
from pipeline.translators.architectures import Architecture, save_model, translate_sentence, word_accuracy
from pipeline.translators.attention_maps import attention_figure
from pipeline.translators.batching import LengthBucketBatcher
from pipeline.translators.flops import FlopCounter
from pipeline.translators.pairs import DATA_FILES, TranslatorData, read_pairs
from pipeline.translators.params import TranslationEval, TranslatorRun
from pipeline.translators.vocab import VOCAB_FILE, Vocabulary


def config_fingerprint(
    root: Path, shared: SharedParams, run: TranslatorRun | None, data: TranslatorData, stage: Callable, **extra: Any
) -> str:
    """A hash of what a training's result depends on: its params, the data and the code.

    Resume files must match it (a killed run rerun after a code change starts over
    rather than finishing old weights with new code); the IsoFLOP grid's parent run is
    keyed by it (with `run=None`: what all members share). The code is what the stage
    function runs (`pipeline.core.lineage.function_fingerprint`): the same files as the
    stage's code deps in dvc.yaml.
    """
    source = {
        "run": run.model_dump() if run is not None else None,
        "seed": shared.seed,
        "device": shared.device,
        "data": file_sha256(*(data.folder / name for name in DATA_FILES)),
        "code": function_fingerprint(stage, root),
        **extra,
    }
    return hashlib.sha256(json.dumps(source, sort_keys=True).encode()).hexdigest()


def train_stage(
    stage_function: Callable,
    setup: StudySetup,
    study: Study,
    stage: str,
    name: str,
    config: TranslatorRun,
    architecture: Architecture,
    data: TranslatorData,
    *,
    seed_offset: int = 0,
    fingerprint_extra: dict[str, Any] | None = None,
    **options: Any,
) -> None:
    """Train run `name` (settings `config`) of DVC stage `stage`, which runs `stage_function`, on checked `data`.

    Every translator study's stages end here. What varies between them: the run, its
    architecture and data; `seed_offset`, added to the top-level seed (the run-to-run
    spread: the transformer's extra seeds, the grid's seeds, the ablations' replicates);
    `fingerprint_extra`, more that the result depends on (the grid's shared settings); and
    `options`, the rest of `train_translator`'s (FLOP counting, the budget, the parent run).
    `setup` is the study's `params.load()`: its shared settings and its dataset section,
    whose `eval` says how every translator is evaluated. The resume fingerprint is taken
    from `stage_function`, the function the stage runs: the same code as its deps.
    """
    shared = setup.shared.model_copy(update={"seed": setup.shared.seed + seed_offset})
    fingerprint = config_fingerprint(project_root(), shared, config, data, stage_function, **(fingerprint_extra or {}))
    stop_on_sigterm()  # dvc stops stages with SIGTERM: the MLflow run then ends KILLED, not RUNNING
    train_translator(
        study=study,
        name=name,
        run=config,
        shared=shared,
        evaluation=setup.data.eval,
        data=data,
        stage=stage,
        architecture=architecture,
        fingerprint=fingerprint,
        **options,
    )


VAL_LOSS_BATCH_MEAN = "val_loss_batch_mean"


class BatchMeanValLoss(Callbacks):
    """The reference notebooks' validation loss: the mean of the per-batch mean losses.

    The project's `val_loss` weights each batch by its target tokens; the notebooks
    averaged the batch means, so a batch of a few long words weighs as much as a full
    batch of short ones. Published figures use the notebooks' definition, so every
    translator logs both (`val_loss_batch_mean` per epoch). The batch means are taken
    from the loss calls `fit` makes while evaluating: no second pass over the data.
    """

    def __init__(self, loss_fn: Callable[[nn.Module, Any], tuple[torch.Tensor, int]]):
        self.loss_fn = loss_fn
        self.batch_means: list[float] = []

    def loss(self, model: nn.Module, batch: Any) -> tuple[torch.Tensor, int]:
        loss, tokens = self.loss_fn(model, batch)
        if not model.training:  # fit evaluates in eval mode, trains in train mode
            self.batch_means.append(loss.item())
        return loss, tokens

    def on_evaluate(self, record: EpochRecord) -> None:
        record.extra[VAL_LOSS_BATCH_MEAN] = sum(self.batch_means) / max(len(self.batch_means), 1)
        self.batch_means.clear()


def time_breakdown(startup: float | None, setup: float, phases: dict[str, float], evaluation: float) -> dict[str, float]:
    """Where a run's time went, in the order it was spent (the benchmark sets it beside its projection):
    the process's start-up (None where /proc is missing), the run's set-up (data, model, the MLflow
    run), the training loop's phases (`core.training.PHASES`; this process's epochs only, not those
    restored from a resume file) and the final evaluation (word accuracy, sample translations).
    Writing the outputs and logging the artifacts come after the breakdown is written: the stage's
    log line gives them."""
    timings = {"startup_seconds": startup, "setup_seconds": setup, **phases, "evaluation_seconds": evaluation}
    return {phase: round(seconds, 2) for phase, seconds in timings.items() if seconds is not None}


def train_translator(
    *,
    study: Study,
    name: str,
    run: TranslatorRun,
    shared: SharedParams,
    evaluation: TranslationEval,
    data: TranslatorData,
    stage: str,
    architecture: Architecture,
    fingerprint: str,
    flop_budget: float | None = None,
    count_flops: bool = False,
    parent_run_id: str | None = None,
) -> None:
    startup_seconds = process_seconds()  # the interpreter, the imports, params and data checks
    entered = time.perf_counter()
    device = select_device(shared.device)
    vocab = Vocabulary.load(data.folder / VOCAB_FILE)
    train_pairs = read_pairs(data.folder / "train.txt")
    val_pairs = read_pairs(data.folder / "val.txt")
    evaluation_sentences = list(evaluation.sentences)
    for i, sentence in enumerate(evaluation_sentences):  # fail before training, not after it
        vocab.check_text(sentence.strip().lower(), f"evaluation sentence {i} against {data.folder / VOCAB_FILE}")
    for i, word in enumerate(evaluation.attention_words):
        vocab.check_text(word.strip().lower(), f"attention word {i} against {data.folder / VOCAB_FILE}")

    if run.threads is not None:
        torch.set_num_threads(min(run.threads, torch.get_num_threads()))
    seed_everything(shared.seed)
    model = architecture.build(len(vocab), run)
    buckets = LengthBucketBatcher(train_pairs, vocab, run.batch_size, seed=shared.seed)

    def train_batches(epoch: int) -> list:
        return [architecture.as_batch(batch, vocab) for batch in buckets.batches(epoch)]

    val_buckets = LengthBucketBatcher(val_pairs, vocab, run.batch_size, seed=shared.seed, shuffle=False)
    val_batches = [architecture.as_batch(batch, vocab) for batch in val_buckets.batches()]
    num_parameters = sum(p.numel() for p in model.parameters())
    flop_counter = FlopCounter(run.hidden_size, run.num_layers, len(vocab), stop_at_flops=flop_budget) if count_flops else None

    with TrackedRun(
        study,
        name,
        stage=stage,
        shared=shared,
        dataset=data.name,
        model=architecture.name,
        fingerprint=fingerprint,
        parent_run_id=parent_run_id,
        description=f"{study.experiment} run `{name}`: {architecture.name}, hidden size {run.hidden_size}, "
        f"{run.num_layers} layer(s), up to {run.epochs} epochs on data set {data.name} (DVC stage `{stage}`).",
    ) as tracked:
        tracker = tracked.tracker
        tracker.log_params(  # idempotent: a reopened run gets any it missed
            {"run": run.model_dump(), "seed": shared.seed, "device": str(device), "parameters": num_parameters}
            | {"data": data.data_params, "eval": evaluation.model_dump(exclude={"sentences"})}
        )
        if not tracker.resumed:
            for split, pairs in (("train", train_pairs), ("validation", val_pairs)):
                frame = pd.DataFrame({"source": [p.source for p in pairs], "target": [p.target for p in pairs]})
                file = data.folder / ("train.txt" if split == "train" else "val.txt")
                tracker.log_dataset(frame, f"{data.name}-{split}", str(file), split)

        reference_loss = BatchMeanValLoss(architecture.loss)
        callbacks: list[Callbacks] = [reference_loss, *([flop_counter] if flop_counter else [])]
        fit_started = time.perf_counter()
        result = fit(
            model,
            train_batches=train_batches,
            val_batches=val_batches,
            loss_fn=reference_loss.loss,
            config=FitConfig(epochs=run.epochs, patience=run.patience, lr=run.lr, lr_decay=run.lr_decay),
            resume_path=tracked.resume_state,
            fingerprint=fingerprint,
            callbacks=CallbackList(*callbacks, tracked.epoch_logger(loss_by={"val_loss_by_flops": "cumulative_flops"})),
            device=device,
            description=name,
        )

        fit_ended = time.perf_counter()
        max_len = evaluation.max_decode_len
        accuracy, predictions = word_accuracy(model, val_pairs, vocab, max_len, device)
        translations = pd.DataFrame(
            {
                "sentence": evaluation_sentences,
                "translation": [translate_sentence(model, s, vocab, max_len, device) for s in evaluation_sentences],
            }
        )
        curve = pd.DataFrame([epoch_metrics(r) | {"epoch": r.epoch} for r in result.history])
        accounting = ["cumulative_flops", "cumulative_tokens"] if flop_counter else []
        curve = curve[["epoch", "iterations", "tokens", *accounting, "train_loss", "val_loss", VAL_LOSS_BATCH_MEAN, "lr", "epoch_seconds"]]
        curve[accounting] = curve[accounting].astype("int64")  # exact counts, not 6 significant digits
        metrics = {
            "best_val_loss": result.best_val_loss,
            "best_epoch": result.best_epoch,
            # The reference notebooks' figure: lowest per-epoch mean of per-batch mean losses.
            f"best_{VAL_LOSS_BATCH_MEAN}": float(curve[VAL_LOSS_BATCH_MEAN].min()),
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
        metrics["time_breakdown"] = time_breakdown(
            startup_seconds, fit_started - entered, result.phase_seconds, time.perf_counter() - fit_ended
        )

        paths = tracked.paths
        outputs_started = time.perf_counter()
        with tracked.outputs() as out:
            model_dir = out.path(paths.output_dir)
            save_model(model_dir, model, result.best_state, vocab, {"run": name, "stage": stage, "params": run.model_dump()})
            translations.to_json(model_dir / "translations.json", orient="records", indent=2)
            write_metrics(out, paths.metrics_file, metrics)
            curve.drop(columns="epoch_seconds").to_csv(out.path(paths.curve_file), index=False, float_format="%.6g")

        tracked.log_summary(metrics | metrics["time_breakdown"], skip=epoch_metrics(result.history[-1]))
        tracked.log_figure(figures.loss_curve(curve, f"{name}: loss per epoch"), "figures/loss_curve.png")
        tracker.log_table(translations, "tables/sample_translations.json")
        if architecture.attention_map is not None:
            words = [word.strip().lower() for word in evaluation.attention_words]
            attention = architecture.attention_map(model, words, vocab, max_len, device)
            tracker.log_table(attention, "tables/attention_maps.json")
            tracked.log_figure(attention_figure(attention, f"{name}: attention over the source"), "figures/attention_maps.png")
        tracker.log_table(
            pd.DataFrame(
                {
                    "source": [p.source for p in val_pairs],
                    "target": [p.target for p in val_pairs],
                    "prediction": predictions,
                    "correct": [pred == p.target for pred, p in zip(predictions, val_pairs)],
                }
            ),
            "tables/val_predictions.json",
        )
        tracked.say(
            f"best val loss {result.best_val_loss:.4f} at epoch {result.best_epoch}, word accuracy {accuracy:.3f}; "
            f"training {result.train_seconds:.1f}s, whole stage {tracked.seconds:.1f}s after imports; "
            + ", ".join(f"{phase.removesuffix('_seconds')} {seconds:.1f}s" for phase, seconds in metrics["time_breakdown"].items())
            + f", outputs and MLflow artifacts {time.perf_counter() - outputs_started:.1f}s"
        )
        for row in translations.itertuples():
            tracked.say(f"  {row.sentence} -> {row.translation}")
