"""A Kinesis batch as Lambda delivers it: read ▸ run ▸ partial batch response.

Every record is read the one way records are read (:func:`journey.events.records.read_record`):
a bad record becomes a quarantined item with its reason, never a batch failure. The batch is then
run as a whole (the stream batch use case groups it by user), and the records it reports as
transiently failed go back to Lambda as ``batchItemFailures``: Kinesis checkpoints below the
lowest failed sequence number and redelivers from there.

As Powertools' ``BatchProcessor`` does (``raise_on_entire_batch_failure``), a batch in which every
record failed raises instead, so the event source mapping treats it as a function error (retry,
bisect on error, then the on-failure destination).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from journey.errors import TransientError
from journey.events.records import ReadRecord, read_record


class BatchOutcome(Protocol):
    """What a run of a batch must report: the sequence numbers to hand back for redelivery."""

    @property
    def failed_sequences(self) -> set[str]: ...


Outcome = TypeVar("Outcome", bound=BatchOutcome)


class EntireBatchFailed(TransientError):
    """Every record of the batch failed transiently: the invocation fails and Lambda retries it."""


def batch_key(records: list[dict[str, Any]]) -> str:
    """A stable name for a batch: shard and sequence range (a replay of the same batch gets the same key)."""
    first, last = records[0], records[-1]
    shard = first.get("eventID", "shard:").split(":", 1)[0] or "shard"
    return f"{shard}/{first['kinesis']['sequenceNumber']}-{last['kinesis']['sequenceNumber']}"


def read_kinesis_records(records: list[dict[str, Any]], max_bytes: int, fmt: str | None = None) -> list[ReadRecord]:
    """Every record of a Lambda Kinesis event, read in order."""
    items: list[ReadRecord] = []
    append = items.append
    for record in records:
        payload = record["kinesis"]
        append(
            read_record(
                payload["sequenceNumber"],
                payload["partitionKey"],
                payload["data"],
                payload["approximateArrivalTimestamp"],
                max_bytes,
                fmt,
            )
        )
    return items


def partial_response(records: list[dict[str, Any]], failed_sequences: set[str]) -> dict[str, list[dict[str, str]]]:
    """Lambda's partial batch response for Kinesis, failed records in stream order."""
    if not failed_sequences:
        return {"batchItemFailures": []}
    if len(failed_sequences) >= len(records) and all(r["kinesis"]["sequenceNumber"] in failed_sequences for r in records):
        raise EntireBatchFailed(f"all {len(records)} records of the batch failed transiently; Lambda will retry it")
    return {
        "batchItemFailures": [
            {"itemIdentifier": r["kinesis"]["sequenceNumber"]}
            for r in records
            if r["kinesis"]["sequenceNumber"] in failed_sequences
        ]
    }


def handle_kinesis_batch(
    event: dict[str, Any],
    run: Callable[[list[ReadRecord], str], Outcome],
    report: Callable[[Outcome], None],
    max_bytes: int,
    fmt: str | None = None,
) -> dict[str, list[dict[str, str]]]:
    """Read ▸ run ▸ report ▸ partial batch response, for one Lambda Kinesis event."""
    records = event["Records"]
    items = read_kinesis_records(records, max_bytes, fmt)
    outcome = run(items, batch_key(records) if records else "empty")
    response = partial_response(records, outcome.failed_sequences)  # raises first when every record failed:
    report(outcome)  # a batch Lambda retries whole is reported once, when it goes through
    return response
