"""Bytes on the stream into a validated ``UserEvent``, or a rejection with a reason a person can act on."""

from __future__ import annotations

import binascii
from dataclasses import dataclass
from enum import Enum

from pydantic import ValidationError
from pydantic_core import from_json

from journey.events.model import UserEvent, check_unknown_fields
from journey.events.normalizers import NATIVE, UnknownFormat, normalize


class RejectionCode(str, Enum):
    BAD_BASE64 = "bad_base64"
    NOT_UTF8 = "not_utf8"
    NOT_JSON = "not_json"
    NOT_OBJECT = "not_object"
    OVERSIZE = "oversize"
    UNKNOWN_FORMAT = "unknown_format"
    SCHEMA = "schema_violation"


@dataclass(frozen=True, slots=True)
class Rejection:
    code: RejectionCode
    reason: str

    def __str__(self) -> str:
        return f"{self.code.value}: {self.reason}"


Decoded = UserEvent | Rejection

_validate_native_json = UserEvent.__pydantic_validator__.validate_json  # without model_validate_json's wrapper


def decode_base64(data: str) -> bytes | Rejection:
    """Strict base64 (what ``base64.b64decode(data, validate=True)`` does, without its wrapper)."""
    try:
        return binascii.a2b_base64(data, strict_mode=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        return Rejection(RejectionCode.BAD_BASE64, f"record data is not valid base64 ({exc})")


def decode_event(raw: bytes, max_bytes: int, fmt: str | None = None) -> Decoded:
    """Decode one record's bytes. Never raises for bad input: it returns a :class:`Rejection`.

    The common case takes one pass: a complete native event (with its id, no unknown fields) is
    parsed and validated by pydantic-core straight from the bytes. Anything else (another format, a
    missing id, unknown fields, any error) takes the general path, which gives the same event or
    explains the rejection."""
    if len(raw) > max_bytes:
        return Rejection(RejectionCode.OVERSIZE, f"record is {len(raw)} bytes, the limit is {max_bytes}")
    if fmt is None or fmt == NATIVE:
        try:
            event: UserEvent = _validate_native_json(raw)
        except ValueError:  # pydantic's ValidationError is a ValueError
            pass
        else:
            if not has_unknown_fields(event):
                return event
    return _decode_slowly(raw, fmt)


def has_unknown_fields(event: UserEvent) -> bool:
    """Unknown fields are kept, but only after :func:`journey.events.check_unknown_fields` has
    bounded them, which the general path does."""
    return bool(
        event.__pydantic_extra__
        or event.eventData.__pydantic_extra__
        or event.deviceInfo.__pydantic_extra__
        or event.userContext.__pydantic_extra__
    )


def _decode_slowly(raw: bytes, fmt: str | None) -> Decoded:
    try:
        payload = from_json(raw)  # pydantic-core's parser: several times faster than json.loads
    except (ValueError, RecursionError) as exc:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as not_text:
            return Rejection(RejectionCode.NOT_UTF8, f"record is not UTF-8 text (byte {not_text.start})")
        return Rejection(RejectionCode.NOT_JSON, f"record is not JSON ({str(exc)[:120]})")
    if not isinstance(payload, dict):
        return Rejection(RejectionCode.NOT_OBJECT, f"record is JSON {type(payload).__name__}, expected an object")
    try:
        canonical = normalize(payload, fmt)
    except UnknownFormat as exc:
        return Rejection(RejectionCode.UNKNOWN_FORMAT, str(exc))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return Rejection(RejectionCode.SCHEMA, f"cannot normalize {fmt or 'record'}: {str(exc)[:200]}")
    too_many = check_unknown_fields(canonical)
    if too_many:
        return Rejection(RejectionCode.SCHEMA, too_many)
    try:
        return UserEvent.model_validate(canonical)
    except ValidationError as exc:
        return Rejection(RejectionCode.SCHEMA, describe_validation_error(exc))


def describe_validation_error(exc: ValidationError, limit: int = 3) -> str:
    parts = []
    for error in exc.errors()[:limit]:
        where = ".".join(str(p) for p in error["loc"]) or "record"
        got = repr(error.get("input"))[:60]
        parts.append(f"{where}: {error['msg']} (got {got})")
    more = len(exc.errors()) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
