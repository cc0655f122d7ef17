"""Bytes on the stream into a validated ``UserEvent``, or a rejection with a reason a person can act on."""

from __future__ import annotations

import binascii
import zlib
from dataclasses import dataclass
from enum import Enum

from pydantic import ValidationError
from pydantic_core import from_json

from journey.events.commands import command_problem, timer_command_problem
from journey.events.model import EVENT_ADAPTER, EventType, UserEvent, check_unknown_fields, has_unknown_fields
from journey.events.normalizers import NATIVE, UnknownFormat, normalize


class RejectionCode(str, Enum):
    BAD_BASE64 = "bad_base64"
    NOT_UTF8 = "not_utf8"
    NOT_JSON = "not_json"
    NOT_OBJECT = "not_object"
    OVERSIZE = "oversize"
    UNKNOWN_FORMAT = "unknown_format"
    SCHEMA = "schema_violation"
    UNSTORABLE = "unstorable"  # a valid event the store refused for its user (a key or item over a limit): redrive after a fix


@dataclass(frozen=True, slots=True)
class Rejection:
    code: RejectionCode
    reason: str

    def __str__(self) -> str:
        return f"{self.code.value}: {self.reason}"


Decoded = UserEvent | Rejection

_validate_native_json = EVENT_ADAPTER.validator.validate_json  # without TypeAdapter.validate_json's wrapper


