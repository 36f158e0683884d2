"""Homework 3.2c's table: what each model's encoder and decoder are called with, checked against sizes chosen
so that every dimension differs (B 3, S 7, T 5, E 10, H 6, L 2, transformer width D 8, V 30/25)."""

from __future__ import annotations

import pytest

from pipeline.studies.turkish.interfaces import call_table
from pipeline.studies.turkish.model import Seq2SeqConfig, build

SIZES = {"B": 3, "S": 7, "T-1": 4, "H": 6, "L": 2, "D": 8}


def _table(cell: str) -> dict:
    width = 8 if cell == "transformer" else 6
    config = Seq2SeqConfig(
        cell,
        source_vocab=30,
        target_vocab=25,
        embedding_dim=width if cell == "transformer" else 10,
        hidden_size=width,
        num_layers=2,
        dropout=0.0,
        heads=2,
        feedforward_size=12,
    )
    table = call_table(build(config), source_length=7, target_length=5, batch_size=3)
    return {(row["call"], row["argument"]): row for row in table.to_dict("records")}


def _numbers(symbols: str) -> str:
    """`(B, S, D)` -> `(3, 7, 8)`; `(B,)` -> `(3,)`."""
    names = [name for name in symbols.strip("()").split(", ") if name]
    return "(" + ", ".join(str(SIZES[name.rstrip(",")]) for name in names) + ("," if symbols.endswith(",)") else "") + ")"


@pytest.mark.parametrize("cell", ["lstm", "transformer"])
def test_every_measured_shape_matches_its_symbols(cell):
    checked = 0
    for key, row in _table(cell).items():
        if row["as"].startswith("("):
            assert row["shape"] == _numbers(row["as"]), key
            checked += 1
    assert checked >= 3


def test_the_lstm_passes_ids_to_its_encoder_and_one_token_and_state_per_step_to_its_decoder():
    rows = _table("lstm")
    assert rows[("self.encoder", "source")]["shape"] == "(3, 7)" and rows[("self.encoder", "lengths")]["shape"] == "(3,)"
    assert rows[("self.encoder", "returns")]["shape"] == "(2, 3, 6), (2, 3, 6)"  # (h, c), each (L, B, H)
    assert rows[("self.decoder", "token")]["shape"] == "(3,)" and rows[("self.decoder", "state")]["shape"] == "(2, 3, 6), (2, 3, 6)"
    assert rows[("self.decoder", "token")]["calls per batch"] == 4  # one call per target step
    assert rows[("self.decoder", "returns")]["shape"] == "(3, 25), (2, 3, 6), (2, 3, 6)"


def test_the_transformer_passes_whole_sequences_and_masks():
    rows = _table("transformer")
    assert {argument for call, argument in rows if call == "self.decoder"} == {
        "tgt",
        "memory",
        "tgt_mask",
        "tgt_is_causal",
        "memory_key_padding_mask",
        "returns",
    }
    assert rows[("self.encoder", "src_key_padding_mask")]["shape"] == "(3, 7)"
    assert rows[("self.decoder", "tgt_mask")]["shape"] == "(4, 4)" and rows[("self.decoder", "tgt_is_causal")]["shape"] == "True"
    assert rows[("self.decoder", "memory")]["shape"] == rows[("self.encoder", "returns")]["shape"] == "(3, 7, 8)"
    assert rows[("self.decoder", "returns")]["shape"] == "(3, 4, 8)" and rows[("self.decoder", "tgt")]["calls per batch"] == 1
