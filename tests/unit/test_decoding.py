"""Given bytes on the stream, expect a canonical event or a rejection a person can act on."""

import base64
import gzip
import hashlib
import json
import zlib

import pytest

from journey.events.decoding import Rejection, RejectionCode, decode_base64, decode_event
from journey.events.model import EVENT_ADAPTER, UserEvent, at_time, has_unknown_fields
from journey.events.normalizers import normalize_firebase
from tests.builders import T0, event

LIMIT = 65_536


def decode(payload, fmt=None):
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return decode_event(raw, LIMIT, fmt)


def test_native_event_becomes_canonical_and_keeps_unknown_fields():
    result = decode({**event(feature="checkout", attemptCount=2, colour="red"), "appBuild": 42})
    assert isinstance(result, UserEvent)
    assert result.eventData.feature == "checkout"
    assert result.eventData.unknown_fields == {"colour": "red"}
    assert result.unknown_fields == {"appBuild": 42}


def test_unknown_fields_survive_serialization_and_a_new_time():
    result = decode({**event(feature="checkout", colour="red", note=None), "appBuild": 42})
    assert isinstance(result, UserEvent)
    assert result.eventData.unknown_fields == {"colour": "red", "note": None}
    written = json.loads(EVENT_ADAPTER.dump_json(result, exclude_none=True))
    assert written["appBuild"] == 42 and written["eventData"] == {"feature": "checkout", "colour": "red"}
    assert EVENT_ADAPTER.dump_python(result)["eventData"]["note"] is None  # null is kept unless asked otherwise
    moved = at_time(result, T0 - 5)
    assert moved.timestamp == T0 - 5 and result.timestamp != T0 - 5
    assert moved.unknown_fields == {"appBuild": 42} and moved.eventData.unknown_fields == result.eventData.unknown_fields


def test_unknown_fields_count_in_equality_and_a_graphql_typename_is_an_ordinary_one():
    first = decode(event(feature="checkout", __typename="Tap", colour="red"))
    assert isinstance(first, UserEvent) and first.eventData.unknown_fields == {"__typename": "Tap", "colour": "red"}
    same, other = (
        decode({**event(feature="checkout", __typename="Tap", colour=c), "eventId": first.eventId}) for c in ("red", "blue")
    )
    assert same == first and other != first  # unknown fields are part of what the event says


def test_an_event_without_unknown_fields_reports_none():
    result = decode(event(feature="checkout"))
    assert isinstance(result, UserEvent) and not has_unknown_fields(result)
    assert result.unknown_fields == {} and result.eventData.unknown_fields == {} and result.userContext.unknown_fields == {}
    assert has_unknown_fields(decode({**event(), "deviceInfo": {"platform": "iOS", "carrier": "x"}}))


def test_event_without_id_gets_a_deterministic_one():
    raw = event(feature="search")
    del raw["eventId"]
    first, second = decode(raw), decode(dict(raw))
    assert first.eventId == second.eventId and first.eventId.startswith("d-")
    assert decode({**raw, "timestamp": T0 + 1}).eventId != first.eventId


