"""One user, one id: the normalization that makes look-alike spellings of a user id the same id.

Used by the event model (every ``UserEvent.userId``, whatever the input format) and by producers
for the Kinesis partition key, so it imports the standard library only.

The rule (docs/data-model.md, "User ids"): strip surrounding whitespace, remove invisible format
characters (Unicode category Cf: zero-width space, joiners, bidi controls, BOM, soft hyphen, ...),
normalize to NFC; reject control characters (Cc), lone surrogates (Cs) and an id left empty.
Confusables across scripts (Cyrillic "а" and Latin "a") are deliberately kept apart.
"""

from __future__ import annotations

import unicodedata

__all__ = ["normalize_user_id"]

_category = unicodedata.category


def normalize_user_id(value: str) -> str:
    """The canonical form of a user id, or ``ValueError`` saying why there is none.

    Idempotent: ``normalize_user_id(normalize_user_id(x)) == normalize_user_id(x)``."""
    # Nearly every id: printable (so no Cc, Cf or Cs character, and no whitespace but the space) and
    # already NFC (as ASCII always is). Two C-level scans, then only the spaces around it to strip.
    if value.isprintable() and (value.isascii() or unicodedata.is_normalized("NFC", value)):
        stripped = value.strip()
        if stripped:
            return stripped
        raise ValueError("user id is empty (or only whitespace)")
    kept = []
    controls = False
    for char in value:
        category = _category(char)
        if category == "Cf":
            continue
        if category == "Cs":
            raise ValueError(f"user id has a lone surrogate U+{ord(char):04X}, which UTF-8 cannot encode")
        controls = controls or category == "Cc"
        kept.append(char)
    normalized = unicodedata.normalize("NFC", "".join(kept)).strip()
    if not normalized:
        raise ValueError("user id is empty after removing whitespace and invisible characters")
    if controls:  # tabs, newlines and the like are whitespace around the id, stripped above; inside it, an error
        for char in normalized:
            if _category(char) == "Cc":
                raise ValueError(f"user id has a control character U+{ord(char):04X}")
    return normalized
