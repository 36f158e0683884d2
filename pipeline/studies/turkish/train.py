"""One run of `turkish.runs`, end to end: encode the prepared splits, train, evaluate, write, track.

The model is the run's `cell`: a recurrent (RNN, LSTM) or a Transformer encoder-decoder
(`model.build`). The shared `fit()` loop trains with Adam and gradient clipping. The
validation loss is measured free running (teacher forcing 0), as the reference evaluated;
the training loss with the run's teacher-forcing ratio. After every epoch `TranslationSelection` also scores
greedy translations of the validation split (chrF, BLEU).

Which epoch is kept, and when training stops, follows `select_by`. The reference kept its
lowest-validation-loss model (`val_loss`); here that loss is lowest after about 5 epochs,
when the model still answers every sentence with the same few tokens, and then rises while
the translations go on improving for tens of epochs (validation chrF). So by default
(`val_chrf`) the epoch with the highest validation chrF is kept, and training ends after
`patience` epochs without a higher one.

Batches, each step's teacher-forcing draw and the dropout masks depend only on (seed,
epoch), so a run resumes: `fit` keeps a resume file (keyed by `run_fingerprint`: settings,
prepared data, the stage's code) and `TranslationSelection` keeps the highest-chrF
weights beside it. A killed run, rerun, continues from its last saved epoch in the same
MLflow run and ends with the metrics of an uninterrupted one. After training: greedy
translations of the test split scored with BLEU and chrF, the same scores for copying
the Turkish source, and a sample table.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import torch

from pipeline.core.callbacks import CallbackList, Callbacks, EpochRecord
from pipeline.core.errors import PipelineError
from pipeline.core.io import write_metrics
from pipeline.core.lineage import files_fingerprint, stage_fingerprint
from pipeline.core.params import SharedParams
from pipeline.core.runtime import seed_everything, select_device
from pipeline.core.tracked_run import TrackedRun
from pipeline.core.training import FitConfig, evaluate_loss, fit
from pipeline.studies.turkish import LANGUAGES, PREPARED, SPLITS, STUDY, split_file, tokenizer_dir
from pipeline.studies.turkish.data import Pair, read_pairs
from pipeline.studies.turkish.evaluation import corpus_scores
from pipeline.studies.turkish.figures import loss_curves
from pipeline.studies.turkish.model import PairBatch, Seq2SeqConfig, build, count_parameters, initialise, make_batch, save, sequence_loss
from pipeline.studies.turkish.params import Recipe, Setup, TurkishParams
from pipeline.studies.turkish.tokenization import detokenize, encode, load, special_ids

# The per-epoch curve `plots/turkish/<run>.csv`: results only. Each epoch's wall time goes to MLflow (`epoch_seconds`,
# logged by the epoch logger) and the run's totals to its timings twin: in a DVC plot it would change on every rerun.
CURVE_COLUMNS = ["epoch", "iterations", "train_loss", "val_loss", "val_chrf", "val_bleu"]
DATASET = "tatoeba-eng-tur"
TRAIN_STAGE = ("pipeline.studies.turkish.stages", "train")  # the stage function whose code keys a run's resume state
CODE_ROOT = Path(__file__).resolve().parents[3]  # the checkout holding the code (a test's project folder holds data only)
DROPOUT_SEEDS = 10**9  # offset of the per-epoch dropout seeds from the batch-order seeds


class TrainBatches:
    """Shuffled mini-batches with each decoder step's teacher-forcing draw; both depend only on (seed, epoch).

    Calling it also seeds torch's global generator, which dropout draws from, for the epoch:
    a run resumed at epoch n then draws the masks an uninterrupted run draws there.
    """

    def __init__(self, sources: list[list[int]], targets: list[list[int]], recipe: Recipe, pad_id: int, seed: int):
        self.sources, self.targets = sources, targets
        self.recipe, self.pad_id, self.seed = recipe, pad_id, seed
        self.steps = max(len(t) for t in targets) - 1

    def __call__(self, epoch: int) -> list[PairBatch]:
        generator = torch.Generator().manual_seed(self.seed * 1000 + epoch)
        torch.manual_seed(DROPOUT_SEEDS + self.seed * 1000 + epoch)
        order = torch.randperm(len(self.sources), generator=generator).tolist()
        batches = []
        for start in range(0, len(order), self.recipe.batch_size):
            rows = order[start : start + self.recipe.batch_size]
            forcing = torch.rand(self.steps, generator=generator) < self.recipe.teacher_forcing
            batches.append(make_batch([self.sources[i] for i in rows], [self.targets[i] for i in rows], self.pad_id, forcing))
        return batches


class Snapshots:
    """The highest-chrF epoch's weights on disk beside `fit`'s resume file, which keeps only the
    lowest-validation-loss ones: `epoch-<n>.pt` for each new best.

    `fit` writes its resume file after some epochs only (the first, then every
    `RESUME_EVERY_S`), so after a kill it can stand before the newest snapshot; each snapshot
    is kept until the resume file has been rewritten after it, and then only the best one.
    """

    def __init__(self, folder: Path, resume_file: Path):
        self.folder, self.resume_file = folder, resume_file
        self.seen = self._resume_file_version()

    def save(self, epoch: int, state: dict[str, torch.Tensor]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        scratch = self.folder / f"epoch-{epoch}.tmp"
        torch.save(state, scratch)
        scratch.replace(self.folder / f"epoch-{epoch}.pt")  # a kill mid-write leaves no half file

    def load(self, epoch: int) -> dict[str, torch.Tensor]:
        path = self.folder / f"epoch-{epoch}.pt"
        if not path.exists():
            raise PipelineError(
                f"{path}: the resume state lacks the weights of its best epoch {epoch}; "
                f"delete {self.resume_file.parent} and rerun to start over"
            )
        return torch.load(path, map_location="cpu", weights_only=True)

    def keep_only(self, epoch: int) -> None:
        for path in self.folder.glob("epoch-*.pt"):
            if path.name != f"epoch-{epoch}.pt":
                path.unlink()

    def resume_file_rewritten(self) -> bool:
        """Has `fit` rewritten its resume file since the last call? (`os.replace` gives it a new inode.)"""
        version = self._resume_file_version()
        rewritten, self.seen = version != self.seen, version
        return rewritten

    def _resume_file_version(self) -> tuple[int, int] | None:
        try:
            stat = self.resume_file.stat()
        except FileNotFoundError:
            return None
        return stat.st_ino, stat.st_mtime_ns


class TranslationSelection(Callbacks):
    """After each epoch: chrF and BLEU of greedy validation translations (`val_chrf`, `val_bleu`).

    With a `patience` (recipe `select_by: val_chrf`) it also keeps a copy of the weights of the
    highest-chrF epoch and asks the loop to stop after `patience` epochs without a higher chrF.
    With `snapshots` those weights survive a kill, and a resumed run picks its state up again.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        translate_validation: Callable[[], list[str]],
        references: list[str],
        patience: int | None,
        snapshots: Snapshots | None = None,
    ):
        self.model = model
        self.translate_validation = translate_validation
        self.references = references
        self.patience = patience
        self.snapshots = snapshots if patience is not None else None  # without a patience fit keeps the weights
        self.best_chrf, self.best_epoch, self.bad_epochs = -math.inf, 0, 0
        self.best_state: dict[str, torch.Tensor] | None = None

    def on_evaluate(self, record: EpochRecord) -> None:
        scores = corpus_scores(self.translate_validation(), self.references)
        record.extra["val_chrf"], record.extra["val_bleu"] = scores["chrf"], scores["bleu"]
        if self._improved(record.epoch, scores["chrf"]) and self.patience is not None:
            self.best_state = {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}
            if self.snapshots:
                self.snapshots.save(record.epoch, self.best_state)

    def _improved(self, epoch: int, chrf: float) -> bool:
        if chrf > self.best_chrf:
            self.best_chrf, self.best_epoch, self.bad_epochs = chrf, epoch, 0
            return True
        self.bad_epochs += 1
        return False

    def on_resume(self, history: list[EpochRecord]) -> None:
        for record in history:  # the epochs the resume file holds, scored as they were
            self._improved(record.epoch, record.extra["val_chrf"])
        if self.snapshots:
            self.best_state = self.snapshots.load(self.best_epoch)
            self.snapshots.keep_only(self.best_epoch)

    def on_epoch_end(self, record: EpochRecord) -> None:
        # A resume file written in this epoch can never take the run back before it: only the best snapshot is needed.
        if self.snapshots and self.snapshots.resume_file_rewritten():
            self.snapshots.keep_only(self.best_epoch)

    def should_stop(self, record: EpochRecord) -> bool:
        return self.patience is not None and self.bad_epochs >= self.patience


