"""The assignment's earlier translators (2021/2022 versions): recurrent and single-block attention.

English -> Pig Latin on the Pig Latin dataset (`pipeline.datasets.piglatin`), like the
transformers, so every architecture compares: GRU and LSTM encoder-decoders (cells written
from the handout's equations), a GRU decoder with additive attention, and the 2022
notebook's single-block scaled dot-product attention model. Each entry of `recurrent.runs`
in params.yaml is one DVC stage `train_recurrent@<run>` and one MLflow run named after it
in the experiment below. The models belong to the translator family (`pipeline.translators`:
`models/cells.py`, `models/recurrent.py`, `recurrent.py` for their loss, greedy decoding and
attention maps), so other studies use them without importing this one; the table of every
translator is a comparison (`pipeline/comparisons/translators.py`).

Modules: `analysis` (word categories, written answers), `params`, `stages`, `report`,
`answers`, `benchmark` (training tokens/s per run).
"""

from __future__ import annotations

from pipeline.core import glossary
from pipeline.core.paths import Study

STUDY = Study(
    "recurrent",
    experiment="nmt-recurrent",
    description="English -> Pig Latin with the assignment's earlier translators (2021/2022): GRU and LSTM "
    "encoder-decoders with cells written from the handout's equations, a GRU decoder with additive attention "
    "and the single-block scaled dot-product attention model.",
    metrics=glossary.TRANSLATOR,
)
