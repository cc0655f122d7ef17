"""The AWS event-stream wire format (``application/vnd.amazon.eventstream``), encoding side: the
frames Bedrock's streaming operations answer with (InvokeHarness, InvokeAgent, ConverseStream).

The local Bedrock stand-in answers with these frames, and the unit tests hand them to real botocore
clients (a ``before-send`` hook), so botocore's own parser (``botocore.eventstream``) reads exactly
what it reads from AWS. One message:

* prelude: total length (uint32), headers length (uint32), CRC32 of those 8 bytes (uint32), big-endian;
* headers: per header, name length (uint8), name (UTF-8), value type (uint8, 7 = string), value
  length (uint16), value (UTF-8);
* payload (JSON for these services);
* message CRC32 (uint32) of everything before it, prelude included.

The headers that matter: ``:message-type`` (``event``, ``exception`` for a modelled error, ``error``
for an unmodelled one), ``:event-type`` (the event member's name: ``chunk``, ``messageStop``...),
``:exception-type`` (the exception member's name: ``throttlingException``...), ``:content-type``, and
for ``error`` messages ``:error-code`` and ``:error-message``."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterable
from typing import Any

CONTENT_TYPE = "application/vnd.amazon.eventstream"
_STRING = 7
_PRELUDE = struct.Struct(">II")
_UINT32 = struct.Struct(">I")
MAX_PAYLOAD_BYTES = 16 * 1024 * 1024  # botocore refuses larger payloads (and headers over 128 KiB)


def _crc(data: bytes, start: int = 0) -> int:
    return zlib.crc32(data, start) & 0xFFFFFFFF


def _headers(headers: dict[str, str]) -> bytes:
    out = bytearray()
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        if len(raw_name) > 255 or len(raw_value) > 65_535:
            raise ValueError(f"header {name!r} is too long for the event-stream format")
        out += struct.pack(">B", len(raw_name)) + raw_name + struct.pack(">BH", _STRING, len(raw_value)) + raw_value
    return bytes(out)


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message with string headers."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"payload of {len(payload):,} bytes is over the event-stream limit")
    raw_headers = _headers(headers)
    total = _PRELUDE.size + 4 + len(raw_headers) + len(payload) + 4
    prelude = _PRELUDE.pack(total, len(raw_headers))
    head = prelude + _UINT32.pack(_crc(prelude)) + raw_headers + payload
    return head + _UINT32.pack(_crc(head))


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def encode_event(event_type: str, payload: dict[str, Any]) -> bytes:
    """An event (``:message-type`` event) whose JSON payload is the event member's structure, e.g.
    ``encode_event("chunk", {"bytes": base64_text})`` or ``encode_event("messageStop", {"stopReason": "end_turn"})``."""
    headers = {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"}
    return encode_message(headers, _json(payload))


def encode_exception(exception_type: str, message: str, **fields: Any) -> bytes:
    """A modelled error inside the stream (``:message-type`` exception), e.g.
    ``encode_exception("throttlingException", "Rate exceeded")``: botocore raises it as an
    ``EventStreamError`` whose code is ``exception_type``."""
    headers = {":exception-type": exception_type, ":content-type": "application/json", ":message-type": "exception"}
    return encode_message(headers, _json({"message": message, **fields}))


def encode_error(code: str, message: str) -> bytes:
    """An unmodelled error inside the stream (``:message-type`` error, the code and message in headers)."""
    headers = {":error-code": code, ":error-message": message, ":message-type": "error"}
    return encode_message(headers, b"")


def encode_stream(frames: Iterable[bytes]) -> bytes:
    """Frames one after the other: a whole response body."""
    return b"".join(frames)
