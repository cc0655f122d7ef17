"""One Kinesis record, read: either an accepted event or a quarantined input with its reason."""

from __future__ import annotations

import base64
from typing import NamedTuple

from journey.events.decoding import Rejection, decode_base64, decode_event
from journey.events.model import EVENT_ADAPTER, UserEvent


class Accepted(NamedTuple):
    """An immutable tuple: a batch makes hundreds of these, and a tuple is the cheapest record to build."""

    event: UserEvent
    sequence: str
    arrival: float  # approximateArrivalTimestamp, epoch seconds
    partition_key: str = ""
    data: str = ""  # the record's data exactly as it arrived (base64), to quarantine it unchanged if need be


class Quarantined(NamedTuple):
    rejection: Rejection
    sequence: str
    partition_key: str
    data: str  # the record's data exactly as it arrived (base64)
    arrival: float

    def as_record(self) -> dict[str, str | float]:
        return {
            "sequenceNumber": self.sequence,
            "partitionKey": self.partition_key,
            "code": self.rejection.code.value,
            "reason": self.rejection.reason,
            "data": self.data,
            "approximateArrivalTimestamp": self.arrival,
        }


ReadRecord = Accepted | Quarantined


def read_record(
    sequence: str, partition_key: str, data: str, arrival: float, max_bytes: int, fmt: str | None = None
) -> ReadRecord:
    """The one way a stream record is read: its base64 data decoded, normalized and validated into an
    accepted event, or quarantined with the reason (the data kept exactly as it arrived)."""
    raw = decode_base64(data)
    # a Segment call without a time of its own happened when it reached the stream
    decoded = raw if isinstance(raw, Rejection) else decode_event(raw, max_bytes, fmt, int(arrival * 1000) or None)
    if isinstance(decoded, Rejection):
        return Quarantined(decoded, sequence, partition_key, data, arrival)
    return Accepted(decoded, sequence, arrival, partition_key, data)


def quarantine_accepted(record: Accepted, rejection: Rejection) -> Quarantined:
    """An accepted record set aside after all (the store refused its user's data): kept as it
    arrived (else as its canonical event, which redrives through the native format)."""
    data = record.data or base64.b64encode(EVENT_ADAPTER.dump_json(record.event, exclude_none=True)).decode()
    return Quarantined(rejection, record.sequence, record.partition_key, data, record.arrival)