def in_order(sources: list[list[int]], targets: list[list[int]], pad_id: int, size: int) -> list[PairBatch]:
    """Evaluation batches: no teacher forcing (the decoder reads its own guesses)."""
    return [make_batch(sources[i : i + size], targets[i : i + size], pad_id) for i in range(0, len(sources), size)]


def translate(model: torch.nn.Module, tokenizer, sources: list[list[int]], pad_id: int, size: int = 256) -> list[str]:
    """Greedy translations of encoded sentences, detokenized."""
    device = next(model.parameters()).device
    model.eval()
    texts = []
    for start in range(0, len(sources), size):
        chunk = sources[start : start + size]
        batch = make_batch(chunk, [[0, 0]] * len(chunk), pad_id).to(device)
        decoded = tokenizer.batch_decode(
            model.generate(batch.source, batch.source_lengths), skip_special_tokens=True, clean_up_tokenization_spaces=True
        )
        texts += [detokenize(text) for text in decoded]
    return texts


def curve_frame(history: list[EpochRecord]) -> pd.DataFrame:
    rows = [
        {
            "epoch": r.epoch,
            "iterations": r.iterations,
            "train_loss": r.train_loss,
            "val_loss": r.val_loss,
            "val_chrf": r.extra["val_chrf"],
            "val_bleu": r.extra["val_bleu"],
        }
        for r in history
    ]
    return pd.DataFrame(rows, columns=CURVE_COLUMNS)