@pytest.mark.parametrize(
    "payload, code, words",
    [
        (b"{not json", RejectionCode.NOT_JSON, "not JSON"),
        (b"[1, 2]", RejectionCode.NOT_OBJECT, "JSON list"),
        (b"\xff\xfe", RejectionCode.NOT_UTF8, "UTF-8"),
        (b'{"hello": "world"}', RejectionCode.UNKNOWN_FORMAT, "eventType"),
        (json.dumps({**event(), "eventType": "teleport"}).encode(), RejectionCode.SCHEMA, "eventType"),
        (json.dumps({**event(), "timestamp": "yesterday"}).encode(), RejectionCode.SCHEMA, "timestamp"),
        (json.dumps({**event(), "timestamp": True}).encode(), RejectionCode.SCHEMA, "timestamp"),
        (json.dumps({**event(), "userId": ""}).encode(), RejectionCode.SCHEMA, "userId"),
        (json.dumps({**event(), "userId": "u" * 129}).encode(), RejectionCode.SCHEMA, "userId"),
        (json.dumps(event(completionRate=1.5)).encode(), RejectionCode.SCHEMA, "completionRate"),
        (json.dumps(event(**{f"k{i}": i for i in range(40)})).encode(), RejectionCode.SCHEMA, "eventData: at most 32 unknown"),
        (json.dumps({**event(), **{f"k{i}": i for i in range(40)}}).encode(), RejectionCode.SCHEMA, "the event: at most 32"),
        (b" " * (LIMIT + 1), RejectionCode.OVERSIZE, "limit"),
        (json.dumps(event(colour="r" * 513)).encode(), RejectionCode.SCHEMA, "eventData.colour: an unknown field's text"),
        (json.dumps(event(cart={"items": 3})).encode(), RejectionCode.SCHEMA, "eventData.cart: an unknown field is kept only"),
        (json.dumps({**event(), "tags": ["a", "b"]}).encode(), RejectionCode.SCHEMA, "tags: an unknown field is kept only"),
        (json.dumps(event(__dataclass_fields__=1)).encode(), RejectionCode.SCHEMA, "eventData.__dataclass_fields__: "),
        (json.dumps({**event(), "__getstate__": "x"}).encode(), RejectionCode.SCHEMA, "__getstate__: an unknown field may not"),
    ],
)
def test_bad_input_is_rejected_with_a_specific_reason(payload, code, words):
    result = decode(payload)
    assert isinstance(result, Rejection)
    assert result.code is code
    assert words in result.reason


def _kpl_aggregated(*events: dict) -> bytes:
    """A KPL-aggregated record as the Kinesis Producer Library writes it: magic, an AggregatedRecord
    protobuf (field 1 the partition key table; field 3 one Record per event: 1 key index, 3 data),
    then the MD5 of the protobuf."""

    def varint(n: int) -> bytes:
        out = b""
        while n >= 0x80:
            out, n = out + bytes([n & 0x7F | 0x80]), n >> 7
        return out + bytes([n])

    def field(number: int, payload: bytes) -> bytes:  # length-delimited
        return varint(number << 3 | 2) + varint(len(payload)) + payload

    body = field(1, b"u1")
    for item in events:
        body += field(3, varint(1 << 3) + varint(0) + field(3, json.dumps(item).encode()))
    return b"\xf3\x89\x9a\xc2" + body + hashlib.md5(body).digest()


NATIVE_BYTES = json.dumps(event(feature="checkout")).encode()


@pytest.mark.parametrize(
    "payload, code, words",
    [
        (_kpl_aggregated(event(), event()), RejectionCode.NOT_UTF8, ["KPL-aggregated", "F3 89 9A C2", "aggregation off"]),
        (gzip.compress(NATIVE_BYTES), RejectionCode.NOT_UTF8, ["gzip", "1F 8B", "uncompressed"]),
        (zlib.compress(NATIVE_BYTES), RejectionCode.NOT_UTF8, ["zlib", "78 9C", "uncompressed"]),
        (zlib.compress(NATIVE_BYTES, 1), RejectionCode.NOT_UTF8, ["zlib", "78 01", "uncompressed"]),
        (b"\xef\xbb\xbf" + NATIVE_BYTES, RejectionCode.NOT_JSON, ["UTF-8 byte-order mark", "EF BB BF", "without"]),
        (json.dumps(event()).encode("utf-16"), RejectionCode.NOT_UTF8, ["UTF-16 little-endian", "FF FE", "as UTF-8"]),
        (b"\xfe\xff" + json.dumps(event()).encode("utf-16-be"), RejectionCode.NOT_UTF8, ["UTF-16 big-endian", "FE FF"]),
        (json.dumps(event()).encode("utf-32"), RejectionCode.NOT_UTF8, ["UTF-32 little-endian", "FF FE 00 00"]),
        (base64.b64encode(NATIVE_BYTES), RejectionCode.NOT_JSON, ["base64 text of JSON", "base64-encoded twice"]),
        (base64.encodebytes(NATIVE_BYTES), RejectionCode.NOT_JSON, ["base64-encoded twice"]),  # wrapped lines
        (base64.urlsafe_b64encode(NATIVE_BYTES), RejectionCode.NOT_JSON, ["base64-encoded twice"]),
        (base64.b64encode(gzip.compress(NATIVE_BYTES)), RejectionCode.NOT_JSON, ["base64-encoded twice", "gzip"]),
    ],
    ids=[
        "kpl",
        "gzip",
        "zlib",
        "zlib-fast",
        "utf8-bom",
        "utf16-le-bom",
        "utf16-be-bom",
        "utf32-le-bom",
        "base64-twice",
        "base64-twice-wrapped",
        "base64-twice-urlsafe",
        "base64-of-gzip",
    ],
)
def test_producer_encoding_mistakes_are_rejected_with_their_cause_and_fix(payload, code, words):
    result = decode(payload)
    assert isinstance(result, Rejection), result  # still rejected: one event per record, UTF-8 JSON
    assert result.code is code
    for word in words:
        assert word in result.reason, result.reason