def decode_base64(data: str) -> bytes | Rejection:
    """Strict base64 (what ``base64.b64decode(data, validate=True)`` does, without its wrapper)."""
    try:
        return binascii.a2b_base64(data, strict_mode=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        return Rejection(RejectionCode.BAD_BASE64, f"record data is not valid base64 ({exc})")


def decode_event(raw: bytes, max_bytes: int, fmt: str | None = None, arrival_ms: int | None = None) -> Decoded:
    """Decode one record's bytes. Never raises for bad input: it returns a :class:`Rejection`.

    The common case takes one pass: a complete native event (with its id, no unknown fields) is
    parsed and validated by pydantic-core straight from the bytes. Anything else (another format, a
    missing id, unknown fields, any error) takes the general path, which gives the same event or
    explains the rejection. ``arrival_ms`` (when the record reached the stream, epoch ms) is the time of
    an event whose format lets it carry none: a Segment call without any of its time fields."""
    if len(raw) > max_bytes:
        return Rejection(RejectionCode.OVERSIZE, f"record is {len(raw)} bytes, the limit is {max_bytes}")
    if fmt is None or fmt == NATIVE:
        try:
            event: UserEvent = _validate_native_json(raw)
        except ValueError:  # pydantic's ValidationError is a ValueError
            pass
        else:
            if not has_unknown_fields(event):
                return _checked_command(event)
    decoded = _decode_slowly(raw, fmt, arrival_ms)
    return _checked_command(decoded) if isinstance(decoded, UserEvent) else decoded


def _checked_command(event: UserEvent) -> Decoded:
    """An event typed as a command is refused unless it is one (an app's own "timer" event, a
    "command" without its payload)."""
    command, kind = event.command, event.eventType
    if command is not None or kind is EventType.COMMAND:
        problem = command_problem(kind.value, command)
        if problem is None and command is not None:
            problem = _payload_problem(event)
        return event if problem is None else Rejection(RejectionCode.SCHEMA, problem)
    if kind is not EventType.TIMER:
        return event
    problem = timer_command_problem(event.eventId, event.userId, event.sessionId, event.timestamp)
    return event if problem is None else Rejection(RejectionCode.SCHEMA, problem)


def _payload_problem(event: UserEvent) -> str | None:
    command = event.command
    assert command is not None
    if command.name.value == "consent" and command.consent is None:
        return "a 'consent' command needs 'consent' ({inApp, push, messages})"
    if command.name.value == "outcome" and (command.interventionId is None or command.outcome is None):
        return "an 'outcome' command needs 'interventionId' and 'outcome' (shown, dismissed, acted, resolved)"
    return None


def _decode_slowly(raw: bytes, fmt: str | None, arrival_ms: int | None = None) -> Decoded:
    try:
        payload = from_json(raw)  # pydantic-core's parser: several times faster than json.loads
    except (ValueError, RecursionError) as exc:
        known = diagnose_encoding(raw)
        if known is not None:
            return known
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as not_text:
            return Rejection(RejectionCode.NOT_UTF8, f"record is not UTF-8 text (byte {not_text.start})")
        return Rejection(RejectionCode.NOT_JSON, f"record is not JSON ({str(exc)[:120]})")
    if not isinstance(payload, dict):
        return Rejection(RejectionCode.NOT_OBJECT, f"record is JSON {type(payload).__name__}, expected an object")
    try:
        canonical = normalize(payload, fmt, arrival_ms)
    except UnknownFormat as exc:
        return Rejection(RejectionCode.UNKNOWN_FORMAT, str(exc))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return Rejection(RejectionCode.SCHEMA, f"cannot normalize {fmt or 'record'}: {str(exc)[:200]}")
    too_many = check_unknown_fields(canonical)
    if too_many:
        return Rejection(RejectionCode.SCHEMA, too_many)
    try:
        return EVENT_ADAPTER.validate_python(canonical)
    except ValidationError as exc:
        return Rejection(RejectionCode.SCHEMA, describe_validation_error(exc))


# --- Records that are not JSON text, for a reason a producer can fix --------------------------
# Only ever run on bytes that did not parse, so the path of a valid event never pays for it.

_KPL_MAGIC = b"\xf3\x89\x9a\xc2"
_GZIP_MAGIC = b"\x1f\x8b"
_UTF8_BOM = b"\xef\xbb\xbf"
_BOMS = (  # longest first: the UTF-32 little-endian mark starts with the UTF-16 one
    (b"\xff\xfe\x00\x00", "UTF-32 little-endian", "FF FE 00 00"),
    (b"\x00\x00\xfe\xff", "UTF-32 big-endian", "00 00 FE FF"),
    (b"\xff\xfe", "UTF-16 little-endian", "FF FE"),
    (b"\xfe\xff", "UTF-16 big-endian", "FE FF"),
)
_BASE64_TEXT = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_= \t\r\n"
_URLSAFE_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


def diagnose_encoding(raw: bytes) -> Rejection | None:
    """A rejection naming the likely cause and its fix when bytes that are not JSON look like a
    known producer mistake: KPL aggregation, compression, UTF-16/32 or a byte-order mark, base64
    applied twice. None when they look like none of these (the generic reason then applies).

    Such records stay rejected: the stream's contract is one event per record, as UTF-8 JSON."""
    binary = _binary_cause(raw)
    if binary is not None:
        what, fix = binary
        return Rejection(RejectionCode.NOT_UTF8, f"record {what}: {fix}")
    if raw.startswith(_UTF8_BOM):
        return Rejection(
            RejectionCode.NOT_JSON,
            "record starts with a UTF-8 byte-order mark (EF BB BF): write the JSON without one "
            "(Python: encoding='utf-8', not 'utf-8-sig'; .NET: new UTF8Encoding(false))",
        )
    inner = _base64_decoded(raw)
    if inner is None:
        return None
    twice = (
        "it was base64-encoded twice: give the AWS SDK the raw bytes as the record data, it base64-encodes them "
        "itself (AWS CLI v2: raw JSON with --cli-binary-format raw-in-base64-out)"
    )
    if inner.lstrip()[:1] in (b"{", b"["):
        return Rejection(RejectionCode.NOT_JSON, f"record is base64 text of JSON, so {twice}")
    binary = _binary_cause(inner)
    if binary is not None:
        what, fix = binary
        return Rejection(RejectionCode.NOT_JSON, f"record is base64 text of data that {what}, so {twice}; and {fix}")
    return None


def _binary_cause(raw: bytes) -> tuple[str, str] | None:
    """What binary data looks like, and how a producer stops sending it."""
    if raw.startswith(_KPL_MAGIC):
        return (
            "looks KPL-aggregated (magic bytes F3 89 9A C2)",
            "de-aggregate before putting (aws-kinesis-agg) or turn aggregation off in the producer "
            "(KPL AggregationEnabled=false); the stream reads one event per record",
        )
    if raw.startswith(_GZIP_MAGIC):
        return (
            "is gzip-compressed (magic bytes 1F 8B)",
            "put the event's JSON uncompressed (turn compression off in the producer or agent; "
            "a CloudWatch Logs subscription delivers gzip log batches, not events)",
        )
    if _is_zlib(raw):
        return (
            f"is zlib-compressed (header {raw[0]:02X} {raw[1]:02X})",
            "put the event's JSON uncompressed (turn compression off in the producer)",
        )
    for bom, encoding, hex_bytes in _BOMS:
        if raw.startswith(bom):
            return (
                f"is {encoding} text (byte-order mark {hex_bytes})",
                "encode the JSON as UTF-8 without a byte-order mark "
                "(Python: .encode('utf-8'); .NET: new UTF8Encoding(false); PowerShell 7: -Encoding utf8NoBOM)",
            )
    return None


def _is_zlib(raw: bytes) -> bool:
    """An RFC 1950 header (deflate, window at most 32 KB, no preset dictionary, check bits) whose
    first bytes also inflate: text that happens to start like a header does not."""
    if len(raw) < 3 or raw[0] & 0x0F != 8 or raw[0] >> 4 > 7 or raw[1] & 0x20 or (raw[0] << 8 | raw[1]) % 31:
        return False
    try:
        zlib.decompressobj().decompress(raw[:256], 64)
    except zlib.error:
        return False
    return True


def _base64_decoded(raw: bytes) -> bytes | None:
    """The bytes ``raw`` encodes when it is base64 text (standard or URL-safe, wrapped lines allowed)."""
    if len(raw) < 8 or raw.translate(None, _BASE64_TEXT):
        return None
    try:
        return binascii.a2b_base64(raw.translate(_URLSAFE_TO_STANDARD))
    except binascii.Error:
        return None


def describe_validation_error(exc: ValidationError, limit: int = 3) -> str:
    parts = []
    for error in exc.errors()[:limit]:
        where = ".".join(str(p) for p in error["loc"]) or "record"
        got = repr(error.get("input"))[:60]
        parts.append(f"{where}: {error['msg']} (got {got})")
    more = len(exc.errors()) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
