"""A token vocabulary: three special tokens, then the characters of one dataset.

Each prepared dataset ships its own `vocab.json` (written by its prepare stage); the
translators load it from there, and a trained model stores it with its weights, so
translating never depends on a vocabulary defined in code.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from pipeline.core.errors import PipelineError

SOS, EOS, EOP = "<SOS>", "<EOS>", "<EOP>"  # start of sequence, end of sequence, end of prompt
SPECIALS = (SOS, EOS, EOP)
VOCAB_FILE = "vocab.json"


class Vocabulary:
    """Maps characters and the three special tokens to integer ids and back."""

    def __init__(self, characters: str):
        self.tokens: list[str] = list(SPECIALS) + list(characters)
        self.index = {token: i for i, token in enumerate(self.tokens)}
        self.characters = set(characters)
        self.sos, self.eos, self.eop = (self.index[token] for token in SPECIALS)

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, word: str) -> list[int]:
        return [self.index[ch] for ch in word]

    def decode(self, ids: Iterable[int]) -> str:
        """Characters up to the first <EOS>; other special tokens are dropped."""
        out = []
        for i in ids:
            if i == self.eos:
                break
            token = self.tokens[i]
            if token in self.characters:
                out.append(token)
        return "".join(out)

    def unknown_characters(self, text: str) -> list[str]:
        return sorted({ch for ch in text if ch not in self.characters and ch != " "})

    def check_text(self, text: str, where: str) -> None:
        unknown = self.unknown_characters(text)
        if unknown:
            shown = ", ".join(repr(ch) for ch in unknown)
            known = "".join(sorted(self.characters))
            raise PipelineError(f"{where}: character(s) {shown} not in the vocabulary ({known!r}) in {text!r}")

    # -- files -------------------------------------------------------------------------

    def to_dict(self) -> dict:
        return {"tokens": self.tokens}

    @classmethod
    def from_dict(cls, data: dict, where: str = "vocabulary") -> Vocabulary:
        tokens = data.get("tokens") if isinstance(data, dict) else None
        if not isinstance(tokens, list) or tuple(tokens[: len(SPECIALS)]) != SPECIALS:
            raise PipelineError(f"{where}: expected {{'tokens': [{', '.join(SPECIALS)}, characters...]}}")
        characters = tokens[len(SPECIALS) :]
        if not all(isinstance(t, str) and len(t) == 1 for t in characters) or len(set(characters)) != len(characters):
            raise PipelineError(f"{where}: tokens after the specials must be distinct single characters")
        return cls("".join(characters))

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict()) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PipelineError(f"{path}: missing; run the dataset's prepare stage first") from None
        except json.JSONDecodeError as error:
            raise PipelineError(f"{path}:{error.lineno}: not valid JSON ({error.msg})") from None
        return cls.from_dict(data, str(path))
