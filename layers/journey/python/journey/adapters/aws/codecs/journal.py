"""The UserEvents table: the event journal, one compact chunk per user per batch.

An entry is ``[eventId, timestamp, eventType, feature, action or screen or errorType]``."""

from __future__ import annotations

from typing import Any

import orjson

from journey.adapters.aws.codecs.attributes import ttl_of

JOURNAL_SEQ_DIGITS = 64  # Kinesis sequence numbers are up to 128 bits (39 decimal digits) and usually 56 long


def journal_item(user_id: str, after_seq: str, entries: list[list[Any]], ttl_days: int) -> dict[str, Any]:
    """One chunk of the user's journal, keyed by the sequence number their state had reached before
    it. A replay starts from the same state, so it rewrites the same key, however a retry cut the
    batch: the journal never holds an event twice."""
    stamps = [entry[1] for entry in entries]
    latest = max(stamps)
    return {
        "userId": {"S": user_id},
        "sk": {"S": (after_seq or "0").zfill(JOURNAL_SEQ_DIGITS)},
        "from": {"N": str(min(stamps))},
        "to": {"N": str(latest)},
        "ev": {"S": orjson.dumps(entries).decode()},
        "ttl": {"N": str(ttl_of(latest, ttl_days))},
    }


def journal_entries(item: dict[str, Any]) -> list[list[Any]]:
    """The compact events of one chunk, in stream order."""
    entries: list[list[Any]] = orjson.loads(item["ev"]["S"])
    return entries


def journaled_event_ids(item: dict[str, Any]) -> list[str]:
    return [entry[0] for entry in journal_entries(item)]


def chunk_key(item: dict[str, Any]) -> tuple[str, str]:
    """(userId, the sequence number the user's state had applied before the chunk)."""
    return item["userId"]["S"], item["sk"]["S"].lstrip("0") or "0"
