"""Turkish -> English translation with an encoder-decoder (MLflow experiment `turkish-english`).

The sister course's homework: an RNN or LSTM encoder whose final state initialises a
decoder that emits one token per step, trained with teacher forcing on 1,000 sentence
pairs and scored with corpus BLEU and chrF (sacrebleu) on 100 held-out pairs; and, for
its question 3.2, a Transformer encoder-decoder (torch's nn.TransformerEncoder/Decoder)
trained and scored the same way.

- Stage `prepare_turkish` (`python -m stages turkish prepare`) validates the shipped
  Tatoeba pairs (or loads `wmt16` tr-en), splits them seeded into train/validation/test
  with every English sentence in one split only, trains a WordPiece tokenizer per
  language on the training split (or copies the hub tokenizers) and writes
  `data/prepared/turkish/` and the statistics `metrics/turkish/data.json`.
- Stage `train_turkish@<run>` (`python -m stages turkish train --run lstm`) trains one
  entry of `turkish.runs` on the shared loop, evaluates it on the test split (BLEU, chrF,
  a copy-the-source baseline) and writes `outputs/turkish/<run>/`,
  `metrics/turkish/<run>.json` (its wall times in `timings/turkish/<run>.json`) and the
  per-epoch curve `plots/turkish/<run>.csv`; one MLflow run each. A killed run resumes from
  its last saved epoch (`train`).
- Stage `benchmark_turkish` (`python -m stages turkish benchmark`) times a training step
  and free-running decoding of the trained runs of `turkish.benchmark.runs` on random
  batches of several lengths: MLflow run `benchmark` (the table), `metrics/turkish/benchmark.json`
  (parameter counts) and `timings/turkish/benchmark.json` (every time).
- `python -m pipeline.studies.turkish.translate --run lstm "Merhaba."` translates with a trained run.

Modules: `params` (the section's schema), `data` (reading, checking, splitting pairs),
`tokenization` (WordPiece training, hub tokenizers), `model` (the encoder-decoders),
`evaluation` (sacrebleu), `train` (one run end to end), `benchmark` (batch times),
`figures`, `stages`, `results` (the runs as the report reads them), `interfaces` (what
each model's encoder and decoder are called with), `report`, `answers` (the answer
sheet's entries), `translate`.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.core import glossary
from pipeline.core.paths import Study

STUDY = Study(
    "turkish",
    experiment="turkish-english",
    description="Turkish -> English with an RNN, LSTM or Transformer encoder-decoder, the sister course's homework: "
    "Tatoeba pairs (1,000 train / 100 validation / 100 test), WordPiece tokenizers, test BLEU and chrF (sacrebleu) "
    "beside a copy-the-source baseline; one run per entry of `turkish.runs` (architectures and ablations), and run "
    "`benchmark`: time per batch of trained runs against sentence length.",
    metrics=glossary.fit_loop("target tokens")
    | {
        "train_loss": "per epoch, with the run's teacher-forcing ratio",
        "val_loss": "per epoch, measured free running (no teacher forcing), as the reference did",
        "val_chrf": "per epoch: chrF (0-100) of the greedy translations of the validation split; `val_bleu` the same in BLEU",
        "val_bleu": "see `val_chrf`",
        "best_epoch": "the epoch kept by the selection rule `turkish.recipe.select_by` (highest `val_chrf` by default, "
        "the reference's lowest `val_loss` otherwise): `bleu`, `chrf` and `test_loss` score its weights",
        "*_at_best": "values at the kept epoch `best_epoch` (`val_chrf_at_best`, `val_loss_at_best`, ...)",
        "best_val_loss": "the lowest per-epoch `val_loss` wherever it fell (the reference's criterion); `best_val_loss_epoch` is its epoch",
        "best_val_loss_epoch": "see `best_val_loss`",
        "bleu": "test BLEU (0-100) of the kept weights' greedy translations; `chrf` the same in chrF",
        "copy_*": "the baseline: BLEU (`copy_bleu`) and chrF (`copy_chrf`) of copying the Turkish source as the translation",
        "train_bleu": "BLEU on as many training pairs as the test split has: how well the model reproduces what it trained on",
        "reference_parameters": "parameters of the same architecture at the reference's hub-tokenizer vocabulary sizes",
        "*_parameters": "run `benchmark`: parameters of the timed run named first (`lstm_parameters`)",
        "*_train_seconds_L*": "run `benchmark`: median seconds of one training step (forward, backward, Adam) of the named "
        "run on random batches of L-token sources and targets; `_min`/`_max` the spread over the timed batches",
        "*_decode_seconds_L*": "run `benchmark`: the same for free-running decoding of L-1 tokens (no gradients)",
        "*_epoch_seconds_L*": "run `benchmark`: the median training step times the batches of one training epoch",
        "seconds": "run `benchmark`'s table (`tables/benchmark.json`; flat in timings/turkish/benchmark.json), one row per `run`, "
        "`mode` (train | decode) and `length`: median seconds per batch of `batch_size` pairs; `min_seconds`/`max_seconds` "
        "the spread over the timed batches, `epoch_seconds` a training epoch, `cell` the run's architecture",
        **{column: "see `seconds`" for column in ("min_seconds", "max_seconds", "run", "cell", "mode", "batch_size")},
    },
)
PREPARE_STAGE = "prepare_turkish"
PREPARED = Path("data/prepared/turkish")  # {train,val,test}.tsv and tokenizers/{turkish,english}/
STATISTICS = Path("metrics/turkish/data.json")  # pairs, lengths, vocabulary, [UNK] and truncation rates
SPLITS = ("train", "val", "test")
LANGUAGES = ("turkish", "english")  # source, target


def split_file(split: str) -> Path:
    return PREPARED / f"{split}.tsv"


def tokenizer_dir(language: str) -> Path:
    return PREPARED / "tokenizers" / language
