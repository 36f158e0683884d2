"""The datasets layer: data every study of a family trains on, below the studies.

A translator study imports `pipeline.datasets.piglatin` (its prepared pairs, vocabulary
and evaluation settings), a classifier study `pipeline.datasets.arithmetic`; neither
imports the study that prepares the data (`pipeline/studies/piglatin`, `.../arithmetic`:
the stage and its report section), so studies stay leaves.
"""
