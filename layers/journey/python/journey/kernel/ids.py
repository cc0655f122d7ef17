"""Short, stable fingerprints of ids (event ids, session ids) kept in a user's state."""

from __future__ import annotations

import hashlib
from functools import lru_cache

_blake2b = hashlib.blake2b


def fingerprint(event_id: str) -> str:
    """An 8-hex-digit fingerprint of an id: among a user's last few ids a collision is ~1 in 10^8."""
    return _blake2b(event_id.encode(), digest_size=4).hexdigest()


# The same fingerprint, cached, for ids that repeat (a session id recurs on each of its events;
# event ids are unique, so caching them would only cost).
short_id = lru_cache(maxsize=4096)(fingerprint)


KEY_BYTES = 128  # a name from user data used in a key is at most this many UTF-8 bytes
_HASH_HEX = 16


def bounded_key(name: str, max_bytes: int = KEY_BYTES) -> str:
    """A name from user data (a feature, a screen) made safe to use in keys: unchanged when it fits in
    ``max_bytes`` UTF-8 bytes, else its longest readable prefix that fits with ``~`` and a 64-bit hash
    of the whole name (distinct long names stay distinct; the same name always gives the same key).

    DynamoDB bounds sort keys to 1,024 bytes and partition keys to 2,048; a 128-character field of
    CJK text is already 384 bytes, and a 512-character screen name of them 1,536."""
    if len(name) * 4 <= max_bytes:  # fits whatever the characters: the common case, no encoding
        return name
    raw = name.encode()
    if len(raw) <= max_bytes:
        return name
    room = max_bytes - _HASH_HEX - 1
    prefix = raw[:room].decode("utf-8", errors="ignore")  # a cut inside a character drops that character
    return f"{prefix}~{_blake2b(raw, digest_size=_HASH_HEX // 2).hexdigest()}"
