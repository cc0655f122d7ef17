"""The HTTPS API through its local ASGI app (the router the Lambda function serves, behind the local
authorizer), on moto: tenant isolation, user-level authorization on the inbox, per-event ingest
results for a batch mixing good and bad events of the three formats, the body limits, and an erased
user's events refused."""

from __future__ import annotations

import orjson
import pytest
from moto import mock_aws

from journey.detection.signals import SignalType
from journey.events.decoding import Rejection, decode_event
from journey.interventions.policy import Outcome
from journey.users.state import UserState
from localrt.api_local import asgi_request
from tests.builders import use_fake_aws_credentials
from tests.integration.api_world import ApiWorld

DEMO_USER = "demo-user-1"


@pytest.fixture
def world(monkeypatch):
    use_fake_aws_credentials(monkeypatch, "us-east-1")
    with mock_aws():
        yield ApiWorld.create()


def call(world: ApiWorld, method: str, path: str, who: str | None, body=None, raw: bytes | None = None, query: str = ""):
    return asgi_request(world.app, method, path, token=world.tokens[who] if who else None, body=body, raw=raw, query=query)


def seed_demo_user(world: ApiWorld) -> str:
    """What the stream processor holds about tenant demo's demo-user-1."""
    user = world.pseudonym("demo", DEMO_USER)
    world.save_state(
        UserState(
            userId=user,
            tenant="demo",
            first_event_at=world.now_ms - 1000,
            last_event_at=world.now_ms,
            risk_score=42,
            risk_band="MEDIUM",
        )
    )
    sent = world.decide(user, "demo", "i-demo-1")
    world.resolve(sent, "demo")
    world.report(user, "demo", "i-demo-1", "shown")
    world.decide(user, "demo", "i-demo-2")
    world.decide(user, "demo", "i-demo-held", status=Outcome.HELD_OUT, signal_type=SignalType.RAGE_TAP)
    world.signal(user, "demo")
    world.journal(user, [["e1", world.now_ms, "feature_interaction", "checkout", "tap"]])
    world.quarantine(user, "49001")
    return user


# --- tenant isolation ---------------------------------------------------------------------------------------


def test_a_token_of_another_tenant_never_reads_or_changes_tenant_demos_data(world):
    user = seed_demo_user(world)
    assert call(world, "GET", f"/v1/users/{DEMO_USER}/insights", "server")[0] == 200
    # the other tenant's app user: another user's data (403), their own (empty: a different pseudonym)
    assert call(world, "GET", f"/v1/users/{DEMO_USER}/interventions", "other_tenant")[0] == 403
    assert call(world, "GET", "/v1/users/other-user-1/interventions", "other_tenant") == (200, {"interventions": []})
    assert (
        call(world, "PUT", f"/v1/users/{DEMO_USER}/consent", "other_tenant", {"inApp": False, "push": False, "messages": False})[
            0
        ]
        == 403
    )
    assert call(world, "POST", "/v1/interventions/i-demo-1/outcome", "other_tenant", {"outcome": "acted"})[0] == 404
    # the other tenant's back end: the same app user id is another pseudonym, of which nothing is held
    for method, path in (("GET", f"/v1/users/{DEMO_USER}/insights"), ("GET", f"/v1/users/{DEMO_USER}/export")):
        status, body = call(world, method, path, "other_server")
        assert status == 404 and user not in str(body)
    for path in ("/v1/analytics/hotspots", "/v1/analytics/uplift"):
        mine, theirs = call(world, "GET", path, "server")[1], call(world, "GET", path, "other_server")[1]
        assert mine != theirs and (theirs.get("hotspots") == [] or theirs.get("signalTypes") == [])
    status, _ = call(world, "DELETE", f"/v1/users/{DEMO_USER}", "other_server")
    assert status == 202
    # the only record on the stream is the other tenant's erase: not demo's user, not demo's tenant
    ((key, command),) = world.stream_records()
    assert key == command["userId"] == world.pseudonym("other", DEMO_USER) != user and command["tenantId"] == "other"


