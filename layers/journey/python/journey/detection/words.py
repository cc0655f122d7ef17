"""Splitting names and texts into words, the way the rules compare them: ``helpful-tips-onboarding``
is the words helpful, tips, onboarding (so it does not contain "help"); ``/es/ayuda`` is es, ayuda;
``Can't log in`` is cant, log, in. Accents are dropped so ``olvidé`` and ``olvide`` match."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_WORD = re.compile(r"[^0-9a-z]+")


@lru_cache(maxsize=16384)
def words(text: str) -> tuple[str, ...]:
    """The lower-case, accent-free words of a name or text (camelCase and snake_case split)."""
    text = _CAMEL.sub(" ", text.replace("'", "").replace("\u2019", ""))
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return tuple(w for w in _NOT_WORD.split(plain) if w)


def phrase_set(phrases: tuple[str, ...]) -> frozenset[tuple[str, ...]]:
    return frozenset(w for w in (words(p) for p in phrases) if w)


def contains_phrase(text_words: tuple[str, ...], phrases: frozenset[tuple[str, ...]], longest: int) -> bool:
    """Whether any phrase occurs in ``text_words`` as whole consecutive words."""
    n = len(text_words)
    for size in range(1, min(longest, n) + 1):
        for start in range(n - size + 1):
            if text_words[start : start + size] in phrases:
                return True
    return False
