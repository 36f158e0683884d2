"""The two tokenizers: WordPiece trained on the training split, or the reference's hub tokenizers.

Either way the prepare stage saves each with `save_pretrained`, so every later step
(training, the report, the `translate` CLI) loads it offline with `AutoTokenizer` from
`data/prepared/turkish/tokenizers/<language>/`. A WordPiece tokenizer is BERT's recipe
(cased, split on whitespace and punctuation, `##` continuation pieces, `[CLS] ... [SEP]`)
trained with the Hugging Face `tokenizers` library.

A hub id resolves offline unless the active source allows downloads: one that is not in
the local cache fails at once with one line saying how to switch back, and so does one
that may be downloaded while the hub cannot be reached.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from pipeline.core.errors import PipelineError
from pipeline.studies.turkish.params import WORDPIECE

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]  # [PAD] first: id 0, as BERT's
SWITCH_HINT = "switch back with `dvc exp run -S turkish.source=offline`, or set download: true in that source"


def train_wordpiece(
    texts: list[str], vocab_size: int, min_frequency: int, key: str = "turkish.wordpiece.vocab_size", what: str = "these texts"
):
    """A cased BERT-style WordPiece tokenizer trained on `texts`, as a PreTrainedTokenizerFast.

    `vocab_size` must leave room for the special tokens and a piece per character and per
    `##` continuation character of `texts` (`what`, in errors naming `key`): the trainer
    keeps those whatever the size, so a smaller one would be ignored silently.

    The trainer is deterministic only with help: it numbers the `##` continuation pieces
    in hash-map order and breaks ties between equally frequent merges by those numbers, so
    two trainings on the same text can differ (huggingface/tokenizers#1794). Registering
    every continuation piece up front, sorted, fixes their numbers; the trained vocabulary
    then goes into a fresh tokenizer in which only the five real special tokens are special.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    # Unicode NFC so that a precomposed "ş" and "s" + combining cedilla are one character.
    normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.BertNormalizer(lowercase=False, strip_accents=False)])
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    words = [word for text in texts for word, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text))]
    continuation = [f"##{c}" for c in sorted({c for word in words for c in word[1:]})]

    trainer_tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    trainer_tokenizer.normalizer, trainer_tokenizer.pre_tokenizer = normalizer, pre_tokenizer
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=SPECIAL_TOKENS + continuation, show_progress=False
    )
    trainer_tokenizer.train_from_iterator(texts, trainer=trainer)
    smallest = trainer_tokenizer.get_vocab_size(with_added_tokens=True)
    if smallest > vocab_size:  # no merge was made: this is the alphabet alone
        raise PipelineError(
            f"params.yaml: {key}: must be at least {smallest} for {what} ({len(SPECIAL_TOKENS)} special tokens, "
            f"a piece per character and per ## continuation character), got {vocab_size}"
        )

    tokenizer = Tokenizer(models.WordPiece(trainer_tokenizer.get_vocab(with_added_tokens=False), unk_token="[UNK]"))
    tokenizer.normalizer, tokenizer.pre_tokenizer = normalizer, pre_tokenizer
    tokenizer.add_special_tokens(SPECIAL_TOKENS)
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    tokenizer.decoder = decoders.WordPiece(prefix="##")
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]"
    )


