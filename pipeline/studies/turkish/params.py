"""The `turkish` section of params.yaml: data source, split, tokenizers, the recipe and the runs.

`source` picks an entry of `sources` (like bert's checkpoint sets): `offline` reads the
shipped Tatoeba pairs and trains WordPiece tokenizers on the training split; `reference`
is the homework's set-up (`wmt16` tr-en through the `datasets` package and the hub
tokenizers `dbmdz/bert-base-turkish-cased` / `bert-base-cased`). Each entry of `runs`
is one DVC stage `train_turkish@<run>`: the shared `recipe` with the run's own changes.
`benchmark` sets up stage `benchmark_turkish`: training and decoding time per batch of
trained runs against the sequence length.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from pipeline.core.params import PARAMS_FILE, Float, PositiveFloat, PositiveInt, Schema, Seed, Slug, StudySetup, load_study, require_known
from pipeline.studies.turkish import STUDY

WORDPIECE = "wordpiece"  # a tokenizer param meaning: train one on the training split
BENCHMARK_RUN = "benchmark"  # the benchmark's MLflow run and file names (metrics/turkish/benchmark.json): no run may take it
# The files whose hash identifies the benchmark's MLflow run (`lineage.OUTPUTS_TAG`): its results and their timings
# twin. It writes no file to plots/: its table is all wall-clock times, in the twin and in MLflow.
BENCHMARK_LINEAGE = (STUDY.paths(BENCHMARK_RUN).metrics_file, STUDY.paths(BENCHMARK_RUN).timings_file)
Architecture = Literal["rnn", "lstm", "transformer"]
Probability = Annotated[float, Field(ge=0, le=1, strict=False)]


class TurkishSource(Schema):
    data: Literal["tatoeba", "wmt16"]  # wmt16: the `tr-en` config of the hub data set, via `datasets`
    file: str | None = None  # the Tatoeba TSV (English<TAB>Turkish), relative to the project root
    # `wordpiece`, a Hugging Face hub id, or a local folder saved with `save_pretrained`.
    turkish_tokenizer: str = Field(min_length=1)
    english_tokenizer: str = Field(min_length=1)
    download: bool  # may hub tokenizers and data missing from the local caches be downloaded?

    @model_validator(mode="after")
    def _file(self) -> TurkishSource:
        if self.data == "tatoeba" and not self.file:
            raise ValueError("file: the tatoeba data needs the path of its TSV file")
        return self


class SplitParams(Schema):
    # Pairs per split; each English sentence (with all its Turkish translations) lands in one split.
    train_pairs: PositiveInt
    val_pairs: PositiveInt
    test_pairs: PositiveInt
    seed: Seed


class WordPieceParams(Schema):
    vocab_size: PositiveInt  # per language, special tokens included
    min_frequency: PositiveInt  # a merge must occur this often in the training split


class Recipe(Schema):
    cell: Architecture  # the encoder-decoder's building block: a recurrent cell, or transformer layers
    embedding_dim: PositiveInt  # a transformer's must equal hidden_size (its d_model)
    hidden_size: PositiveInt
    num_layers: PositiveInt  # recurrent layers, or transformer layers in the encoder and as many in the decoder
    dropout: Float = Field(ge=0, lt=1)  # on embeddings and between recurrent layers (a transformer: also in every layer)
    teacher_forcing: Probability  # chance, per decoder step, of feeding the true token in training
    grad_clip: PositiveFloat  # max global gradient norm
    init_range: PositiveFloat  # recurrent models: every weight ~ U(-init_range, init_range); a transformer: Xavier
    heads: PositiveInt  # transformer only: attention heads (hidden_size must divide by it)
    feedforward_size: PositiveInt  # transformer only: width of each layer's feed-forward block
    lr: PositiveFloat  # Adam
    batch_size: PositiveInt
    epochs: PositiveInt
    # What picks the kept epoch and ends training after `patience` epochs without a better value:
    # val_chrf (chrF of greedy translations of the validation split) or val_loss (the reference's
    # free-running validation loss).
    select_by: Literal["val_chrf", "val_loss"]
    patience: PositiveInt
    train_pairs: PositiveInt | None = None  # train on the first n pairs of the training split (null: all)


class RunParams(Schema):
    """A run: the recipe with some settings changed (unset: the recipe's value)."""

    cell: Architecture | None = None
    embedding_dim: PositiveInt | None = None
    hidden_size: PositiveInt | None = None
    num_layers: PositiveInt | None = None
    dropout: Float | None = Field(default=None, ge=0, lt=1)
    teacher_forcing: Probability | None = None
    grad_clip: PositiveFloat | None = None
    init_range: PositiveFloat | None = None
    heads: PositiveInt | None = None
    feedforward_size: PositiveInt | None = None
    lr: PositiveFloat | None = None
    batch_size: PositiveInt | None = None
    epochs: PositiveInt | None = None
    select_by: Literal["val_chrf", "val_loss"] | None = None
    patience: PositiveInt | None = None
    train_pairs: PositiveInt | None = None


class BenchmarkParams(Schema):
    """Time per batch of trained runs on random batches of each length (source and target alike)."""

    runs: list[Slug] = Field(min_length=1)  # entries of `runs`; dvc.yaml's benchmark_turkish lists their outputs as deps
    lengths: list[Annotated[int, Field(ge=3, le=256)]] = Field(min_length=1)  # tokens, [CLS]/[SEP] included; 256: the position table
    batches: PositiveInt  # timed batches per (run, length, mode), after one untimed warm-up batch
    threads: PositiveInt  # torch intra-op threads while timing (at most the machine's)


class TurkishPublished(Schema):
    parameters: PositiveInt  # the homework's reference model's parameter count


class TurkishParams(Schema):
    source: str  # the entry of `sources` in use
    sources: dict[str, TurkishSource] = Field(min_length=1)
    split: SplitParams
    wordpiece: WordPieceParams  # used when a tokenizer param is `wordpiece`
    max_length: Annotated[int, Field(ge=3)]  # tokens per sentence, [CLS] and [SEP] included; also the decoding limit
    recipe: Recipe
    runs: dict[Slug, RunParams] = Field(min_length=1)
    benchmark: BenchmarkParams
    samples: PositiveInt  # test sentences shown in the sample-translation table
    # The homework's reference model: its vocabulary sizes (hub tokenizers) and parameter count.
    reference_vocab_sizes: Annotated[list[PositiveInt], Field(min_length=2, max_length=2)]  # [turkish, english]
    published: TurkishPublished

    @model_validator(mode="after")
    def _consistent(self) -> TurkishParams:
        require_known("source", self.source, self.sources, "source")
        if BENCHMARK_RUN in self.runs:
            raise ValueError(f"runs.{BENCHMARK_RUN}: the name of the benchmark's own files; name the run otherwise")
        for name, run in self.runs.items():
            train_pairs = run.train_pairs or self.recipe.train_pairs
            if train_pairs is not None and train_pairs > self.split.train_pairs:
                raise ValueError(f"runs.{name}.train_pairs: at most split.train_pairs ({self.split.train_pairs}), got {train_pairs}")
            recipe = self.recipe_for(name)
            if recipe.cell == "transformer" and recipe.embedding_dim != recipe.hidden_size:
                raise ValueError(
                    f"{self._set_at(name, 'embedding_dim')}: a transformer embeds tokens at its width, so it must "
                    f"equal hidden_size ({recipe.hidden_size}), got {recipe.embedding_dim}"
                )
            if recipe.cell == "transformer" and recipe.hidden_size % recipe.heads:
                raise ValueError(f"{self._set_at(name, 'heads')}: must divide hidden_size ({recipe.hidden_size}), got {recipe.heads}")
        unknown = [run for run in self.benchmark.runs if run not in self.runs]
        if unknown:
            raise ValueError(f"benchmark.runs: {unknown[0]!r} is not an entry of runs (known: {', '.join(self.runs)})")
        return self

    def _set_at(self, run: str, key: str) -> str:
        """Where `run`'s value of `key` is set: its own entry, else the recipe."""
        return f"runs.{run}.{key}" if getattr(self.runs[run], key) is not None else f"recipe.{key}"

    @property
    def active(self) -> TurkishSource:
        return self.sources[self.source]

    def source_key(self, field: str) -> str:
        """The params.yaml key of a field of the active source (named in errors)."""
        return f"{STUDY.name}.sources.{self.source}.{field}"

    def recipe_for(self, run: str) -> Recipe:
        """The recipe with the run's own settings."""
        return self.recipe.model_copy(update=self.runs[run].model_dump(exclude_none=True))

    def changes(self, run: str) -> dict[str, object]:
        """The settings `run` sets to something else than the recipe."""
        recipe = self.recipe.model_dump()
        return {k: v for k, v in self.runs[run].model_dump(exclude_none=True).items() if recipe[k] != v}


Setup = StudySetup[TurkishParams, None]  # its data: a source of `sources`, read by the prepare stage


def load(path: str | Path = PARAMS_FILE) -> Setup:
    return load_study(STUDY.name, TurkishParams, path)
