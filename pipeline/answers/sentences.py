"""Counting sentences the way a marker does, so a sentence limit can be checked.

A sentence ends at `.`, `!` or `?` followed by a space or the end of the text (closing
quotes, brackets and Markdown emphasis may sit in between). What does not end one: a
decimal point ("0.43", never followed by a space), a known abbreviation ("e.g.", "i.e.",
"Fig. 2", "vs."), and anything inside a `code span` ("`torch.bmm`. Next" ends once, after
the span). Text after the last full stop counts as one more sentence. Unknown
abbreviations count as sentence ends: the count errs high, so a limit is never passed by
accident.
"""

from __future__ import annotations

import re

# Only words that never end a sentence ("etc", "no" or "max" can, so they are left out).
ABBREVIATIONS = frozenset({"e.g", "i.e", "vs", "cf", "fig", "figs", "eq", "eqs", "sec", "approx", "al", "resp", "incl"})
CLOSERS = "\"'”’)]*_"  # may follow the full stop: `(see above.)`, `**0.43**.`, `"done."`
OPENERS = "\"'“‘([*_"
CODE_SPAN = re.compile(r"(`+).+?\1", re.DOTALL)


def count_sentences(text: str) -> int:
    prose = CODE_SPAN.sub("CODE", text)  # a code span is one word, whatever dots it holds
    sentences, pending = 0, False  # pending: words seen since the last sentence end
    for token in prose.split():
        pending = pending or any(ch.isalnum() for ch in token)
        if ends_sentence(token) and pending:
            sentences, pending = sentences + 1, False
    return sentences + pending


def ends_sentence(token: str) -> bool:
    core = token.rstrip(CLOSERS)
    if not core.endswith((".", "!", "?")):
        return False
    word = core.lstrip(OPENERS).rstrip(".!?").lower()
    return not (core.endswith(".") and word in ABBREVIATIONS)
