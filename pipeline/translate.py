"""Translate text to Pig Latin with a trained run.

    python -m pipeline.translate --run h64-large "i went shopping"
    python -m pipeline.translate --study decoder_only --run h128-small "i went shopping"
    python -m pipeline.translate --study isoflop --run h64 "i went shopping"

Reads the weights DVC produced in outputs/<study>/<run>/ (run `dvc repro` or `dvc pull` first).
"""

from __future__ import annotations

import argparse

from pipeline.errors import PipelineError, run_cli
from pipeline.models.limits import MAX_POSITIONS
from pipeline.paths import TRANSLATOR_STUDIES, project_root, run_output_dir
from pipeline.vocab import VOCAB


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pipeline.translate", description="Translate English to Pig Latin.")
    parser.add_argument("--study", choices=TRANSLATOR_STUDIES, default="nmt",
                        help="nmt (encoder-decoder, default), decoder_only, or isoflop (a grid member)")
    parser.add_argument("--run", required=True, help="trained run name, e.g. h64-large, h128-small or h64")
    parser.add_argument(
        "--max-len", type=_decode_length, default=20, help=f"longest translation per word, 1-{MAX_POSITIONS - 1} characters"
    )
    parser.add_argument("text", nargs="+", help="English text: letters, '-' and spaces")
    args = parser.parse_args(argv)
    text = " ".join(args.text).strip().lower()
    if not text:
        raise PipelineError("translate: empty text")
    VOCAB.check_text(text, "translate")  # before loading torch: bad input fails fast

    from pipeline.nmt import load_model, translate_sentence
    from pipeline.runtime import select_device

    folder = project_root() / run_output_dir(args.study, args.run)
    if not folder.is_dir():
        known = sorted(p.name for p in folder.parent.glob("*") if p.is_dir()) if folder.parent.is_dir() else []
        raise PipelineError(f"--run {args.run}: no trained model at {folder} (trained runs: {', '.join(known) or 'none'})")
    device = select_device("auto")
    model, _ = load_model(folder, device)
    print(translate_sentence(model, text, VOCAB, args.max_len, device))


def _decode_length(text: str) -> int:
    value = int(text)
    if not 0 < value < MAX_POSITIONS:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_POSITIONS - 1}, got {value}")
    return value


if __name__ == "__main__":
    run_cli(main)
