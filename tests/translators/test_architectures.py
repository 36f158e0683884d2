"""The translator architectures: greedy decoding, sentence translation, word accuracy, checkpoints."""

from __future__ import annotations

import json
import random

import pytest
import torch

from pipeline.core.errors import PipelineError
from pipeline.datasets.piglatin.data import ALPHABET, vocabulary
from pipeline.translators.architectures import (
    ARCHITECTURES,
    DECODER_ONLY,
    ENCODER_DECODER,
    architecture_of,
    load_model,
    save_model,
    translate_sentence,
    word_accuracy,
)
from pipeline.translators.encoder_decoder import greedy_translate_words
from pipeline.translators.models.transformer import DecoderOnlyTransformer, Seq2SeqTransformer, TransformerConfig
from pipeline.translators.pairs import Pair
from pipeline.translators.vocab import Vocabulary

CPU = torch.device("cpu")
VOCAB = vocabulary()
CHARACTERS = set(ALPHABET)


def _model(seed: int = 0, hidden: int = 16, layers: int = 2) -> Seq2SeqTransformer:
    torch.manual_seed(seed)
    return Seq2SeqTransformer(TransformerConfig(vocab_size=len(VOCAB), hidden_size=hidden, num_layers=layers))


def _naive_greedy(model: Seq2SeqTransformer, word: str, max_len: int) -> str:
    """One word, the whole model re-run at every step, stop at <EOS>."""
    source = torch.tensor([[VOCAB.index[ch] for ch in word] + [VOCAB.eos]])
    generated = [VOCAB.sos]
    chars = []
    with torch.no_grad():
        for _ in range(max_len):
            logits = model(source, torch.tensor([generated]))[0, -1]
            token = int(torch.argmax(logits))
            if token == VOCAB.eos:
                break
            generated.append(token)
            if VOCAB.tokens[token] in CHARACTERS:
                chars.append(VOCAB.tokens[token])
    return "".join(chars)