def test_each_route_takes_only_its_own_kind_of_credentials(world):
    seed_demo_user(world)
    assert call(world, "GET", f"/v1/users/{DEMO_USER}/insights", "app_user") == (403, {"message": "Forbidden"})
    assert call(world, "GET", f"/v1/users/{DEMO_USER}/interventions", "server") == (401, {"message": "Unauthorized"})
    assert call(world, "GET", f"/v1/users/{DEMO_USER}/interventions", None)[0] == 401
    assert asgi_request(world.app, "GET", f"/v1/users/{DEMO_USER}/interventions", token="not-a-token")[0] == 401


# --- the inbox, user by user ---------------------------------------------------------------------------------


def test_a_user_reads_and_reports_on_their_own_inbox_only(world):
    seed_demo_user(world)
    status, body = call(world, "GET", f"/v1/users/{DEMO_USER}/interventions", "app_user", query="status=pending")
    assert status == 200 and [i["interventionId"] for i in body["interventions"]] == ["i-demo-2"]  # i-demo-1 was reported
    assert call(world, "GET", f"/v1/users/{DEMO_USER}/interventions", "other_user")[0] == 403
    assert call(world, "POST", "/v1/interventions/i-demo-2/outcome", "other_user", {"outcome": "dismissed"})[0] == 404
    assert call(world, "POST", "/v1/interventions/i-demo-held/outcome", "app_user", {"outcome": "shown"})[0] == 404
    assert world.stream_records() == []
    status, body = call(world, "POST", "/v1/interventions/i-demo-2/outcome", "app_user", {"outcome": "acted"})
    assert status == 202
    ((key, command),) = world.stream_records()
    assert key == world.pseudonym("demo", DEMO_USER) and command["command"]["interventionId"] == "i-demo-2"
    assert command["command"]["requestId"] == body["requestId"] and command["command"]["outcome"] == "acted"


# --- ingest -------------------------------------------------------------------------------------------------


def test_a_batch_mixing_good_and_bad_events_of_three_formats_gets_a_result_per_event(world):
    now = world.now_ms
    native = {
        "eventId": "n-1",
        "eventType": "feature_interaction",
        "userId": DEMO_USER,
        "sessionId": "s1",
        "timestamp": now,
        "eventData": {"feature": "checkout", "action": "tap", "target": "pay"},
    }
    firebase = {
        "event_name": "screen_view",
        "event_timestamp": str(now * 1000),
        "user_id": DEMO_USER,
        "platform": "ANDROID",
        "event_params": [{"key": "firebase_screen", "value": {"string_value": "Cart"}}],
    }
    segment = {"type": "screen", "name": "Cart", "userId": DEMO_USER, "messageId": "seg-1", "timestamp": "2026-11-01T00:00:00Z"}
    events = [
        native,
        {**native, "eventId": "n-bad", "timestamp": "noon"},  # native, schema
        firebase,
        {**firebase, "event_params": "not a list"},  # Firebase, schema
        segment,
        {"type": "alias", "userId": DEMO_USER, "messageId": "seg-bad"},  # Segment call of a type not read
        {**native, "eventId": "n-2", "userId": "demo-user-2"},  # another user's
        {**native, "eventId": "n-cmd", "eventType": "command"},  # a command from an app
        "not an object",
    ]
    status, body = call(world, "POST", "/v1/events", "app_user", {"events": events})
    assert status == 200
    results = body["results"]
    assert [r["index"] for r in results] == list(range(len(events)))
    assert [r["status"] for r in results] == [
        "accepted",
        "rejected",
        "accepted",
        "rejected",
        "accepted",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
    ]
    assert [r["code"] for r in results if r["status"] == "rejected"] == [
        "schema_violation",
        "schema_violation",
        "schema_violation",
        "forbidden_user",
        "command_not_allowed",
        "not_object",
    ]
    assert all(r["reason"] for r in results if r["status"] == "rejected")
    for index in (1, 3, 5, 8):  # the stream's own reading of the same event gives the same code and reason
        rejection = decode_event(orjson.dumps(events[index]), 65_536)
        assert isinstance(rejection, Rejection)
        assert (results[index]["code"], results[index]["reason"]) == (rejection.code.value, rejection.reason)
    assert (body["accepted"], body["rejected"]) == (3, 6)
    on_stream = world.stream_records()
    accepted_ids = [r["eventId"] for r in results if r["status"] == "accepted"]
    assert [event["eventId"] for _, event in on_stream] == accepted_ids
    user = world.pseudonym("demo", DEMO_USER)
    assert {key for key, _ in on_stream} == {user} and {e["userId"] for _, e in on_stream} == {user}
    assert DEMO_USER not in str(on_stream)
    # the mapping back to the app's id is kept in its one place, and the export shows it
    status, exported = call(world, "GET", f"/v1/users/{DEMO_USER}/export", "server")
    assert status == 200 and exported["identity"]["externalId"] == DEMO_USER


