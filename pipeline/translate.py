"""Translate English text to Pig Latin with any trained translator run.

    python -m pipeline.translate --run h64-large "i went shopping"
    python -m pipeline.translate --study decoder_only --run h128-small "i went shopping"
    python -m pipeline.translate --study isoflop --run h64 "i went shopping"
    python -m pipeline.translate --study recurrent --run additive-attention "i went shopping"

Reads the weights and vocabulary DVC produced in outputs/<study>/<run>/ (a fresh clone has
none: run `dvc repro` or `dvc pull` first; the error names the stage to run).
"""

from __future__ import annotations

import argparse
import contextlib

from pipeline.comparisons.translator_runs import TRANSLATOR_STUDIES as REGISTRY
from pipeline.core.errors import PipelineError, run_cli
from pipeline.core.paths import RunPaths, project_root
from pipeline.translators.models.limits import MAX_POSITIONS

# The studies whose runs are translators (a folder of outputs/ each): the comparisons' registry.
TRANSLATOR_STUDIES = tuple(entry.study.name for entry in REGISTRY)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pipeline.translate", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--study",
        choices=TRANSLATOR_STUDIES,
        default="transformer",
        help="the study whose run translates: " + "; ".join(f"{e.study.name} ({e.study.description.split(':')[0]})" for e in REGISTRY),
    )
    parser.add_argument("--run", required=True, help="trained run name, e.g. h64-large, h128-small or h64")
    parser.add_argument(
        "--max-len", type=_decode_length, default=20, help=f"longest translation per word, 1-{MAX_POSITIONS - 1} characters"
    )
    parser.add_argument("text", nargs="+", help="English text: letters, '-' and spaces")
    args = parser.parse_args(argv)
    text = " ".join(args.text).strip().lower()
    if not text:
        raise PipelineError("translate: empty text")
    root = project_root()
    folder = root / RunPaths(args.study, args.run).output_dir
    from pipeline.translators.vocab import VOCAB_FILE, Vocabulary

    if not (folder / VOCAB_FILE).exists():
        raise PipelineError(_not_trained(root, args.study, args.run))
    Vocabulary.load(folder / VOCAB_FILE).check_text(text, "translate")  # before loading torch: bad input fails fast

    from pipeline.core.runtime import select_device
    from pipeline.translators.architectures import load_model, translate_sentence

    device = select_device("auto")
    model, vocab, _ = load_model(folder, device)
    print(translate_sentence(model, text, vocab, args.max_len, device))


def _not_trained(root, study: str, run: str) -> str:
    """Why there is no model to load: a run the pipeline does not define, or one not trained (or pulled) yet."""
    from dvc.repo import Repo

    from pipeline.translators.vocab import VOCAB_FILE

    with contextlib.chdir(root), Repo(str(root)) as repo:  # stage names relative to the project root
        producers = {str(out.fs_path).removeprefix(str(root) + "/"): stage.addressing for stage in repo.index.stages for out in stage.outs}
    study_folder = RunPaths(study, run).output_dir.parent
    if str(study_folder) in producers:  # one stage writes the whole folder, its run named in params.yaml
        trained = sorted(p.name for p in (root / study_folder).glob("*/") if (p / VOCAB_FILE).exists())
        if trained:
            return f"--run {run}: {study} has no such trained run (trained: {', '.join(trained)})"
        return f"--run {run}: not trained in this checkout yet: run `dvc repro {producers[str(study_folder)]}` (or `dvc pull`)"
    prefix = f"{study_folder}/"
    runs = {
        path.removeprefix(prefix): stage
        for path, stage in producers.items()
        if path.startswith(prefix) and "/" not in path.removeprefix(prefix)
    }
    if run not in runs:
        return f"--run {run}: {study} has no such run in dvc.yaml/params.yaml (runs: {', '.join(sorted(runs)) or 'none'})"
    return f"--run {run}: not trained in this checkout yet: run `dvc repro {runs[run]}` (or `dvc pull` from a remote that has it)"


def _decode_length(text: str) -> int:
    value = int(text)
    if not 0 < value < MAX_POSITIONS:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_POSITIONS - 1}, got {value}")
    return value


if __name__ == "__main__":
    run_cli(main)