def resolve(spec: str, key: str, download: bool, root: Path):
    """The tokenizer a param names other than `wordpiece`: a local folder or a hub id."""
    if spec == WORDPIECE:
        raise ValueError("a wordpiece tokenizer is trained (train_wordpiece), not resolved")
    if not download:
        os.environ["HF_HUB_OFFLINE"] = "1"  # before huggingface_hub is imported: no network calls at all
    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "10")
    folder = root / Path(spec).expanduser()  # relative to the project root; absolute paths stay
    if folder.is_dir():
        return load(folder, key)
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    from pipeline.core.hub import unreachable

    try:
        location = snapshot_download(spec, local_files_only=True)  # the local cache first: no network
    except HFValidationError:
        raise PipelineError(f"params.yaml: {key}: {spec!r} is neither a local folder nor a valid hub id; {SWITCH_HINT}") from None
    except LocalEntryNotFoundError:
        if not download:
            raise PipelineError(
                f"params.yaml: {key}: {spec!r} is not in the local Hugging Face cache and downloads are off; {SWITCH_HINT}"
            ) from None
        # Asked once here: transformers would retry each file for ~23 s before failing.
        reason = unreachable(spec)
        if reason:
            raise PipelineError(
                f"params.yaml: {key}: {spec!r} is not in the local Hugging Face cache and the hub cannot be reached "
                f"({reason}); switch back with `dvc exp run -S turkish.source=offline`, or run once with internet to cache it"
            ) from None
        location = spec  # transformers downloads it
    return load(location, key)


def load(location: str | Path, key: str = "tokenizer"):
    """A saved tokenizer (folder or cached hub id) through `AutoTokenizer`; it must be a fast one with [CLS]/[SEP]-like ends."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(location))
    except (OSError, ValueError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise PipelineError(f"{key}: cannot load a tokenizer from {str(location)!r} ({reason})") from None
    special_ids(tokenizer, key)  # fails now, not in the middle of training
    return tokenizer


def special_ids(tokenizer, key: str = "tokenizer") -> tuple[int, int, int]:
    """(pad, start, end) ids: BERT's [PAD], [CLS], [SEP], or a tokenizer's pad/bos/eos."""
    pad = tokenizer.pad_token_id
    start = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
    end = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
    if None in (pad, start, end):
        raise PipelineError(f"{key}: the tokenizer needs a padding token and start/end tokens ([PAD], [CLS], [SEP])")
    return pad, start, end


def encode(tokenizer, texts: list[str], max_length: int) -> list[list[int]]:
    """Ids of each text, `[CLS] ... [SEP]`, truncated to `max_length` tokens (the ends kept)."""
    return tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]


def detokenize(text: str) -> str:
    """Rejoin what BERT-style decoding spaces apart inside words: `won ' t` -> `won't`, `well - known` -> `well-known`.

    sacrebleu's 13a tokenizer keeps apostrophes and hyphens inside words, so the
    reference `won't` would never match a hypothesis `won ' t`.
    """
    return re.sub(r"\s*([-'’])\s*", r"\1", text)


def token_statistics(tokenizer, texts: list[str], max_length: int) -> dict:
    """Tokens per sentence (ends included, before truncation), the share cut by `max_length`, the [UNK] rate."""
    ids = tokenizer(texts)["input_ids"]
    lengths = [len(sentence) for sentence in ids]
    unk = tokenizer.unk_token_id
    pieces = sum(lengths) - 2 * len(ids)
    unknown = sum(token == unk for sentence in ids for token in sentence) if unk is not None else 0
    return {
        "mean_tokens": round(sum(lengths) / len(lengths), 3),
        "max_tokens": max(lengths),
        "truncated_share": round(sum(n > max_length for n in lengths) / len(lengths), 4),
        "unk_rate": round(unknown / max(pieces, 1), 4),
    }


def unknown_characters(tokenizer, text: str) -> tuple[float, list[str]]:
    """(share of the text's pieces that are [UNK], the characters the vocabulary lacks).

    WordPiece maps a whole word to [UNK] when one of its characters has no piece, so
    the characters that no vocabulary entry contains are what to name to the user.
    """
    pieces = tokenizer.tokenize(text)
    if not pieces:
        return 0.0, []
    share = sum(piece == tokenizer.unk_token for piece in pieces) / len(pieces)
    known = set("".join(tokenizer.get_vocab()).replace("##", ""))
    normalise = tokenizer.backend_tokenizer.normalizer
    normalised = normalise.normalize_str(text) if normalise is not None else text
    missing = sorted({c for c in normalised if not c.isspace() and c not in known})
    return share, missing
