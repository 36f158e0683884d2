"""The decoder-only translator (assignment part 2), with the reference settings.

`<SOS> word <EOP> translation` as one causal sequence, the loss on the translation and
`<EOS>` only (`pipeline/translators/single_sequence.py`); training FLOPs are counted per
batch like the IsoFLOP grid's. Stage `train_decoder_only`, one MLflow run named
`decoder-only h<hidden>-<dataset>` in the experiment below (the prefix tells it from a
transformer run of the same size and data).
"""

from __future__ import annotations

from pipeline.core import glossary
from pipeline.core.paths import Study

STUDY = Study(
    "decoder_only",
    experiment="nmt-decoder-only",
    description="English -> Pig Latin with a decoder-only transformer (assignment part 2): `<SOS> word <EOP> translation` "
    "as one causal sequence, the loss on the translation only, training FLOPs counted per batch like the IsoFLOP grid's.",
    metrics=glossary.TRANSLATOR | glossary.FLOP_COUNTED,
    run_prefix="decoder-only",
)
STAGE = STUDY.stage_name()  # train_decoder_only: one stage, no foreach