def reference_parameters(recipe: Recipe, vocab_sizes: list[int]) -> int:
    """The same architecture at the hub tokenizers' vocabulary sizes (built for real: ~80 MB for a moment;
    torch's meta device would avoid that but its first use costs seconds of imports)."""
    return count_parameters(build(model_config(recipe, vocab_sizes[0], vocab_sizes[1], (0, 2, 3), 10)))


def model_config(recipe: Recipe, source_vocab: int, target_vocab: int, ids: tuple[int, int, int], max_length: int) -> Seq2SeqConfig:
    pad_id, start_id, end_id = ids
    return Seq2SeqConfig(
        cell=recipe.cell,
        source_vocab=source_vocab,
        target_vocab=target_vocab,
        embedding_dim=recipe.embedding_dim,
        hidden_size=recipe.hidden_size,
        num_layers=recipe.num_layers,
        dropout=recipe.dropout,
        pad_id=pad_id,
        start_id=start_id,
        end_id=end_id,
        max_length=max_length,
        heads=recipe.heads,
        feedforward_size=recipe.feedforward_size,
    )


def run_fingerprint(name: str, config: TurkishParams, shared: SharedParams, root: Path) -> str:
    """What a run's training depends on: its settings, the prepared splits and tokenizers, and the
    stage's code. A resume file (and the MLflow run it reopens) is used only by a run with the same."""
    source = {
        "recipe": config.recipe_for(name).model_dump(),
        "max_length": config.max_length,
        "seed": shared.seed,
        "device": shared.device,
        "data": files_fingerprint((p for p in (root / PREPARED).rglob("*") if p.is_file()), root),
        "code": stage_fingerprint(*TRAIN_STAGE, CODE_ROOT),
    }
    return hashlib.sha256(json.dumps(source, sort_keys=True).encode()).hexdigest()


