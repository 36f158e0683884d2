"""Comparisons across studies: the layer above the studies.

A study's report section shows its own runs and imports no sibling study. What compares
several studies lives here: each module reads the studies' runs through their params and
report helpers (the same `ReportContext` reads, so nothing is fetched twice) and renders a
report section listed after the studies' sections in `pipeline/report.py`.

- `translators`: the section of every translator side by side, and the decoder-only against
  the encoder-decoder at matched training compute and parameter count; `translator_runs`
  reads their runs (and holds the registry of translator studies, also the list of
  `python -m pipeline.translate --study`); `compute`: training FLOPs of finished runs;
  `translator_answers`: the answer sheet's entries that rest on those comparisons.
- `classifiers`: the GPT-style classifier against BERT, at the same recipe and tuned for each,
  and the answers resting on both studies' classifier runs.
"""
