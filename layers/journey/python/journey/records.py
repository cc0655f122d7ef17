"""One Kinesis record, read: either an accepted event or a quarantined input with its reason."""

from __future__ import annotations

from typing import NamedTuple, Union

from journey.decoding import Rejection, decode_base64, decode_event
from journey.events import UserEvent


class Accepted(NamedTuple):
    """An immutable tuple: a batch makes hundreds of these, and a tuple is the cheapest record to build."""

    event: UserEvent
    sequence: str
    arrival: float  # approximateArrivalTimestamp, epoch seconds


class Quarantined(NamedTuple):
    rejection: Rejection
    sequence: str
    partition_key: str
    data: str  # the record's data exactly as it arrived (base64)
    arrival: float

    def as_record(self) -> dict:
        return {
            "sequenceNumber": self.sequence,
            "partitionKey": self.partition_key,
            "code": self.rejection.code.value,
            "reason": self.rejection.reason,
            "data": self.data,
            "approximateArrivalTimestamp": self.arrival,
        }


ReadRecord = Union[Accepted, Quarantined]


def read_record(sequence: str, partition_key: str, data: str, arrival: float, max_bytes: int, fmt: str | None = None) -> ReadRecord:
    raw = decode_base64(data)
    decoded = raw if isinstance(raw, Rejection) else decode_event(raw, max_bytes, fmt)
    if isinstance(decoded, Rejection):
        return Quarantined(decoded, sequence, partition_key, data, arrival)
    return Accepted(decoded, sequence, arrival)


def read_lambda_records(records: list[dict], max_bytes: int, fmt: str | None = None) -> list[ReadRecord]:
    """Every record of a Lambda Kinesis event, read in order (one loop: this runs for every event)."""
    read = read_record
    out = []
    append = out.append
    for record in records:
        payload = record["kinesis"]
        append(read(payload["sequenceNumber"], payload["partitionKey"], payload["data"], payload["approximateArrivalTimestamp"], max_bytes, fmt))
    return out
