"""Reproducible experiments on attention models.

`core/` is the study-agnostic base (params, paths, training loop, tracking, lineage);
`translators/` the machinery every translator shares; `studies/<study>/` one folder
per study (params schema, stage functions, report section, own modules);
`reporting.py` and `report.py` build `reports/report.md` from MLflow.
"""
