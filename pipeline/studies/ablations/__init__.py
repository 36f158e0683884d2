"""Ablations that answer the handouts' conceptual transformer questions with runs of their own.

Small runs of the shared translator loop (`pipeline.translators.train.train_translator`), each
repeated with seeds `seed + replicate` (`ablations.replicates`) so that every comparison
has a measured run-to-run spread:

1. Positional encoding (A25-2.1.3, A22-P2.2.4, A21-P3.3): the encoder-decoder transformer
   with no positional encoding, sinusoidal (the assignment's), learned and one-hot positions
   (`TransformerConfig.positional_encoding`). Every transformer ablation trains on the
   small set's words of at most `train_max_length` characters (stage `prepare_ablations`);
   stage `evaluate_ablations` then scores each trained model on the longer words it never
   saw: length generalisation, by length bucket.
2. Unmasked decoder (A22-P2.2.7, A21-P3.6): the same transformer with a non-causal decoder
   self-attention (`TransformerConfig.causal_decoder=False`); its causal twin is the
   sinusoidal run of experiment 1 with the same replicate (same data, seed and settings).
3. Additive vs scaled dot-product attention (A22-P2.2.8, A21-P3.7): the recurrent study's
   GRU encoder-decoder with additive attention, and the same model with the score replaced
   by a scaled dot product (`StepDotAttention`), like for like.

Stages: `prepare_ablations`, `train_ablations_positions@<encoding>-<replicate>`,
`train_ablations_unmasked@<replicate>`, `train_ablations_attention@<attention>-<replicate>`,
`evaluate_ablations`; each run is one MLflow run named like its files in the experiment below.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.core import glossary
from pipeline.core.paths import Study

STUDY = Study(
    "ablations",
    experiment="ablations",
    description="Small ablations of the character-level translators that answer the handouts' conceptual questions: "
    "positional encoding (none, sinusoidal, learned, one-hot; trained on short words, tested on longer ones), a "
    "decoder without its causal mask, and additive against scaled dot-product attention in a GRU encoder-decoder. "
    "Runs are named `<experiment>-<variant>-<replicate>`; replicate r trains with seed `seed + r`.",
    metrics=glossary.TRANSLATOR
    | {
        "*.words.*": "run `length-generalisation`, `<run>.words.<bucket>`: words of that source-length bucket scored "
        "(`longer`: every length above the trained ones)",
        "*.unrepresentable.*": "run `length-generalisation`: words of the bucket needing more positions than the model "
        "has (a one-hot code has one per hidden dimension), scored wrong",
        "*.word_accuracy.*": "run `length-generalisation`, `<run>.word_accuracy.<bucket>`: share of the bucket's words "
        "translated exactly (greedy decoding) by the trained model `<run>`",
        "*.loss.*": "run `length-generalisation`, `<run>.loss.<bucket>`: teacher-forced cross-entropy per target "
        "character of `<run>` on the bucket's words",
        # The columns of plots/ablations/length-generalisation.csv (its table `tables/scores_by_length.json`).
        "run": "length table: the positional-encoding run scored",
        "encoding": "length table: that run's positional encoding",
        "source_length": "length table: characters of the source words in the row",
        "words": "length table: words of that length scored",
        "unrepresentable": "length table: of them, words the model has too few positions for",
        "correct": "length table: of them, words translated exactly",
        "word_accuracy": "length table: correct / words",
        "loss_sum": "length table: summed teacher-forced cross-entropy over their target characters",
        "characters": "length table: target characters (with `<EOS>`) that loss_sum sums over",
        "loss": "length table: loss_sum / characters",
    },
)

PREPARE_STAGE = "prepare_ablations"
PREPARED = Path("data/prepared/ablations")  # train.txt, val.txt, vocab.json (short words) and long.txt
LONG_WORDS = "long.txt"  # every pair of the dataset longer than train_max_length, never trained on
STATISTICS = Path("metrics/data/ablations.json")
LENGTH_RUN = "length-generalisation"  # the evaluation's MLflow run and files
EVALUATE_STAGE = "evaluate_ablations"


def positions_run(encoding: str, replicate: int) -> str:
    return f"positions-{encoding}-{replicate}"


def unmasked_run(replicate: int) -> str:
    return f"unmasked-{replicate}"


def attention_run(attention: str, replicate: int) -> str:
    return f"attention-{attention}-{replicate}"


def stage_name(run: str) -> str:
    """The DVC stage of a run: the matrix stages are named after the experiment, the item after the rest."""
    if run == LENGTH_RUN:
        return EVALUATE_STAGE
    experiment, item = run.split("-", 1)
    return STUDY.stage_name(item, block=experiment)