def _random_words(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz-"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(1, 9))) for _ in range(n)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_greedy_translate_matches_naive_loop(seed):
    # float64 keeps batched and one-at-a-time logits from differing on near ties.
    model = _model(seed).double().eval()
    words = _random_words(30, seed) + ["a", "a", "quiet"]
    assert len({len(w) for w in words}) > 3
    max_len = 12
    got = greedy_translate_words(model, words, VOCAB, max_len, CPU, batch_size=4)
    expected = [_naive_greedy(model, w, max_len) for w in words]
    assert got == expected
    # A random model rarely emits <EOS>: make sure the outputs are not trivially empty.
    assert sum(len(w) for w in got) > 0


def test_greedy_translate_stops_at_eos():
    # Bias the output layer so <EOS> always wins; then so that "z" always wins.
    model = _model(3).eval()
    with torch.no_grad():
        model.decoder.out.weight.zero_()
        model.decoder.out.bias.fill_(0.0)
        model.decoder.out.bias[VOCAB.eos] = 10.0
    assert greedy_translate_words(model, ["hello", "x"], VOCAB, 20, CPU) == ["", ""]
    with torch.no_grad():
        model.decoder.out.bias[VOCAB.index["z"]] = 20.0
    assert greedy_translate_words(model, ["hello"], VOCAB, 7, CPU) == ["zzzzzzz"]


def test_word_accuracy_counts_exact_matches():
    model = _model(4).double().eval()
    words = ["ab", "cde", "f"]
    predictions = greedy_translate_words(model, words, VOCAB, 10, CPU)
    pairs = [Pair(words[0], predictions[0]), Pair(words[1], predictions[1] + "x"), Pair(words[2], predictions[2])]
    accuracy, got = word_accuracy(model, pairs, VOCAB, 10, CPU)
    assert got == predictions
    assert accuracy == pytest.approx(2 / 3)


def test_translate_sentence_rejects_unknown_characters():
    model = _model()
    with pytest.raises(PipelineError) as caught:
        translate_sentence(model, "héllo world!", VOCAB, 10, CPU)
    message = str(caught.value)
    assert "'!'" in message and "'é'" in message
    assert "\n" not in message


def test_translate_sentence_lowercases_and_splits():
    model = _model(5).double().eval()
    got = translate_sentence(model, "  Air CONDITIONING  ", VOCAB, 10, CPU)
    expected = " ".join(greedy_translate_words(model, ["air", "conditioning"], VOCAB, 10, CPU))
    assert got == expected
    assert translate_sentence(model, "Air", VOCAB, 10, CPU) == _naive_greedy(model, "air", 10)


def test_architecture_is_found_from_the_model():
    assert architecture_of(_model()) is ENCODER_DECODER
    decoder_only = DecoderOnlyTransformer(TransformerConfig(vocab_size=len(VOCAB), hidden_size=8, num_layers=1))
    assert architecture_of(decoder_only) is DECODER_ONLY
    # Studies register their own (the recurrent study's, when a test has imported it).
    assert {"transformer-encoder-decoder", "transformer-decoder-only"} <= set(ARCHITECTURES)
    with pytest.raises(TypeError, match="not a translator model: Linear"):
        architecture_of(torch.nn.Linear(2, 2))


def test_save_and_load_round_trip(tmp_path):
    model = _model(6, hidden=8, layers=1).eval()
    folder = tmp_path / "run"
    save_model(folder, model, model.state_dict(), VOCAB, {"best_epoch": 3})
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors", "vocab.json"]
    loaded, vocab, config = load_model(folder)
    assert config["best_epoch"] == 3
    assert config["architecture"] == ENCODER_DECODER.name
    assert config["model"] == {"vocab_size": 30, "hidden_size": 8, "num_layers": 1, "max_positions": 256}
    assert json.loads((folder / "config.json").read_text()) == config
    assert vocab.tokens == VOCAB.tokens
    source = torch.randint(3, 30, (2, 5))
    decoder_input = torch.randint(0, 30, (2, 4))
    with torch.no_grad():
        torch.testing.assert_close(loaded(source, decoder_input), model(source, decoder_input), rtol=0, atol=0)
    assert not loaded.training


def test_save_uses_the_given_state_dict(tmp_path):
    # The saved weights are the `state_dict` argument (e.g. the best epoch), not the live model.
    model = _model(7, hidden=8, layers=1)
    best = _model(8, hidden=8, layers=1).state_dict()
    save_model(tmp_path, model, best, VOCAB, {})
    loaded, _, _ = load_model(tmp_path)
    for key, value in loaded.state_dict().items():
        assert torch.equal(value, best[key])


def test_a_model_keeps_its_own_vocabulary(tmp_path):
    # A dataset with other characters: the checkpoint carries them, nothing comes from code.
    vocab = Vocabulary("xyz")
    torch.manual_seed(0)
    model = Seq2SeqTransformer(TransformerConfig(vocab_size=len(vocab), hidden_size=8, num_layers=1))
    save_model(tmp_path, model, model.state_dict(), vocab, {})
    loaded, loaded_vocab, config = load_model(tmp_path)
    assert loaded_vocab.tokens == ["<SOS>", "<EOS>", "<EOP>", "x", "y", "z"]
    assert config["model"]["vocab_size"] == 6
    with pytest.raises(PipelineError, match=r"^translate: character\(s\) 'a' not in the vocabulary \('xyz'\)"):
        translate_sentence(loaded, "xa", loaded_vocab, 5, CPU)


def test_load_model_from_empty_folder(tmp_path):
    with pytest.raises(PipelineError) as caught:
        load_model(tmp_path)
    assert str(caught.value).startswith(f"{tmp_path}: no trained model here")


def test_load_model_needs_the_vocabulary_file(tmp_path):
    model = _model(0, hidden=8, layers=1)
    save_model(tmp_path, model, model.state_dict(), VOCAB, {})
    (tmp_path / "vocab.json").unlink()
    with pytest.raises(PipelineError, match="vocab.json"):
        load_model(tmp_path)
