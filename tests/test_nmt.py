"""Greedy decoding, sentence translation, checkpoints and the vocabulary."""

from __future__ import annotations

import json
import random

import pytest
import torch

from pipeline.data.piglatin import Pair
from pipeline.errors import PipelineError
from pipeline.models.transformer import Seq2SeqTransformer, TransformerConfig
from pipeline.nmt import greedy_translate_words, load_model, save_model, translate_sentence, word_accuracy
from pipeline.vocab import CHARACTERS, VOCAB, Vocabulary

CPU = torch.device("cpu")


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


def test_save_and_load_round_trip(tmp_path):
    model = _model(6, hidden=8, layers=1).eval()
    folder = tmp_path / "run"
    save_model(folder, model, model.state_dict(), {"best_epoch": 3})
    loaded, config = load_model(folder)
    assert config["best_epoch"] == 3
    assert config["model"] == {"vocab_size": 30, "hidden_size": 8, "num_layers": 1, "max_positions": 256}
    assert json.loads((folder / "config.json").read_text()) == config
    source = torch.randint(3, 30, (2, 5))
    decoder_input = torch.randint(0, 30, (2, 4))
    with torch.no_grad():
        torch.testing.assert_close(loaded(source, decoder_input), model(source, decoder_input), rtol=0, atol=0)
    assert not loaded.training


def test_save_uses_the_given_state_dict(tmp_path):
    # The saved weights are the `state_dict` argument (e.g. the best epoch), not the live model.
    model = _model(7, hidden=8, layers=1)
    best = _model(8, hidden=8, layers=1).state_dict()
    save_model(tmp_path, model, best, {})
    loaded, _ = load_model(tmp_path)
    for key, value in loaded.state_dict().items():
        assert torch.equal(value, best[key])


def test_load_model_from_empty_folder(tmp_path):
    with pytest.raises(PipelineError) as caught:
        load_model(tmp_path)
    assert str(caught.value).startswith(f"{tmp_path}: ")


def test_vocabulary_layout():
    assert len(VOCAB) == 30
    assert (VOCAB.sos, VOCAB.eos, VOCAB.eop) == (0, 1, 2)
    assert VOCAB.tokens[3:] == list("-abcdefghijklmnopqrstuvwxyz")
    assert len(Vocabulary()) == 30


def test_vocabulary_round_trip_and_eos():
    word = "bond-street"
    ids = VOCAB.encode(word)
    assert ids == [VOCAB.tokens.index(ch) for ch in word]
    assert VOCAB.decode(ids) == word
    assert VOCAB.decode(ids + [VOCAB.eos] + VOCAB.encode("junk")) == word
    assert VOCAB.decode([VOCAB.sos] + ids + [VOCAB.eop]) == word  # other specials dropped
    assert VOCAB.decode([VOCAB.eos] + ids) == ""


def test_vocabulary_unknown_characters():
    assert VOCAB.unknown_characters("ok fine-ish") == []
    assert VOCAB.unknown_characters("Hi there 2!") == ["!", "2", "H"]
    with pytest.raises(PipelineError, match=r"^where: character\(s\) '!', '2', 'H' not in the vocabulary"):
        VOCAB.check_text("Hi there 2!", "where")
