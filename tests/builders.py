"""Small builders for events and Kinesis batches, so tests read like specifications."""

from __future__ import annotations

import base64
import json
import time
from itertools import count

from journey.events.decoding import decode_event
from journey.events.model import UserEvent

T0 = 1_793_491_200_000  # 2026-11-01T00:00:00Z (a Sunday; 00:00 UTC)
_ids = count(1)
_seq = count(1)


def event(event_type: str = "feature_interaction", user: str = "u1", t: int = T0, session: str = "s1", **data) -> dict:
    return {
        "eventId": f"e{next(_ids)}",
        "eventType": event_type,
        "userId": user,
        "sessionId": session,
        "timestamp": t,
        "eventData": data,
    }


def tap(
    t: int, x: float = 100, y: float = 200, user: str = "u1", feature: str = "checkout", target: str = "pay", **extra
) -> dict:
    return event("feature_interaction", user, t, feature=feature, action="tap", target=target, x=x, y=y, **extra)


def canonical(raw: dict) -> UserEvent:
    decoded = decode_event(json.dumps(raw).encode(), 65_536)
    assert isinstance(decoded, UserEvent), decoded
    return decoded


def next_sequence() -> str:
    return str(49_000_000_000_000_000_000_000_000_000_000_000_000_000_000 + next(_seq))


def kinesis_record(
    payload: dict | bytes | str,
    partition_key: str = "u1",
    sequence: str | None = None,
    shard: str = "shardId-000000000000",
    arrival: float | None = None,
) -> dict:
    """A record as Lambda hands it over. It arrives when its event says it happened (``arrival``,
    epoch seconds, overrides; records without a timestamp arrive now): the processor judges event
    time against arrival, and these tests play events from a fixed day."""
    if arrival is None:
        stamp = payload.get("timestamp") if isinstance(payload, dict) else None
        arrival = stamp / 1000 if isinstance(stamp, int) else time.time()
    if isinstance(payload, dict):
        data = base64.b64encode(json.dumps(payload).encode()).decode()
    elif isinstance(payload, bytes):
        data = base64.b64encode(payload).decode()
    else:
        data = payload  # already the record's data field, possibly not even base64
    sequence = sequence or next_sequence()
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": sequence,
            "data": data,
            "approximateArrivalTimestamp": arrival,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard}:{sequence}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/test",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/test",
    }


def kinesis_event(*records: dict) -> dict:
    return {"Records": list(records)}
