"""Ablations: the length split, the three experiments' runs and the length-generalisation test."""

from __future__ import annotations

import sys
from collections.abc import Callable

from pipeline.core.errors import PipelineError, stop_on_sigterm
from pipeline.core.params import require_known, section_checks
from pipeline.core.paths import project_root
from pipeline.studies.ablations import (
    LONG_WORDS,
    PREPARED,
    STATISTICS,
    STUDY,
    attention_run,
    params,
    positions_run,
    stage_name,
    unmasked_run,
)


def prepare() -> None:
    """Stage prepare_ablations: data/prepared/ablations/ (short words to train on, long.txt to test) and its statistics."""
    setup = params.load()
    config = setup.config
    root = project_root()
    dataset = config.transformer.dataset
    source = setup.data.prepared(root, dataset)
    source.check()

    from pipeline.core.io import staged_outputs, write_json
    from pipeline.studies.ablations.data import split_by_length, statistics
    from pipeline.translators.pairs import read_pairs, write_pairs
    from pipeline.translators.vocab import VOCAB_FILE, Vocabulary

    train, val, long = split_by_length(
        read_pairs(source.folder / "train.txt"), read_pairs(source.folder / "val.txt"), config.train_max_length
    )
    for what, pairs in (("training", train), ("validation", val), ("longer", long)):
        if not pairs:
            raise PipelineError(
                f"params.yaml: {STUDY.name}.train_max_length: leaves no {what} pair of data set {dataset!r}, got {config.train_max_length}"
            )
    with staged_outputs(root, clear=[root / PREPARED, root / STATISTICS]) as out:
        write_pairs(out.path(PREPARED / "train.txt"), train)
        write_pairs(out.path(PREPARED / "val.txt"), val)
        write_pairs(out.path(PREPARED / LONG_WORDS), long)
        Vocabulary.load(source.folder / VOCAB_FILE).save(out.path(PREPARED / VOCAB_FILE))
        write_json(out.path(STATISTICS), statistics(train, val, long))
    print(
        f"{dataset}: {len(train)} train / {len(val)} val words of <= {config.train_max_length} characters, {len(long)} longer",
        file=sys.stderr,
    )


def positions(*, encoding: str, replicate: str) -> None:
    """Stage train_ablations_positions@<encoding>-<replicate>: the transformer with one positional encoding."""
    setup = params.load()
    with section_checks():
        require_known(f"{STUDY.name}.positions.encodings", encoding, setup.config.positions.encodings, "encoding")
    number = _replicate(setup, replicate)
    name = positions_run(encoding, number)  # with the settings evaluate_ablations rebuilds it from
    _train_transformer(setup, name, setup.config.position_runs()[name], number, positions)


def unmasked(*, replicate: str) -> None:
    """Stage train_ablations_unmasked@<replicate>: the transformer whose decoder self-attention has no causal mask."""
    setup = params.load()
    number = _replicate(setup, replicate)
    run = setup.config.transformer.model_copy(update={"causal_decoder": False})
    _train_transformer(setup, unmasked_run(number), run, number, unmasked)


def _replicate(setup: params.Setup, replicate: str) -> int:
    """The seed offset a stage's `replicate` argument names: one of ablations.replicates, as written there."""
    with section_checks():  # compared as text: "-1", "x" or "01" name no replicate
        require_known(f"{STUDY.name}.replicates", replicate, [str(number) for number in setup.config.replicates], "replicate")
    return int(replicate)


def _train_transformer(setup: params.Setup, name: str, run, replicate: int, stage_function: Callable) -> None:
    data = setup.short_words(project_root())
    data.check()

    from pipeline.studies.ablations.architectures import TRANSFORMER_VARIANT

    _train(setup, stage_function, name, run, replicate, data, TRANSFORMER_VARIANT)


def attention(*, kind: str, replicate: str) -> None:
    """Stage train_ablations_attention@<kind>-<replicate>: the GRU encoder-decoder with additive or scaled-dot attention."""
    setup = params.load()
    config = setup.config.attention
    with section_checks():
        require_known(f"{STUDY.name}.attention.kinds", kind, config.kinds, "kind")
    number = _replicate(setup, replicate)
    run = config.run.model_copy(update={"attention": kind})
    data = setup.data.prepared(project_root(), run.dataset)
    data.check()

    from pipeline.studies.ablations.dot_attention import BY_ATTENTION

    _train(setup, attention, attention_run(kind, number), run, number, data, BY_ATTENTION[kind])


def _train(setup: params.Setup, stage_function: Callable, name: str, run, replicate: int, data, architecture) -> None:
    """Train run `name` of the stage that runs `stage_function`, seed `seed + replicate`, on checked `data`."""
    from pipeline.translators.train import train_stage

    train_stage(stage_function, setup, STUDY, stage_name(name), name, run, architecture, data, seed_offset=replicate)


def evaluate() -> None:
    """Stage evaluate_ablations: length generalisation of every positional-encoding run."""
    setup = params.load()
    from pipeline.studies.ablations.evaluation import run_length_evaluation

    stop_on_sigterm()
    run_length_evaluation(setup, project_root())


STAGES = {"prepare": prepare, "positions": positions, "unmasked": unmasked, "attention": attention, "evaluate": evaluate}
