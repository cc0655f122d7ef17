"""The UserEvents table: the event journal, a user's events of one batch in one compact item (more
than one when they would not fit in a DynamoDB item).

An entry is ``[eventId, timestamp, eventType, feature, action or screen or errorType]``. An item is
keyed ``<sequence number of its first event, zero-padded>#<shard>``: a replay that starts from the
same state starts with the same record, so it rewrites the same key however a retry cut the batch.
"""

from __future__ import annotations

from typing import Any

import orjson

JOURNAL_SEQ_DIGITS = 64  # Kinesis sequence numbers are up to 128 bits (39 decimal digits) and usually 56 long
JOURNAL_PART_BYTES = 300 * 1024  # an item's events, as JSON; DynamoDB's item limit is 400 KB
SHARD_SEPARATOR = "#"


def journal_key(sequence: str, shard: str) -> str:
    key = sequence.zfill(JOURNAL_SEQ_DIGITS)
    return f"{key}{SHARD_SEPARATOR}{shard}" if shard else key


def journal_items(
    user_id: str, shard: str, events: list[tuple[str, list[Any]]], expires_at: int, part_bytes: int = JOURNAL_PART_BYTES
) -> list[dict[str, Any]]:
    """The items of a user's journal for one batch: ``events`` are (sequence number, entry) in stream
    order. One item unless their JSON passes ``part_bytes``; then consecutive parts, each keyed by
    its first event's sequence number. ``expires_at``: the ``ttl`` attribute (epoch seconds)."""
    entries = [entry for _, entry in events]
    text = orjson.dumps(entries).decode()
    if len(text) * 4 <= part_bytes or len(text.encode()) <= part_bytes:
        return [_item(user_id, journal_key(events[0][0], shard), entries, text, expires_at)]
    items = []
    start, size = 0, 2
    for index, entry in enumerate(entries):
        entry_bytes = len(orjson.dumps(entry)) + 1
        if size + entry_bytes > part_bytes and index > start:
            part = entries[start:index]
            items.append(_item(user_id, journal_key(events[start][0], shard), part, orjson.dumps(part).decode(), expires_at))
            start, size = index, 2
        size += entry_bytes
    part = entries[start:]
    items.append(_item(user_id, journal_key(events[start][0], shard), part, orjson.dumps(part).decode(), expires_at))
    return items


def _item(user_id: str, key: str, entries: list[list[Any]], text: str, expires_at: int) -> dict[str, Any]:
    stamps = [entry[1] for entry in entries]
    return {
        "userId": {"S": user_id},
        "sk": {"S": key},
        "from": {"N": str(min(stamps))},
        "to": {"N": str(max(stamps))},
        "ev": {"S": text},
        "ttl": {"N": str(expires_at)},
    }


def journal_entries(item: dict[str, Any]) -> list[list[Any]]:
    """The compact events of one item, in stream order."""
    entries: list[list[Any]] = orjson.loads(item["ev"]["S"])
    return entries


def journaled_event_ids(item: dict[str, Any]) -> list[str]:
    return [entry[0] for entry in journal_entries(item)]


def chunk_key(item: dict[str, Any]) -> tuple[str, str]:
    """(userId, the item's key without its zero padding)."""
    return item["userId"]["S"], item["sk"]["S"].lstrip("0") or "0"