@pytest.mark.parametrize("payload", [b"{not json", b"hello world, not json", b"x\x01 looks like a zlib header", b"\xfa\xfb"])
def test_other_bad_bytes_keep_the_generic_reason(payload):
    result = decode(payload)
    assert isinstance(result, Rejection)
    assert result.reason.startswith(("record is not JSON", "record is not UTF-8 text")), result.reason


def test_bad_base64_is_a_rejection_not_an_exception():
    result = decode_base64("!!not base64!!")
    assert isinstance(result, Rejection) and result.code is RejectionCode.BAD_BASE64
    assert decode_base64(base64.b64encode(b"ok").decode()) == b"ok"


FIREBASE_ROW = {
    "event_date": "20261101",
    "event_timestamp": "1793491200123456",
    "event_name": "app_exception",
    "event_params": [
        {"key": "ga_session_id", "value": {"int_value": "1793491200"}},
        {"key": "feature", "value": {"string_value": "checkout"}},
        {"key": "error_type", "value": {"string_value": "network"}},
        {"key": "attempt_count", "value": {"int_value": "3"}},
    ],
    "user_pseudo_id": "pseudo-1",
    "platform": "ANDROID",
    "device": {"mobile_model_name": "Pixel 9", "time_zone_offset_seconds": 3600},
    "app_info": {"version": "4.2.0"},
}


def test_firebase_export_row_is_normalized():
    result = decode(FIREBASE_ROW, "firebase")
    assert isinstance(result, UserEvent)
    assert result.eventType.value == "error"
    assert result.timestamp == 1_793_491_200_123  # microseconds to milliseconds
    assert result.userId == "pseudo-1"
    assert result.sessionId == "1793491200"
    assert result.eventData.errorType == "network" and result.eventData.attemptCount == 3
    assert result.deviceInfo.platform.value == "Android" and result.deviceInfo.timezone == "UTC+01:00"
    assert result.eventId == normalize_firebase(FIREBASE_ROW)["eventId"]  # stable


def test_firebase_is_detected_without_a_format_hint():
    assert isinstance(decode(FIREBASE_ROW), UserEvent)


@pytest.mark.parametrize(
    "change, words",
    [
        ({"event_timestamp": "soon"}, "event_timestamp"),
        ({"event_params": "nope"}, "event_params"),
        ({"event_params": [{"key": "x"}]}, "event_params"),
        ({"user_pseudo_id": None}, "userId"),
    ],
)
def test_bad_firebase_rows_are_rejected_with_reasons(change, words):
    result = decode({**FIREBASE_ROW, **change}, "firebase")
    assert isinstance(result, Rejection)
    assert words in result.reason


def test_native_line_in_a_firebase_file_is_rejected():
    result = decode(event(), "firebase")
    assert isinstance(result, Rejection)
