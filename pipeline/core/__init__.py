"""The study-agnostic core every study builds on; it imports nothing outside itself.

- `params`: the schema base and the loader of `params.yaml` sections
- `paths`: the project root, the user's workspace, `Study` (a study's names), `RunPaths(study, run)`
- `io`: atomic writes, staged outputs (all of a stage's files appear together), metrics files
  written apart from their timings (`write_metrics`), input checks
- `runtime`: device, seeding, SIGTERM handling
- `training`: the one training loop (`fit`) with exact resume
- `callbacks`: the loop's hooks and the one MLflow epoch logger
- `tracking`: the MLflow store, `RunTracker`, the tags every run carries
- `lineage`: output hashes, run lookup, import closures and code fingerprints
- `tracked_run`: `TrackedRun`, the skeleton every tracked stage shares
- `figures`: matplotlib set-up and the per-run loss curve
- `errors`: one-line user errors
"""
