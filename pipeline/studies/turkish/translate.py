"""Translate Turkish sentences with a trained run: `python -m pipeline.studies.turkish.translate --run lstm "Merhaba."`.

Prints one English translation per sentence (greedy decoding, as evaluated). Runs
offline from `outputs/turkish/<run>/`, which holds the weights and both tokenizers.
A sentence that the Turkish tokenizer maps mostly to [UNK] gets a warning on stderr
naming the characters its vocabulary lacks: the translation of such input is noise.
"""

from __future__ import annotations

import argparse
import os
import sys

from pipeline.core.errors import run_cli
from pipeline.core.params import load_section, require_known, section_checks
from pipeline.studies.turkish import LANGUAGES, STUDY
from pipeline.studies.turkish.params import TurkishParams

UNK_WARNING_SHARE = 0.5  # warn when at least this share of a sentence's pieces are [UNK]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="lstm", help="run name from turkish.runs (default: lstm)")
    parser.add_argument("sentences", nargs="+", help='Turkish text, e.g. "Tom eve gitti."')
    args = parser.parse_args(argv)

    config = load_section(STUDY.name, TurkishParams)
    with section_checks():
        require_known(f"{STUDY.name}.runs", args.run, config.runs, "run")
    folder = STUDY.trained_output_dir(args.run)

    os.environ["HF_HUB_OFFLINE"] = "1"  # everything needed is in the output folder
    from pipeline.studies.turkish import model as seq2seq
    from pipeline.studies.turkish.tokenization import encode, load, unknown_characters
    from pipeline.studies.turkish.train import translate

    tokenizers = {language: load(folder / "tokenizers" / language, f"{folder}/tokenizers/{language}") for language in LANGUAGES}
    model = seq2seq.load(folder)
    for sentence in args.sentences:
        share, missing = unknown_characters(tokenizers["turkish"], sentence)
        if share >= UNK_WARNING_SHARE:
            lacking = f"; characters not in its vocabulary: {' '.join(missing)}" if missing else ""
            print(f"warning: {sentence!r}: the Turkish tokenizer maps {share:.0%} of it to [UNK]{lacking}", file=sys.stderr)
    sources = encode(tokenizers["turkish"], args.sentences, model.config.max_length)
    for sentence, translation in zip(args.sentences, translate(model, tokenizers["english"], sources, model.config.pad_id)):
        print(f"{sentence} -> {translation}")


if __name__ == "__main__":
    run_cli(main)
