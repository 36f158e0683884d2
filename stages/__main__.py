"""Run one stage of one study: `python -m stages <study> <stage> [--option value ...]`.

    python -m stages transformer train --run h32-small
    python -m stages --help            # the studies
    python -m stages bert --help       # a study's stages and their options

A study's stages are the functions in `STAGES` of `pipeline/studies/<study>/stages.py`;
their keyword-only parameters become required `--options`. Only the study named on the
command line is imported, so a stage loads (and depends on) its own study's code only.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
from pathlib import Path

from pipeline.core.errors import run_cli
from pipeline.core.params import check_top_level, read_params

STUDIES = Path(__file__).resolve().parents[1] / "pipeline" / "studies"


def study_names() -> list[str]:
    return sorted(p.parent.name for p in STUDIES.glob("*/stages.py"))


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    studies = study_names()
    top = argparse.ArgumentParser(prog="python -m stages", description=__doc__.splitlines()[0])
    top.add_argument("study", choices=studies, help="the study (a folder of pipeline/studies/)")
    top.add_argument("rest", nargs=argparse.REMAINDER, help="the stage and its options")
    args = top.parse_args(argv)
    check_top_level(read_params(), studies)  # a misspelt study key is a typo, whichever stage runs

    module = importlib.import_module(f"pipeline.studies.{args.study}.stages")
    parser = argparse.ArgumentParser(prog=f"python -m stages {args.study}", description=(module.__doc__ or "").splitlines()[0])
    commands = parser.add_subparsers(dest="stage", required=True, metavar="stage")
    for name, function in module.STAGES.items():
        command = commands.add_parser(name, help=(function.__doc__ or "").splitlines()[0], description=function.__doc__)
        for parameter in inspect.signature(function).parameters.values():
            if parameter.kind is inspect.Parameter.KEYWORD_ONLY:
                command.add_argument(f"--{parameter.name.replace('_', '-')}", dest=parameter.name, required=True)
    options = vars(parser.parse_args(args.rest))
    function = module.STAGES[options.pop("stage")]
    function(**options)


if __name__ == "__main__":
    run_cli(main)
