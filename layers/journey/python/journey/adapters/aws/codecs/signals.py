"""The StruggleSignals table: one item per signal, keyed ``featureId#detectedAt#signalType`` within
the user (the feature index reads hot spots by feature and time). ``featureId`` is bounded to 128
UTF-8 bytes where the event is read (:func:`journey.kernel.ids.bounded_key`), so the key is at most
about 160 bytes."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic_core import to_json

from journey.adapters.aws.codecs.attributes import n, plain, s
from journey.detection.signals import StruggleSignal
from journey.kernel.tenancy import tenant_day
from journey.resources import TENANT_DAY_ATTRIBUTE


def signal_key(signal: StruggleSignal) -> str:
    return f"{signal.featureId}#{signal.detectedAt:013d}#{signal.signalType.value}"


def signal_item(signal: StruggleSignal, expires_at: int, tenant: str = "") -> dict[str, Any]:
    item = {
        "userId": s(signal.userId),
        "sk": s(signal_key(signal)),
        "featureId": s(signal.featureId),
        "detectedAt": n(signal.detectedAt),
        "signalType": s(signal.signalType.value),
        "severity": s(signal.severity.value),
        "signalId": s(signal.signalId),
        "rule": s(signal.rule),
        "outcome": s(signal.outcome or "undecided"),
        "ctx": s(to_json(signal.context, fallback=str).decode()),
        "ttl": n(expires_at),
    }
    if tenant:
        item["tenant"] = s(tenant)
        item[TENANT_DAY_ATTRIBUTE] = s(tenant_day(tenant, signal.detectedAt))
    return item


def signal_record(item: dict[str, Any]) -> dict[str, Any]:
    """A stored signal as plain values (``context`` decoded, ``ttl`` left out)."""
    record = plain(item)
    record["context"] = orjson.loads(record.pop("ctx", "{}"))
    record.pop("ttl", None)
    return record
