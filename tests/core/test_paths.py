"""A study's stage names (`Study.stage_name`): one definition, and the names dvc.yaml gives its stages."""

from __future__ import annotations

from pathlib import Path

import yaml

from pipeline.core.paths import Study

ROOT = Path(__file__).resolve().parents[2]


def test_stage_name_is_the_prefix_then_the_entry_dvc_names_after_the_at_sign():
    study = Study("demo", experiment="unit-demo")
    assert study.stage_name("h32-small") == "train_demo@h32-small"  # a foreach entry: its key
    assert study.stage_name("lstm", "L30") == "train_demo@lstm-L30"  # a matrix entry: its values joined by "-"
    assert study.stage_name() == "train_demo"  # a single stage
    assert study.stage_name("h32-small", block="seeds") == "train_demo_seeds@h32-small"  # another block of the study
    assert Study("grid", stage_prefix="grid").stage_name("h64", "0") == "grid@h64-0"


def _stage_names() -> list[tuple[str, str]]:
    """(what the study code says, what dvc.yaml calls it), for every study whose training stages come from a block."""
    from pipeline.studies import ablations, add2digits, bert, decoder_only, gpt, isoflop, recurrent, transformer, turkish

    return [
        (recurrent.STUDY.stage_name("gru-small"), "train_recurrent@gru-small"),
        (transformer.STUDY.stage_name("h32-small"), "train_transformer@h32-small"),
        (transformer.STUDY.stage_name("h32-small", block="seeds"), "train_transformer_seeds@h32-small"),
        (decoder_only.STAGE, "train_decoder_only"),
        (turkish.STUDY.stage_name("lstm"), "train_turkish@lstm"),
        (add2digits.STUDY.stage_name("lstm", "L30"), "train_add2digits@lstm-L30"),
        (bert.STUDY.stage_name("finetune"), "train_bert@finetune"),
        (gpt.STUDY.stage_name("finetune"), "train_gpt@finetune"),
        # The two whose run names are not their matrix entries: the run name is parsed.
        (isoflop.stage_name("h64-s0"), "isoflop@h64-0"),
        (ablations.stage_name(ablations.positions_run("sinusoidal", 0)), "train_ablations_positions@sinusoidal-0"),
        (ablations.stage_name(ablations.unmasked_run(1)), "train_ablations_unmasked@1"),
        (ablations.stage_name(ablations.attention_run("dot", 2)), "train_ablations_attention@dot-2"),
        (ablations.stage_name(ablations.LENGTH_RUN), "evaluate_ablations"),
    ]


def test_every_study_names_its_stages_as_dvc_yaml_does():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    for name, expected in _stage_names():
        assert name == expected
        block, at, _ = name.partition("@")
        assert block in stages, f"dvc.yaml has no stage {block!r}"
        assert bool(at) == ("foreach" in stages[block] or "matrix" in stages[block]), block  # an entry only of a block


def test_a_matrix_entry_joins_the_values_in_the_order_dvc_yaml_lists_the_axes():
    """DVC names a matrix entry `<block>@<value>-<value>` in the order of the matrix's axes: (cell, length), (model, seed)."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    assert list(stages["train_add2digits"]["matrix"]) == ["cell", "length"]
    assert list(stages["isoflop"]["matrix"]) == ["model", "seed"]
