"""WordPiece tokenizers: round trip, truncation, save/reload with the HF Auto classes, the hub path on a local folder."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from pipeline.core.errors import PipelineError
from pipeline.studies.turkish import tokenization

TURKISH = [
    "Tom eve gitti.",
    "Ben kediyi seviyorum.",
    "Bu kitap çok güzel.",
    "Şimdi gidiyorum.",
    "Öğretmen burada mı?",
    "Tom'u arar mısın?",
    "Onu bulabilir misin?",
    "Kapıyı açtım.",
    "Işık yanıyor.",
    "Çocuklar uyuyor.",
] * 3


@pytest.fixture(scope="module")
def tokenizer():
    return tokenization.train_wordpiece(TURKISH, vocab_size=120, min_frequency=1)


def test_round_trip_of_training_sentences(tokenizer):
    ids = tokenization.encode(tokenizer, TURKISH[:10], max_length=64)
    for sentence, row in zip(TURKISH, ids):
        assert row[0] == tokenizer.cls_token_id and row[-1] == tokenizer.sep_token_id
        assert tokenizer.unk_token_id not in row
        text = tokenizer.decode(row, skip_special_tokens=True)
        assert text.replace(" ", "") == sentence.replace(" ", "")  # BERT-style decoding puts spaces around punctuation
        assert text.split()[0] == sentence.split()[0].split("'")[0].rstrip(".?")


def test_vocabulary_size_and_special_tokens(tokenizer):
    assert len(tokenizer) <= 120
    assert [tokenizer.convert_ids_to_tokens(i) for i in range(5)] == tokenization.SPECIAL_TOKENS
    assert tokenization.special_ids(tokenizer) == (0, 2, 3)


def test_truncation_keeps_both_ends(tokenizer):
    long = " ".join(TURKISH[:5])
    full = tokenizer(long)["input_ids"]
    cut = tokenization.encode(tokenizer, [long], max_length=6)[0]
    assert len(full) > 6 and len(cut) == 6
    assert cut == full[:5] + [tokenizer.sep_token_id]


def test_saved_tokenizer_reloads_with_auto_and_fast_classes(tokenizer, tmp_path):
    tokenizer.save_pretrained(str(tmp_path))
    for reloaded in (AutoTokenizer.from_pretrained(str(tmp_path)), PreTrainedTokenizerFast.from_pretrained(str(tmp_path))):
        assert reloaded(TURKISH[:4])["input_ids"] == tokenizer(TURKISH[:4])["input_ids"]
        assert reloaded.pad_token_id == 0 and reloaded.unk_token == "[UNK]"


def test_hub_path_resolves_a_local_folder(tokenizer, tmp_path):
    tokenizer.save_pretrained(str(tmp_path / "saved"))
    loaded = tokenization.resolve("saved", "turkish.sources.x.turkish_tokenizer", download=False, root=tmp_path)
    assert loaded(TURKISH)["input_ids"] == tokenizer(TURKISH)["input_ids"]


def test_uncached_hub_id_fails_fast_saying_how_to_switch(tmp_path):
    with pytest.raises(PipelineError) as caught:
        tokenization.resolve("turkish-tests/not-a-cached-tokenizer", "turkish.sources.reference.turkish_tokenizer", False, tmp_path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("params.yaml: turkish.sources.reference.turkish_tokenizer: 'turkish-tests/not-a-cached-tokenizer' is not in")
    assert "dvc exp run -S turkish.source=offline" in message


@pytest.mark.parametrize(
    ("offline", "reason"),
    [(True, "HF_HUB_OFFLINE is set"), (False, "[Errno -2] Name or service not known")],
    ids=["offline-mode", "no-network"],
)
def test_a_downloadable_hub_id_fails_at_once_when_the_hub_is_unreachable(tmp_path, monkeypatch, offline, reason):
    """Not cached, downloads on, no network: one line at once, not transformers' retries (50+ s)."""
    from huggingface_hub import HfApi, constants

    def no_network(self, repo_id, **kwargs):
        raise ConnectionError("[Errno -2] Name or service not known")

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", offline)
    monkeypatch.setattr(HfApi, "repo_info", no_network)
    with pytest.raises(PipelineError) as caught:
        tokenization.resolve("turkish-tests/not-a-cached-tokenizer", "turkish.sources.reference.turkish_tokenizer", True, tmp_path)
    assert str(caught.value) == (
        "params.yaml: turkish.sources.reference.turkish_tokenizer: 'turkish-tests/not-a-cached-tokenizer' is not in the "
        f"local Hugging Face cache and the hub cannot be reached ({reason}); switch back with "
        "`dvc exp run -S turkish.source=offline`, or run once with internet to cache it"
    )


