"""DVC stage `fit_scaling`: IsoFLOP profiles and compute-optimal scaling laws.

    python -m stages.fit_scaling
"""

from __future__ import annotations

from pipeline.errors import run_cli
from pipeline.params import load_params
from pipeline.paths import project_root


def main() -> None:
    params = load_params()
    from pipeline.scaling_study import run_fit_scaling

    run_fit_scaling(params, project_root())


if __name__ == "__main__":
    run_cli(main)
