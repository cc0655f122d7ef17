"""POST /v1/events as a use case: every event read the way the stream reads it, a result per event,
and only the signed-in user's accepted events on the stream, under their pseudonym."""

from __future__ import annotations

import pytest

from journey.app.api_ports import BadRequest, PayloadTooLarge
from journey.app.ingest import IngestRequest, InputFormat, ResultCode, ingest
from journey.events.decoding import RejectionCode
from journey.users.state import UserState
from tests.unit.api_fakes import NOW, Fakes, app_user, pid

MAX_RECORD = 65_536


def native(event_id: str = "e1", user: str = "demo-user-1", **extra) -> dict:
    return {
        "eventId": event_id,
        "eventType": "feature_interaction",
        "userId": user,
        "sessionId": "s1",
        "timestamp": NOW,
        "eventData": {"feature": "checkout", "action": "tap", "target": "pay"},
        **extra,
    }


def firebase_row(user: str = "demo-user-1", name: str = "tap") -> dict:
    return {
        "event_name": name,
        "event_timestamp": str(NOW * 1000),
        "user_id": user,
        "platform": "IOS",
        "event_params": [{"key": "feature", "value": {"string_value": "checkout"}}],
    }


def segment_call(user: str = "demo-user-1", message_id: str = "m-1") -> dict:
    return {
        "type": "track",
        "event": "Checkout Started",
        "userId": user,
        "messageId": message_id,
        "timestamp": "2026-11-01T00:00:00.000Z",
        "properties": {"feature": "checkout"},
    }


def run(fakes: Fakes, events: list, fmt: InputFormat | None = None, caller=None, **limits):
    request = IngestRequest(format=fmt, events=events)
    return ingest(
        request, caller or app_user(), fakes.ports(), limits.get("max_events", 500), MAX_RECORD, **limits.get("body", {})
    )


def test_good_events_of_three_formats_go_on_the_stream_under_the_pseudonym_with_the_tokens_tenant():
    fakes = Fakes()
    result = run(fakes, [native(), firebase_row(), segment_call()])
    assert [r.status for r in result.results] == ["accepted"] * 3 and result.accepted == 3
    assert {e["userId"] for e in fakes.stream.appended} == {pid()}
    assert {e["tenantId"] for e in fakes.stream.appended} == {"demo"}
    assert "demo-user-1" not in str(fakes.stream.appended)  # the app's id never travels on the stream
    assert result.results[0].eventId == "e1" and all(r.eventId for r in result.results)
    assert fakes.identities.items[pid()] == {"userId": pid(), "tenant": "demo", "externalId": "demo-user-1", "firstSeenAt": NOW}


def test_each_bad_event_is_rejected_with_the_streams_reason_code_and_the_others_still_go():
    fakes = Fakes()
    events = [
        native("ok"),
        5,  # not an object
        {"hello": "world"},  # no known format
        native("bad-time", timestamp="yesterday"),  # schema
        {**firebase_row(), "event_timestamp": "soon"},  # a Firebase row that cannot be read
        native("e-x" * 30_000),  # over the stream's record limit
    ]
    result = run(fakes, events)
    codes = [r.code.value if r.code else None for r in result.results]
    assert codes == [None, "not_object", "unknown_format", "schema_violation", "schema_violation", "oversize"]
    assert [r.index for r in result.results] == list(range(6))
    assert all(r.reason for r in result.results[1:])
    assert (result.accepted, result.rejected) == (1, 5) and [e["eventId"] for e in fakes.stream.appended] == ["ok"]


def test_events_of_another_user_or_tenant_are_forbidden_and_commands_are_not_allowed():
    fakes = Fakes()
    events = [
        native("mine"),
        native("theirs", user="demo-user-2"),
        firebase_row(user="demo-user-2"),
        native("other-tenant", tenantId="other"),
        native("cmd", eventType="command", command={"name": "erase", "requestId": "r1"}),
        native("tick", eventType="timer"),
    ]
    codes = [r.code for r in run(fakes, events).results]
    assert codes == [
        None,
        ResultCode.FORBIDDEN_USER,
        ResultCode.FORBIDDEN_USER,
        ResultCode.FORBIDDEN_USER,
        ResultCode.COMMAND_NOT_ALLOWED,
        ResultCode.COMMAND_NOT_ALLOWED,
    ]
    assert [e["eventId"] for e in fakes.stream.appended] == ["mine"]


def test_an_erased_users_events_are_refused():
    fakes = Fakes()
    fakes.reads.states[pid()] = UserState(userId=pid(), erased_at=NOW - 1000)
    result = run(fakes, [native("e1"), native("e2")])
    assert [r.code for r in result.results] == [ResultCode.USER_ERASED] * 2
    assert fakes.stream.appended == [] and fakes.identities.items == {}


def test_a_record_the_stream_still_refuses_is_reported_as_stream_refused():
    fakes = Fakes()
    fakes.stream.refuse = {"e2"}
    result = run(fakes, [native("e1"), native("e2")])
    assert [r.status for r in result.results] == ["accepted", "rejected"]
    assert result.results[1].code is ResultCode.STREAM_REFUSED and "Rate exceeded" in result.results[1].reason


def test_a_repeated_event_id_is_appended_once_and_accepted_as_a_duplicate():
    fakes = Fakes()
    result = run(fakes, [native("e1"), native("e1")])
    assert [(r.status, r.code) for r in result.results] == [("accepted", None), ("accepted", ResultCode.DUPLICATE)]
    assert len(fakes.stream.appended) == 1


def test_a_request_format_applies_to_every_event():
    fakes = Fakes()
    result = run(fakes, [firebase_row(), native("e1")], fmt=InputFormat.FIREBASE)
    assert [r.status for r in result.results] == ["accepted", "rejected"]


def test_limits_on_count_and_size():
    with pytest.raises(BadRequest) as too_many:
        run(Fakes(), [native(f"e{i}") for i in range(3)], max_events=2)
    assert too_many.value.code == "too_many_events"
    with pytest.raises(PayloadTooLarge):
        run(Fakes(), [native()], body={"body_bytes": 1_048_577, "max_body_bytes": 1_048_576})


def test_every_stream_rejection_code_is_a_result_code():
    assert {code.value for code in RejectionCode} <= {code.value for code in ResultCode}


def test_a_number_json_cannot_carry_on_the_stream_is_a_rejection_not_a_server_error():
    # found by schemathesis: a 65-bit integer anywhere in an event made the encoder raise (a 500)
    fakes = Fakes()
    result = run(fakes, [native("big", eventData={"feature": "checkout", "x": 2**70}), native("ok")])
    assert [r.status for r in result.results] == ["rejected", "accepted"]
    assert result.results[0].code is ResultCode.SCHEMA and "JSON" in (result.results[0].reason or "")


def test_an_events_unknown_fields_travel_on_the_stream_with_it():
    fakes = Fakes()
    sent = native(appBuild=42)
    sent["eventData"] = {**sent["eventData"], "colour": "red"}
    assert run(fakes, [sent]).accepted == 1
    (appended,) = fakes.stream.appended
    assert appended["appBuild"] == 42 and appended["eventData"]["colour"] == "red"
    assert "deviceInfo" not in appended  # a section the event left out is not written as an empty one


def test_a_section_that_holds_only_unknown_fields_is_kept():
    fakes = Fakes()
    crash = native(eventType="error")
    crash["eventData"] = {"fatal": True}  # no known field: the section still says something (journey.detection.failures)
    assert run(fakes, [crash]).accepted == 1
    assert fakes.stream.appended[0]["eventData"] == {"fatal": True}