def train_run(name: str, loaded: Setup, root: Path) -> None:
    started = time.perf_counter()
    config = loaded.config
    recipe = config.recipe_for(name)
    device = select_device(loaded.shared.device)
    splits: dict[str, list[Pair]] = {split: read_pairs(root / split_file(split)) for split in SPLITS}
    splits["train"] = splits["train"][: recipe.train_pairs]  # the split is in seeded random order already
    tokenizers = {language: load(root / tokenizer_dir(language)) for language in LANGUAGES}
    pad_id, start_id, end_id = special_ids(tokenizers["english"])
    source_pad = special_ids(tokenizers["turkish"])[0]
    if source_pad != pad_id:  # one padding id for both sides keeps the batches simple
        raise PipelineError(
            f"{tokenizer_dir('turkish')}: pads with id {source_pad}, the English tokenizer with {pad_id}; both must use one id"
        )
    encoded = {
        split: (
            encode(tokenizers["turkish"], [p.turkish for p in pairs], config.max_length),
            encode(tokenizers["english"], [p.english for p in pairs], config.max_length),
        )
        for split, pairs in splits.items()
    }

    seed_everything(loaded.shared.seed)
    model_settings = model_config(
        recipe, len(tokenizers["turkish"]), len(tokenizers["english"]), (pad_id, start_id, end_id), config.max_length
    )
    model = build(model_settings)
    initialise(model, recipe.init_range, torch.Generator().manual_seed(loaded.shared.seed))
    parameters = count_parameters(model)
    train_batches = TrainBatches(*encoded["train"], recipe, pad_id, loaded.shared.seed)
    val_batches = in_order(*encoded["val"], pad_id, 256)
    dataset = DATASET if config.active.data == "tatoeba" else "wmt16-tr-en"
    fingerprint = run_fingerprint(name, config, loaded.shared, root)
    with TrackedRun(
        STUDY,
        name,
        stage=STUDY.stage_name(name),
        shared=loaded.shared,
        dataset=dataset,
        model=f"{recipe.cell}-encoder-decoder",
        extra_tags={"source": config.source},
        fingerprint=fingerprint,
    ) as run:
        run.tracker.log_params(
            {
                "recipe": recipe.model_dump(),
                "changes": config.changes(name) or "none",
                "max_length": config.max_length,
                "source": config.active.model_dump(),
                "seed": loaded.shared.seed,
                "device": str(device),
                "vocab_sizes": {language: len(tok) for language, tok in tokenizers.items()},
                "parameters": parameters,
            }
        )
        if not run.tracker.resumed:  # a reopened run logged them before the kill
            for split, pairs in splits.items():
                frame = pd.DataFrame({"english": [p.english for p in pairs], "turkish": [p.turkish for p in pairs]})
                run.tracker.log_dataset(frame, f"{dataset}-{split}", str(root / split_file(split)), split)

        by_chrf = recipe.select_by == "val_chrf"
        selection = TranslationSelection(
            model,
            lambda: translate(model, tokenizers["english"], encoded["val"][0], pad_id),
            [p.english for p in splits["val"]],
            patience=recipe.patience if by_chrf else None,
            snapshots=Snapshots(run.state_dir / "best_chrf", run.resume_state),
        )
        result = fit(
            model,
            train_batches=train_batches,
            val_batches=val_batches,
            loss_fn=sequence_loss,
            config=FitConfig(
                epochs=recipe.epochs,
                patience=recipe.epochs if by_chrf else recipe.patience,
                lr=recipe.lr,
                grad_clip=recipe.grad_clip,
                restore_best=not by_chrf,
            ),
            resume_path=run.resume_state,
            fingerprint=fingerprint,
            callbacks=CallbackList(selection, run.epoch_logger()),
            device=device,
            description=f"turkish {name}",
        )
        if by_chrf:
            model.load_state_dict(selection.best_state)
        kept = result.history[(selection.best_epoch if by_chrf else result.best_epoch) - 1]

        references = [p.english for p in splits["test"]]
        hypotheses = translate(model, tokenizers["english"], encoded["test"][0], pad_id)
        scores = corpus_scores(hypotheses, references)
        copy = corpus_scores([p.turkish for p in splits["test"]], references)
        train_sample = splits["train"][: len(references)]  # how well it reproduces pairs it trained on
        train_scores = corpus_scores(
            translate(model, tokenizers["english"], encoded["train"][0][: len(references)], pad_id), [p.english for p in train_sample]
        )
        curve = curve_frame(result.history)
        metrics = {
            "bleu": round(scores["bleu"], 4),
            "chrf": round(scores["chrf"], 4),
            "copy_bleu": round(copy["bleu"], 4),
            "copy_chrf": round(copy["chrf"], 4),
            "train_bleu": round(train_scores["bleu"], 4),
            "test_sentences": len(references),
            "test_loss": evaluate_loss(model, in_order(*encoded["test"], pad_id, 256), sequence_loss, device),
            # The kept epoch (`select_by`) and its validation figures.
            "best_epoch": kept.epoch,
            "val_chrf_at_best": kept.extra["val_chrf"],
            "val_bleu_at_best": kept.extra["val_bleu"],
            "val_loss_at_best": kept.val_loss,
            "train_loss_at_best": kept.train_loss,
            # The lowest validation loss, wherever it fell (the reference's criterion).
            "best_val_loss": result.best_val_loss,
            "best_val_loss_epoch": result.best_epoch,
            "final_train_loss": result.history[-1].train_loss,
            "final_val_loss": result.history[-1].val_loss,
            "final_val_chrf": result.history[-1].extra["val_chrf"],
            "epochs_trained": len(result.history),
            "stopped_early": len(result.history) < recipe.epochs,
            "train_pairs": len(splits["train"]),
            "parameters": parameters,
            "reference_parameters": reference_parameters(recipe, config.reference_vocab_sizes),
            "train_seconds": round(result.train_seconds, 2),
            "seconds_per_epoch": round(result.train_seconds / len(result.history), 3),
        }
        samples = pd.DataFrame({"turkish": [p.turkish for p in splits["test"]], "reference": references, "translation": hypotheses})

        with run.outputs() as out:
            folder = out.path(run.paths.output_dir)
            save(folder, model)
            for language, tokenizer in tokenizers.items():  # the run translates without the prepared data
                tokenizer.save_pretrained(folder / "tokenizers" / language)
            write_metrics(out, run.paths.metrics_file, metrics)
            curve.to_csv(out.path(run.paths.curve_file), index=False, float_format="%.6g")

        run.log_summary(metrics, skip=CURVE_COLUMNS)  # at step 0, the per-epoch keys left out
        run.tracker.set_tags({"bleu_signature": scores["bleu_signature"], "chrf_signature": scores["chrf_signature"]})
        run.log_figure(loss_curves({name: curve}, f"{name}: loss per epoch"), "figures/loss_curve.png")
        run.tracker.log_table(samples.head(config.samples), "tables/sample_translations.json")
        run.tracker.log_table(samples, "tables/test_translations.json")

    print(
        f"{name}: kept epoch {kept.epoch}/{len(result.history)} by {recipe.select_by} (val chrF {kept.extra['val_chrf']:.2f}, "
        f"lowest val loss {result.best_val_loss:.4f} at epoch {result.best_epoch}); "
        f"test BLEU {metrics['bleu']:.2f} chrF {metrics['chrf']:.2f} on {len(references)} sentences "
        f"(copy baseline {metrics['copy_bleu']:.2f} / {metrics['copy_chrf']:.2f}); "
        f"{metrics['seconds_per_epoch']:.2f}s per epoch, whole stage {time.perf_counter() - started:.1f}s after imports",
        file=sys.stderr,
    )
