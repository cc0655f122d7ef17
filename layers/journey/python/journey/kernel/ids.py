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