def test_over_one_megabyte_is_413_and_over_500_events_is_400(world):
    event = {"eventType": "page_view", "userId": DEMO_USER, "sessionId": "s", "timestamp": world.now_ms}
    big = {"events": [{**event, "eventId": f"e{i}", "eventData": {"screen": "x" * 500}} for i in range(2100)]}
    status, body = call(world, "POST", "/v1/events", "app_user", big)
    assert status == 413 and body["code"] == "payload_too_large"
    status, body = call(world, "POST", "/v1/events", "app_user", {"events": [{**event, "eventId": f"e{i}"} for i in range(501)]})
    assert status == 400 and body["code"] == "too_many_events"
    assert world.stream_records() == []


def test_an_erased_users_events_are_refused(world):
    user = world.pseudonym("demo", DEMO_USER)
    world.save_state(UserState(userId=user, tenant="demo", erased_at=world.now_ms - 1000))
    event = {"eventId": "e1", "eventType": "page_view", "userId": DEMO_USER, "sessionId": "s", "timestamp": world.now_ms}
    status, body = call(world, "POST", "/v1/events", "app_user", {"events": [event]})
    assert status == 200 and body["results"][0]["code"] == "user_erased"
    assert world.stream_records() == []


def test_privacy_requests_travel_as_commands_and_the_export_holds_everything(world):
    user = seed_demo_user(world)
    assert (
        call(world, "PUT", f"/v1/users/{DEMO_USER}/consent", "app_user", {"inApp": True, "push": True, "messages": False})[0]
        == 202
    )
    status, body = call(world, "DELETE", f"/v1/users/{DEMO_USER}", "server")
    assert status == 202 and body["requestId"]
    commands = [event["command"]["name"] for key, event in world.stream_records() if key == user]
    assert commands == ["consent", "erase"]
    status, exported = call(world, "GET", f"/v1/users/{DEMO_USER}/export", "server")
    assert status == 200 and exported["pseudonym"] == user
    assert len(exported["interventions"]) == 3 and len(exported["outcomes"]) == 1 and len(exported["reports"]) == 1
    assert exported["signals"] and exported["journal"] == [["e1", world.now_ms, "feature_interaction", "checkout", "tap"]]
    assert [record["sequenceNumber"] for record in exported["quarantined"]] == ["49001"]
    status, insights = call(world, "GET", f"/v1/users/{DEMO_USER}/insights", "server")
    assert insights["exitRisk"]["score"] == 42 and len(insights["recentInterventions"]) == 3
    status, uplift = call(world, "GET", "/v1/analytics/uplift", "server", query="days=7")
    assert status == 200 and uplift["signalTypes"][0]["treated"]["n"] == 2