def test_a_vocab_size_below_the_alphabet_is_refused():
    # The trainer keeps the special tokens and every character (and its ## piece) whatever the size.
    with pytest.raises(PipelineError) as caught:
        tokenization.train_wordpiece(TURKISH, vocab_size=64, min_frequency=1, what="the turkish training split")
    assert str(caught.value) == (
        "params.yaml: turkish.wordpiece.vocab_size: must be at least 65 for the turkish training split "
        "(5 special tokens, a piece per character and per ## continuation character), got 64"
    )
    assert len(tokenization.train_wordpiece(TURKISH, vocab_size=65, min_frequency=1)) == 65


def test_a_folder_without_a_tokenizer_is_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(PipelineError, match="cannot load a tokenizer from"):
        tokenization.resolve("empty", "key", False, tmp_path)


def test_unknown_characters_are_named(tokenizer):
    share, missing = tokenization.unknown_characters(tokenizer, "ЖЖЖ 漢字")
    assert share == 1.0 and missing == sorted(set("Ж漢字"))
    share, missing = tokenization.unknown_characters(tokenizer, "Tom eve gitti.")
    assert share == 0.0 and missing == []


def test_statistics_count_truncation_and_unknowns(tokenizer):
    texts = ["Tom eve gitti.", "ЖЖЖ"]
    lengths = [len(tokenizer(t)["input_ids"]) for t in texts]
    stats = tokenization.token_statistics(tokenizer, texts, max_length=4)
    assert stats["max_tokens"] == max(lengths) and stats["truncated_share"] == sum(n > 4 for n in lengths) / 2
    assert stats["unk_rate"] == pytest.approx(1 / (sum(lengths) - 4), abs=1e-4)  # one [UNK] piece ("ЖЖЖ" is one word)


def test_training_is_deterministic():
    """The trainer alone numbers `##` pieces in hash order (huggingface/tokenizers#1794): ours must not."""
    texts = [t.replace("i", "ı", k % 2) + f" Kelime{k % 7}ler" for k, t in enumerate(TURKISH * 4)]
    vocabularies = [tokenization.train_wordpiece(texts, vocab_size=90, min_frequency=1).get_vocab() for _ in range(8)]
    assert all(vocabulary == vocabularies[0] for vocabulary in vocabularies)


def test_continuation_pieces_are_ordinary_tokens(tokenizer):
    """They were registered with the trainer's special tokens; in the result only the five real ones are special."""
    assert set(tokenizer.all_special_tokens) == set(tokenization.SPECIAL_TOKENS)
    pieces = tokenizer.tokenize("Öğretmenler")
    assert any(piece.startswith("##") for piece in pieces)
    assert tokenizer.decode(tokenizer(["Öğretmenler"])["input_ids"][0], skip_special_tokens=True) == "Öğretmenler"


@pytest.mark.parametrize(
    ("decoded", "expected"),
    [("Tom won ' t help me.", "Tom won't help me."), ("a well - known man", "a well-known man"), ("I ’ m here.", "I’m here.")],
)
def test_detokenize_rejoins_apostrophes_and_hyphens(decoded, expected):
    assert tokenization.detokenize(decoded) == expected


def test_decoded_contractions_match_the_reference_for_bleu(tokenizer):
    from pipeline.studies.turkish.evaluation import corpus_scores

    english = tokenization.train_wordpiece(["Tom won't help me.", "I'm here.", "Don't go."] * 3, 60, 1)
    ids = english(["Tom won't help me."])["input_ids"][0]
    text = tokenization.detokenize(english.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=True))
    assert text == "Tom won't help me."
    assert corpus_scores([text], ["Tom won't help me."])["bleu"] == pytest.approx(100.0)
