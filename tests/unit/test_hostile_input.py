"""Property-based and fuzz tests of every decoder and normalizer: whatever arrives, reading a record
never raises, and every rejection names its code and a reason a person can act on.

`make test` runs a sample of each; the slow tier (`make test-slow`) runs 25,000 inputs per test,
more than 100,000 in all.
"""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journey.events.decoding import Rejection, RejectionCode, decode_event
from journey.events.model import UserEvent
from journey.events.normalizers import FIREBASE, NATIVE
from journey.events.records import Accepted, Quarantined, read_record
from tests.builders import T0

MAX_BYTES = 4096
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=25_000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=40))
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=12), inner, max_size=6)),
    max_leaves=25,
)
event_types = st.sampled_from(
    ["page_view", "screen_view", "feature_interaction", "error", "struggle_signal", "teleport", "", "PAGE_VIEW"]
)


@st.composite
def native_like(draw) -> dict:
    """Events that are nearly right: every field present or not, typed right or wrong, hostile strings."""
    event = {}
    for name, good in (
        ("eventId", st.text(min_size=0, max_size=140)),
        ("eventType", event_types),
        ("userId", st.text(max_size=140)),
        ("sessionId", st.text(max_size=20)),
        ("timestamp", st.one_of(st.integers(min_value=T0 - 10**13, max_value=T0 + 10**13), st.floats(), st.text(max_size=10))),
        (
            "eventData",
            st.one_of(
                st.dictionaries(
                    st.sampled_from(
                        ["feature", "action", "x", "y", "attemptCount", "completionRate", "errorType", "query", "zz"]
                    ),
                    json_values,
                    max_size=6,
                ),
                json_values,
            ),
        ),
        (
            "deviceInfo",
            st.one_of(st.fixed_dictionaries({"platform": st.sampled_from(["iOS", "Android", "Web", "Symbian"])}), json_values),
        ),
        ("userContext", st.one_of(st.dictionaries(st.text(max_size=70), json_values, max_size=40), json_values)),
    ):
        if draw(st.booleans()) or name in ("eventType", "userId"):
            event[name] = draw(st.one_of(good, json_values)) if draw(st.integers(0, 4)) == 0 else draw(good)
    return event


@st.composite
def firebase_like(draw) -> dict:
    params = draw(
        st.lists(
            st.one_of(
                st.fixed_dictionaries(
                    {
                        "key": st.text(max_size=20),
                        "value": st.fixed_dictionaries(
                            {},
                            optional={
                                "string_value": st.text(max_size=30),
                                "int_value": st.one_of(st.integers(), st.text(max_size=5)),
                                "double_value": st.one_of(st.floats(), st.text(max_size=5)),
                            },
                        ),
                    }
                ),
                json_values,
            ),
            max_size=6,
        )
    )
    row = {
        "event_name": draw(
            st.one_of(
                st.sampled_from(["screen_view", "app_exception", "video_progress", "tap", "session_start"]), st.text(max_size=20)
            )
        ),
        "event_timestamp": draw(st.one_of(st.integers(min_value=0, max_value=10**17), st.text(max_size=12), st.none())),
        "event_params": params,
    }
    for name, value in (
        ("user_id", st.text(max_size=150)),
        ("user_pseudo_id", st.text(max_size=20)),
        ("platform", st.text(max_size=10)),
        ("device", json_values),
        ("app_info", json_values),
    ):
        if draw(st.booleans()):
            row[name] = draw(value)
    return row


def check(outcome) -> None:
    assert isinstance(outcome, (UserEvent, Rejection)), type(outcome)
    if isinstance(outcome, Rejection):
        assert isinstance(outcome.code, RejectionCode)
        assert outcome.reason and len(outcome.reason) < 2_000
        json.dumps({"code": outcome.code.value, "reason": outcome.reason})  # it can be stored and logged


def _bytes(sample) -> None:
    check(decode_event(sample, MAX_BYTES))
    for fmt in (NATIVE, FIREBASE):
        check(decode_event(sample, MAX_BYTES, fmt))


def _records(data: str) -> None:
    item = read_record("1", "pk", data, 0.0, MAX_BYTES)
    assert isinstance(item, (Accepted, Quarantined))
    if isinstance(item, Quarantined):
        assert item.rejection.reason and item.data == data  # kept exactly as it arrived


def _native(event: dict) -> None:
    raw = json.dumps(event, allow_nan=True).encode()
    outcome = decode_event(raw, MAX_BYTES)
    check(outcome)
    if isinstance(outcome, UserEvent):
        assert outcome.eventId and outcome.userId and isinstance(outcome.timestamp, int)


def _firebase(row: dict) -> None:
    raw = json.dumps(row, allow_nan=True).encode()
    check(decode_event(raw, MAX_BYTES))
    check(decode_event(raw, MAX_BYTES, FIREBASE))


@FAST
@given(st.binary(max_size=600))
def test_arbitrary_bytes(sample):
    _bytes(sample)


@FAST
@given(st.one_of(st.text(max_size=200), st.binary(max_size=300).map(lambda b: base64.b64encode(b).decode())))
def test_arbitrary_record_data(data):
    _records(data)


@FAST
@given(native_like())
def test_nearly_native_events(event):
    _native(event)


@FAST
@given(firebase_like())
def test_nearly_firebase_rows(row):
    _firebase(row)


@pytest.mark.slow
@SLOW
@given(st.binary(max_size=600))
def test_arbitrary_bytes_at_scale(sample):
    _bytes(sample)


@pytest.mark.slow
@SLOW
@given(st.one_of(st.text(max_size=200), st.binary(max_size=300).map(lambda b: base64.b64encode(b).decode())))
def test_arbitrary_record_data_at_scale(data):
    _records(data)


@pytest.mark.slow
@SLOW
@given(native_like())
def test_nearly_native_events_at_scale(event):
    _native(event)


@pytest.mark.slow
@SLOW
@given(firebase_like())
def test_nearly_firebase_rows_at_scale(row):
    _firebase(row)


@pytest.mark.parametrize(
    "sample",
    [
        b"[" * 50_000 + b"]" * 50_000,  # nesting deeper than any parser's recursion
        b'{"eventType": "page_view", "userId": "\\ud800", "sessionId": "s", "timestamp": 1793491200000, "eventId": "e"}',  # lone surrogate
        b'{"eventType": "page_view", "eventType": "teleport"}',  # duplicate keys
        b"\xef\xbb\xbf{}",  # a byte-order mark
        b'{"eventType": "page_view", "userId": "u", "sessionId": "s", "timestamp": 1e400, "eventId": "e"}',
    ],
)
def test_known_nasty_inputs(sample):
    check(decode_event(sample, 1_000_000))
