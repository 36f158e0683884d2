"""The decoder-only translator (assignment part 2), with the reference settings.

`<SOS> word <EOP> translation` as one causal sequence, the loss on the translation and
`<EOS>` only (`pipeline/translation/decoder_only.py`); training FLOPs are counted per
batch like the IsoFLOP grid's. Stage `train_decoder_only`, one MLflow run named
`h<hidden>-<dataset>` in the experiment below.
"""

from __future__ import annotations

from pipeline.core.paths import Study

STUDY = Study("decoder_only", experiment="nmt-decoder-only")
STAGE = "train_decoder_only"
