"""DynamoDB's size limits, checked before a write (the store) and enforced by the in-memory test
clients (``localrt.memory_aws``), so tests see what AWS would refuse.

AWS rejects a BatchWriteItem whole when any one item breaks a limit (ValidationException): a key
over its byte bound, an item over 400 KB, more than 25 requests, more than 16 MB in the call, or
two requests for the same key. moto accepts several of these, so the limits live here, not in moto.
"""

from __future__ import annotations

from typing import Any

PARTITION_KEY_BYTES = 2048
SORT_KEY_BYTES = 1024
ITEM_BYTES = 400 * 1024
BATCH_WRITE_ITEMS = 25
BATCH_GET_KEYS = 100
BATCH_WRITE_REQUEST_BYTES = 16 * 1024 * 1024


def attribute_size(value: dict[str, Any]) -> int:
    """The size DynamoDB counts for one attribute value: UTF-8 bytes of strings, about one byte per
    two digits of a number, and so on (its item-size rules)."""
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        return (len(raw.strip("-").replace(".", "").lstrip("0")) + 1) // 2 + 1
    if kind == "BOOL" or kind == "NULL":
        return 1
    if kind == "B":
        return len(raw)
    if kind == "M":
        return 3 + sum(len(k.encode()) + attribute_size(v) + 1 for k, v in raw.items())
    if kind == "L":
        return 3 + sum(attribute_size(v) + 1 for v in raw)
    return len(str(raw))


def item_size(item: dict[str, dict[str, Any]]) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def key_problem(key: dict[str, dict[str, Any]], key_names: tuple[str, ...]) -> str | None:
    """Why AWS would refuse this key (or item's key), or None."""
    for position, name in enumerate(key_names):
        value = key.get(name)
        if value is None:
            return f"the key attribute {name} is missing"
        raw = value.get("S")
        if raw is None:
            continue
        size = len(raw.encode())
        limit = PARTITION_KEY_BYTES if position == 0 else SORT_KEY_BYTES
        if size == 0 or size > limit:
            kind = "partition" if position == 0 else "sort"
            return f"{kind} key {name} is {size} bytes, DynamoDB allows 1 to {limit}"
    return None


def item_problem(item: dict[str, dict[str, Any]], key_names: tuple[str, ...]) -> str | None:
    """Why AWS would refuse to store this item, or None. Cheap for the common small item: the exact
    size is only computed when four bytes per character could exceed a limit."""
    chars = 0
    for name, value in item.items():
        raw = value.get("S") or value.get("N")
        chars += len(name) + (len(raw) if raw is not None else 64)
    if chars * 4 <= SORT_KEY_BYTES:
        return None
    problem = key_problem(item, key_names)
    if problem:
        return problem
    return size_problem(item_size(item)) if chars * 4 > ITEM_BYTES else None


def size_problem(size: int) -> str | None:
    """Why AWS would refuse an item of ``size`` bytes (:func:`item_size`), or None."""
    return f"item is {size:,} bytes, DynamoDB allows {ITEM_BYTES:,}" if size > ITEM_BYTES else None
