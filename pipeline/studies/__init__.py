"""One package per study: its params schema, stages, report section and own modules.

A study's package itself (its `__init__.py`: the `Study` and the names its modules share)
imports no heavy library (torch, transformers, mlflow, pandas, ...): the report imports every
study's package, and a stage imports its own study's first, then pays only for what its own
function imports (tests/studies/test_packages.py checks it).
"""
