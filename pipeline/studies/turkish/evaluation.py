"""Corpus BLEU and chrF with sacrebleu (the standard implementation and signature).

Hypotheses are detokenized model outputs; references the original English test
sentences (one per pair). The copy-the-source baseline scores the Turkish sentences
themselves as translations: what a model that learned nothing but copying would get
(names, numbers and punctuation match).
"""

from __future__ import annotations


def corpus_scores(hypotheses: list[str], references: list[str]) -> dict[str, float | str]:
    """BLEU and chrF (0-100) of `hypotheses` against one reference each, with sacrebleu's signatures."""
    from sacrebleu.metrics import BLEU, CHRF

    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
    bleu, chrf = BLEU(), CHRF()
    return {
        "bleu": bleu.corpus_score(hypotheses, [references]).score,
        "chrf": chrf.corpus_score(hypotheses, [references]).score,
        "bleu_signature": str(bleu.get_signature()),
        "chrf_signature": str(chrf.get_signature()),
    }
