"""The 30-token character vocabulary shared by every Pig Latin model."""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.errors import PipelineError

SOS, EOS, EOP = "<SOS>", "<EOS>", "<EOP>"  # start of sequence, end of sequence, end of prompt
CHARACTERS = "-abcdefghijklmnopqrstuvwxyz"


class Vocabulary:
    """Maps characters and the three special tokens to integer ids and back."""

    def __init__(self, characters: str = CHARACTERS, specials: tuple[str, ...] = (SOS, EOS, EOP)):
        self.tokens: list[str] = list(specials) + list(characters)
        self.index = {token: i for i, token in enumerate(self.tokens)}
        self.characters = set(characters)
        self.sos, self.eos, self.eop = (self.index[token] for token in (SOS, EOS, EOP))

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
            raise PipelineError(
                f"{where}: character(s) {shown} not in the vocabulary (letters a-z and '-' only) in {text!r}"
            )


VOCAB = Vocabulary()
