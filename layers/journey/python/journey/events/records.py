"""One Kinesis record, read: either an accepted event or a quarantined input with its reason."""

from __future__ import annotations

from binascii import a2b_base64
from typing import NamedTuple

from journey.events.decoding import Rejection, decode_base64, decode_event, has_unknown_fields
from journey.events.model import UserEvent
from journey.events.normalizers import NATIVE


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


ReadRecord = Accepted | Quarantined


def read_record(
    sequence: str, partition_key: str, data: str, arrival: float, max_bytes: int, fmt: str | None = None
) -> ReadRecord:
    raw = decode_base64(data)
    decoded = raw if isinstance(raw, Rejection) else decode_event(raw, max_bytes, fmt)
    if isinstance(decoded, Rejection):
        return Quarantined(decoded, sequence, partition_key, data, arrival)
    return Accepted(decoded, sequence, arrival)


def read_lambda_records(records: list[dict], max_bytes: int, fmt: str | None = None) -> list[ReadRecord]:
    """Every record of a Lambda Kinesis event, read in order.

    This runs for every event, so the common case (a complete native event) is read inline: strict
    base64, then pydantic-core validating straight from the bytes. Anything else takes
    :func:`read_record`, which gives the same result or the rejection with its reason."""
    validate = UserEvent.__pydantic_validator__.validate_json
    fast = fmt is None or fmt == NATIVE
    out: list[ReadRecord] = []
    append = out.append
    for record in records:
        payload = record["kinesis"]
        data = payload["data"]
        if fast:
            try:
                raw = a2b_base64(data, strict_mode=True)
                if len(raw) <= max_bytes:
                    event = validate(raw)
                    if not has_unknown_fields(event):
                        append(Accepted(event, payload["sequenceNumber"], payload["approximateArrivalTimestamp"]))
                        continue
            except (ValueError, TypeError):  # binascii.Error and pydantic's ValidationError are ValueErrors
                pass
        append(
            read_record(
                payload["sequenceNumber"], payload["partitionKey"], data, payload["approximateArrivalTimestamp"], max_bytes, fmt
            )
        )
    return out
