"""Small builders for events and Kinesis batches, so tests read like specifications."""

from __future__ import annotations

import base64
import json
import time
from itertools import count

from journey.app.stream_batch import BatchResult, process_batch
from journey.detection.signals import Severity, SignalType
from journey.events.decoding import decode_event
from journey.events.model import UserEvent
from journey.events.records import ReadRecord
from journey.interventions.catalog import DEFAULT_CATALOG, Channel
from journey.interventions.policy import Decision, Outcome

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


def timer(t: int, user: str = "u1") -> dict:
    """The deadline timer's command for ``user`` at ``t`` (its id is derived, as the timer's is)."""
    from journey.events.commands import TIMER_ACTION, TIMER_SESSION, timer_command_id

    return {
        "eventId": timer_command_id(user, t),
        "eventType": "timer",
        "userId": user,
        "sessionId": TIMER_SESSION,
        "timestamp": t,
        "eventData": {"action": TIMER_ACTION},
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


def send_decision(
    n: int = 1, channel: Channel = Channel.PUSH, user: str = "u1", intervention_id: str | None = None, decided_at: int = 1
) -> Decision:
    """A decision to send (an abandonment reminder on ``booking``)."""
    return Decision(
        intervention_id or f"i-{n}",
        user,
        f"s-{n}",
        SignalType.ABANDONMENT,
        "booking",
        Severity.MEDIUM,
        "resume_reminder",
        Outcome.SEND,
        channel,
        "policy_passed",
        "rule:resume_reminder",
        decided_at,
        "Your progress in booking is saved.",
        f"e{n}",
    )


def run_like_kinesis(ports, records: list[ReadRecord], settings, max_attempts: int = 4) -> list[BatchResult | None]:
    """Invoke; a function error retries the whole batch, reported item failures retry it from the
    lowest failed record (ReportBatchItemFailures). Returns each attempt's result (None: it raised)."""
    results: list[BatchResult | None] = []
    pending = records
    for _ in range(max_attempts):
        try:
            result = process_batch(pending, ports, settings, DEFAULT_CATALOG, "shard/batch")
        except Exception:  # noqa: BLE001 - a function error: Lambda retries the batch
            results.append(None)
            continue
        results.append(result)
        if not result.failed_sequences:
            break
        lowest = min(result.failed_sequences, key=int)
        pending = pending[[r.sequence for r in pending].index(lowest) :]
    return results


def use_fake_aws_credentials(monkeypatch, region: str = "us-east-1", **extra: str) -> None:
    """Credentials and region for moto's in-process mock (never a real account), no endpoint override."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": region,
        **extra,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
