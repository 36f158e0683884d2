"""Turkish -> English: prepare the pairs and tokenizers, train one encoder-decoder per run, time them.

python -m stages turkish prepare            # DVC stage prepare_turkish
python -m stages turkish train --run lstm   # DVC stage train_turkish@lstm
python -m stages turkish benchmark          # DVC stage benchmark_turkish (after the runs it times)
"""

from __future__ import annotations

import sys

from pipeline.core.errors import stop_on_sigterm
from pipeline.core.io import require_inputs, staged_outputs, write_json
from pipeline.core.params import require_known, section_checks
from pipeline.core.paths import project_root
from pipeline.studies.turkish import LANGUAGES, PREPARE_STAGE, PREPARED, SPLITS, STATISTICS, STUDY, params, split_file, tokenizer_dir
from pipeline.studies.turkish.data import (
    load_wmt16,
    read_pairs,
    require_datasets,
    shared_english,
    split_pairs,
    split_statistics,
    write_pairs,
)
from pipeline.studies.turkish.params import WORDPIECE


def prepare() -> None:
    """Stage prepare_turkish: data/prepared/turkish/ (splits, tokenizers) and metrics/turkish/data.json."""
    config = params.load().config
    source, root = config.active, project_root()
    sizes = {"train": config.split.train_pairs, "val": config.split.val_pairs, "test": config.split.test_pairs}
    specs = {"turkish": source.turkish_tokenizer, "english": source.english_tokenizer}
    from pipeline.studies.turkish import tokenization

    if source.data == "wmt16":
        require_datasets(config.source_key("data"))  # a missing package is known before any network call
    # Hub tokenizers next: one that is not cached fails before any other work.
    tokenizers = {
        language: tokenization.resolve(spec, config.source_key(f"{language}_tokenizer"), source.download, root)
        for language, spec in specs.items()
        if spec != WORDPIECE
    }
    if source.data == "tatoeba":
        pairs = read_pairs(root / source.file)
        raw = {"file": source.file, "pairs": len(pairs), "english_sentences": len({p.english for p in pairs})}
        splits = split_pairs(pairs, sizes, config.split.seed, f"{STUDY.name}.split")
    else:
        raw = {"file": "wmt16 tr-en (hub)"}
        splits = load_wmt16(sizes, source.download, config.source_key("data"))
    for language, spec in specs.items():
        if spec == WORDPIECE:
            texts = [getattr(pair, language) for pair in splits["train"]]
            tokenizers[language] = tokenization.train_wordpiece(
                texts,
                config.wordpiece.vocab_size,
                config.wordpiece.min_frequency,
                key=f"{STUDY.name}.wordpiece.vocab_size",
                what=f"the {language} training split",
            )

    statistics = {
        "source": config.source,
        "raw": raw,
        "splits": {split: split_statistics(pairs) for split, pairs in splits.items()},
        "english_sentences_in_two_splits": shared_english(splits),
        "tokenizers": {
            language: {
                "kind": specs[language],
                "vocab_size": len(tokenizer),
                **{
                    split: tokenization.token_statistics(tokenizer, [getattr(p, language) for p in pairs], config.max_length)
                    for split, pairs in splits.items()
                },
            }
            for language, tokenizer in tokenizers.items()
        },
    }
    with staged_outputs(root, clear=[root / PREPARED, root / STATISTICS]) as out:
        for split, pairs in splits.items():
            write_pairs(out.path(split_file(split)), pairs)
        for language, tokenizer in tokenizers.items():
            tokenizer.save_pretrained(str(out.path(tokenizer_dir(language))))
        write_json(out.path(STATISTICS), statistics)
    vocab = ", ".join(f"{language} {len(tokenizers[language])}" for language in LANGUAGES)
    counts = ", ".join(f"{len(splits[split])} {split}" for split in SPLITS)
    print(f"turkish: {counts} pairs; vocabularies {vocab}", file=sys.stderr)


def train(*, run: str) -> None:
    """Stage train_turkish@<run>: outputs/turkish/<run>/, metrics/turkish/<run>.json, plots/turkish/<run>.csv."""
    loaded = params.load()
    with section_checks():
        require_known(f"{STUDY.name}.runs", run, loaded.config.runs, "run")
    root = project_root()
    require_inputs(
        [root / split_file(split) for split in SPLITS] + [root / tokenizer_dir(language) for language in LANGUAGES], PREPARE_STAGE
    )
    from pipeline.studies.turkish.train import train_run  # torch, transformers, mlflow: only once the params are good

    stop_on_sigterm()
    train_run(run, loaded, root)


def benchmark() -> None:
    """Stage benchmark_turkish: metrics/turkish/benchmark.json and its timings/ twin, MLflow run `benchmark`."""
    loaded = params.load()
    root = project_root()
    for run in loaded.config.benchmark.runs:
        require_inputs([root / STUDY.paths(run).output_dir], STUDY.stage_name(run))
    from pipeline.studies.turkish.benchmark import benchmark_runs  # torch: only once the inputs are there

    stop_on_sigterm()
    benchmark_runs(loaded, root)


STAGES = {"prepare": prepare, "train": train, "benchmark": benchmark}
