"""One Kinesis record, read: either an accepted event or a quarantined input with its reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from journey.decoding import Rejection, decode_base64, decode_event
from journey.events import UserEvent


@dataclass(frozen=True, slots=True)
class Accepted:
    event: UserEvent
    sequence: str
    arrival: float  # approximateArrivalTimestamp, epoch seconds


@dataclass(frozen=True, slots=True)
class Quarantined:
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
