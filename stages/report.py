"""DVC stage `report`: build reports/report.md, tables and figures from MLflow."""

from __future__ import annotations

from pipeline.errors import run_cli
from pipeline.params import load_params
from pipeline.paths import project_root


def main() -> None:
    params = load_params()
    from pipeline.report import write_report

    write_report(params, project_root())


if __name__ == "__main__":
    run_cli(main)
