"""DynamoDB attribute values (the low-level client's typed form) to and from plain values."""

from __future__ import annotations

from typing import Any

from journey.kernel.clock import DAY_MS


def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: float) -> dict[str, str]:
    return {"N": str(value)}


def ttl_of(epoch_ms: int, ttl_days: int) -> int:
    """The ``ttl`` attribute (epoch seconds) of an item about something that happened at ``epoch_ms``."""
    return (epoch_ms + ttl_days * DAY_MS) // 1000


def plain(item: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """An item's attributes as plain values: S as str, N as int (or float), BOOL as bool."""
    out: dict[str, Any] = {}
    for name, value in item.items():
        ((kind, raw),) = value.items()
        if kind == "N":
            out[name] = int(raw) if raw.lstrip("-").isdigit() else float(raw)
        else:
            out[name] = raw
    return out
