"""Segment (and RudderStack) calls into canonical events: call types, ids, the four time fields,
identities, the semantic event specs, rejections with reasons, and `make replay FORMAT=segment`.

The payloads are the examples of Segment's spec (github.com/segmentio/segment-docs, under
src/connections/spec/ and src/privacy/consent-management/; each cites its page), with only what a
test changes changed."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from journey.app.stream_batch import process_batch
from journey.events.decoding import Rejection, RejectionCode, decode_event
from journey.events.model import EVENT_ADAPTER, EventData, UserEvent
from journey.events.normalizers import FIREBASE, FORMATS, NATIVE, SEGMENT, detect_format, normalize, normalize_segment
from journey.events.records import read_record
from journey.interventions.catalog import DEFAULT_CATALOG
from journey.settings import PolicySettings, Settings
from localrt import replay
from localrt.memory_ports import memory_aws
from tests.builders import event

LIMIT = 65_536
SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "segment_events.jsonl"

# src/connections/spec/track.md, "Here's a complete example of a track call"
TRACK = {
    "anonymousId": "23adfd82-aa0f-45a7-a756-24f2a7a4c895",
    "context": {
        "library": {"name": "analytics.js", "version": "2.11.1"},
        "page": {
            "path": "/academy/",
            "referrer": "",
            "search": "",
            "title": "Analytics Academy",
            "url": "https://segment.com/academy/",
        },
        "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/46.0.2490.86 Safari/537.36",
        "ip": "108.0.78.21",
    },
    "event": "Course Clicked",
    "integrations": {},
    "messageId": "ajs-f8ca1e4de5024d9430b3928bd8ac6b96",
    "properties": {"title": "Intro to Analytics"},
    "receivedAt": "2015-12-12T19:11:01.266Z",
    "sentAt": "2015-12-12T19:11:01.169Z",
    "timestamp": "2015-12-12T19:11:01.249Z",
    "type": "track",
    "userId": "AiUGstSDIg",
    "originalTimestamp": "2015-12-12T19:11:01.152Z",
}
TRACK_MS = 1_449_947_461_249  # 2015-12-12T19:11:01.249Z

# src/connections/spec/screen.md, "Here's a complete example of a screen call"
SCREEN = {
    "anonymousId": "3a12eab0-bca7-11e4-8dfc-aa07a5b093db",
    "channel": "mobile",
    "context": {"ip": "8.8.8.8"},
    "integrations": {"All": True, "Mixpanel": False, "Salesforce": False},
    "messageId": "022bb90c-bbac-11e4-8dfc-aa07a5b093db",
    "name": "Home",
    "properties": {"variation": "blue signup button"},
    "receivedAt": "2015-02-23T22:28:55.387Z",
    "sentAt": "2015-02-23T22:28:55.111Z",
    "timestamp": "2015-02-23T22:28:55.111Z",
    "type": "screen",
    "userId": "97980cfea0067",
    "version": "1.1",
}

# src/connections/spec/page.md, "Here's a complete example of a page call"
PAGE = {
    "anonymousId": "507f191e810c19729de860ea",
    "channel": "browser",
    "context": {
        "ip": "8.8.8.8",
        "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/40.0.2214.115 Safari/537.36",
    },
    "integrations": {"All": True, "Mixpanel": False, "Salesforce": False},
    "messageId": "022bb90c-bbac-11e4-8dfc-aa07a5b093db",
    "name": "Home",
    "properties": {"title": "Welcome | Initech", "url": "http://www.example.com"},
    "receivedAt": "2015-02-23T22:28:55.387Z",
    "sentAt": "2015-02-23T22:28:55.111Z",
    "timestamp": "2015-02-23T22:28:55.111Z",
    "type": "page",
    "userId": "97980cfea0067",
    "version": "1.1",
}

# src/connections/spec/identify.md, "Here's a complete example of an identify call"
IDENTIFY = {
    "anonymousId": "507f191e810c19729de860ea",
    "channel": "browser",
    "context": {
        "ip": "8.8.8.8",
        "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/40.0.2214.115 Safari/537.36",
    },
    "integrations": {"All": False, "Mixpanel": True, "Salesforce": True},
    "messageId": "022bb90c-bbac-11e4-8dfc-aa07a5b093db",
    "receivedAt": "2015-02-23T22:28:55.387Z",
    "sentAt": "2015-02-23T22:28:55.111Z",
    "timestamp": "2015-02-23T22:28:55.111Z",
    "traits": {
        "name": "Peter Gibbons",
        "email": "peter@example.com",
        "plan": "premium",
        "logins": 5,
        "address": {"street": "6th St", "city": "San Francisco", "state": "CA", "postalCode": "94103", "country": "USA"},
    },
    "type": "identify",
    "userId": "97980cfea0067",
    "version": "1.1",
}

# src/connections/spec/group.md, "Here's a complete example of a group call"
GROUP = {
    "anonymousId": "507f191e810c19729de860ea",
    "channel": "browser",
    "context": {"ip": "8.8.8.8"},
    "integrations": {"All": True, "Mixpanel": False, "Salesforce": False},
    "messageId": "022bb90c-bbac-11e4-8dfc-aa07a5b093db",
    "receivedAt": "2015-02-23T22:28:55.387Z",
    "sentAt": "2015-02-23T22:28:55.111Z",
    "timestamp": "2015-02-23T22:28:55.111Z",
    "traits": {"name": "Initech", "industry": "Technology", "employees": 329, "plan": "enterprise", "total billed": 830},
    "type": "group",
    "userId": "97980cfea0067",
    "groupId": "0e8c78ea9d97a7b8185e8632",
    "version": "1.1",
}

# src/connections/spec/alias.md: the alias call's fields (previousId, userId)
ALIAS = {
    "type": "alias",
    "previousId": "39239-239239-239239-23923",
    "userId": "507f191e81",
    "messageId": "alias-0001",
    "timestamp": "2015-02-23T22:28:55.111Z",
}

# src/connections/spec/common.md: the "context" of the common fields example (a phone's)
COMMON_CONTEXT = {
    "active": True,
    "app": {"name": "InitechGlobal", "version": "545", "build": "3.0.1.545", "namespace": "com.production.segment"},
    "device": {
        "id": "B5372DB0-C21E-11E4-8DFC-AA07A5B093DB",
        "advertisingId": "7A3CBEA0-BDF5-11E4-8DFC-AA07A5B093DB",
        "adTrackingEnabled": True,
        "manufacturer": "Apple",
        "model": "iPhone7,2",
        "name": "maguro",
        "type": "ios",
        "token": "ff15bc0c20c4aa6cd50854ff165fd265c838e5405bfeb9571066395b8c9da449",
    },
    "ip": "8.8.8.8",
    "library": {"name": "analytics.js", "version": "2.11.1"},
    "locale": "en-US",
    "network": {"bluetooth": False, "carrier": "T-Mobile US", "cellular": True, "wifi": False},
    "os": {"name": "iPhone OS", "version": "8.1.3"},
    "screen": {"width": 320, "height": 568, "density": 2},
    "groupId": "12345",
    "timezone": "Europe/Amsterdam",
}


def decode(payload: Any, fmt: str | None = SEGMENT, arrival_ms: int | None = None) -> UserEvent | Rejection:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return decode_event(raw, LIMIT, fmt, arrival_ms)


def _present(data: EventData) -> dict[str, Any]:
    """The section's fields that hold a value, unknown ones included."""
    return {name: value for name, value in vars(data).items() if value is not None}


def accepted(payload: Any, fmt: str | None = SEGMENT, arrival_ms: int | None = None) -> UserEvent:
    result = decode(payload, fmt, arrival_ms)
    assert isinstance(result, UserEvent), result
    return result


def track(name: str, properties: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """The track example with another event name and properties (no messageId: its id is derived)."""
    call = {k: v for k, v in copy.deepcopy(TRACK).items() if k != "messageId"}
    return {**call, "event": name, "properties": properties or {}, **fields}


# --- call types --------------------------------------------------------------------------------


def test_a_track_call_is_a_feature_interaction_named_object_action():
    result = accepted(TRACK)
    assert result.eventType.value == "feature_interaction"
    assert (result.eventData.feature, result.eventData.action) == ("course", "click")  # "Course Clicked"
    assert result.eventData.unknown_fields == {"title": "Intro to Analytics", "event": "Course Clicked"}
    assert result.userId == "AiUGstSDIg" and result.timestamp == TRACK_MS
    assert result.deviceInfo.platform.value == "Web" and result.deviceInfo.unknown_fields == {"library": "analytics.js 2.11.1"}


def test_a_screen_call_is_a_screen_view_of_its_name():
    result = accepted(SCREEN)
    assert result.eventType.value == "screen_view"
    assert result.eventData.screen == "Home" and result.eventData.feature == "Home"
    assert result.eventData.unknown_fields == {"variation": "blue signup button"}
    named_in_properties = accepted({**SCREEN, "name": None, "properties": {"name": "Settings"}})
    assert named_in_properties.eventData.screen == "Settings"


def test_a_page_call_is_a_page_view_of_its_name_else_its_path():
    assert accepted(PAGE).eventType.value == "page_view" and accepted(PAGE).eventData.screen == "Home"
    unnamed = {**PAGE, "name": None}
    assert accepted(unnamed).eventData.screen == "/"  # the path of properties.url
    with_path = {**unnamed, "properties": {**PAGE["properties"], "path": "/help/returns", "url": "http://x.test/y"}}
    assert accepted(with_path).eventData.screen == "/help/returns"


def test_an_identify_call_updates_the_profile_only_and_keeps_no_traits():
    result = accepted(IDENTIFY)
    assert result.eventType.value == "identify" and result.userId == "97980cfea0067"
    assert not _present(result.eventData)  # names, emails, addresses are not kept
    assert "peter@example.com" not in EVENT_ADAPTER.dump_json(result).decode()
    zoned = accepted({**IDENTIFY, "traits": {"timezone": "America/Los_Angeles"}, "context": COMMON_CONTEXT})
    assert zoned.deviceInfo.timezone == "America/Los_Angeles"  # the trait wins over context.timezone
    assert accepted({**IDENTIFY, "context": COMMON_CONTEXT}).deviceInfo.timezone == "Europe/Amsterdam"


def test_context_becomes_device_info():
    result = accepted({**SCREEN, "context": COMMON_CONTEXT})
    device = result.deviceInfo
    assert device.platform is not None and device.platform.value == "iOS"  # "iPhone OS"
    assert (device.appVersion, device.deviceModel, device.timezone) == ("545", "iPhone7,2", "Europe/Amsterdam")
    assert device.pushEndpoint == COMMON_CONTEXT["device"]["token"]  # type: ignore[index]
    assert "8.8.8.8" not in EVENT_ADAPTER.dump_json(result).decode()  # the ip address is not kept
    android = {**COMMON_CONTEXT, "os": {"name": "Android", "version": "15"}, "device": {"type": "android"}}
    assert accepted({**SCREEN, "context": android}).deviceInfo.platform.value == "Android"
    server = {"library": {"name": "analytics-python", "version": "2.3.2"}}
    assert accepted({**TRACK, "context": server}).deviceInfo.platform is None


# --- ids ------------------------------------------------------------------------------------------


def test_message_id_is_the_event_id():
    assert accepted(TRACK).eventId == "ajs-f8ca1e4de5024d9430b3928bd8ac6b96"


def test_without_a_message_id_the_same_call_gets_the_same_id_and_another_call_another():
    call = track("Video Recorded", {"length": 12})
    first, again = accepted(call), accepted(copy.deepcopy(call))
    assert first.eventId == again.eventId and first.eventId.startswith("seg-")
    resent = {**call, "sentAt": "2015-12-12T19:12:00.000Z", "receivedAt": "2015-12-12T19:12:00.300Z"}
    assert accepted(resent).eventId == first.eventId  # sent again later: still the same call
    others = [
        track("Video Shared", {"length": 12}),
        track("Video Recorded", {"length": 13}),
        {**call, "userId": "someone-else"},
        {**call, "originalTimestamp": "2015-12-12T19:11:02.152Z"},
    ]
    ids = {accepted(other).eventId for other in others}
    assert len(ids) == len(others) and first.eventId not in ids


# --- time -----------------------------------------------------------------------------------------

TIMES = {
    "timestamp": ("2026-11-24T10:00:00.001Z", 1_795_514_400_001),
    "originalTimestamp": ("2026-11-24T10:00:00.002Z", 1_795_514_400_002),
    "sentAt": ("2026-11-24T10:00:00.003Z", 1_795_514_400_003),
    "receivedAt": ("2026-11-24T10:00:00.004Z", 1_795_514_400_004),
}


def untimed(call: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in call.items() if k not in TIMES}


@pytest.mark.parametrize("field", list(TIMES))
def test_each_time_field_alone_is_the_time(field):
    text, ms = TIMES[field]
    assert accepted({**untimed(TRACK), field: text}).timestamp == ms


@pytest.mark.parametrize(
    "present, winner",
    [
        (["timestamp", "originalTimestamp", "sentAt", "receivedAt"], "timestamp"),
        (["originalTimestamp", "sentAt", "receivedAt"], "originalTimestamp"),
        (["sentAt", "receivedAt"], "sentAt"),
        (["timestamp", "receivedAt"], "timestamp"),
        (["originalTimestamp", "receivedAt"], "originalTimestamp"),
    ],
)
def test_the_time_fields_take_precedence_in_order(present, winner):
    call = {**untimed(TRACK), **{field: TIMES[field][0] for field in present}}
    assert accepted(call).timestamp == TIMES[winner][1]


def test_a_null_or_empty_time_field_is_passed_over():
    call = {**untimed(TRACK), "timestamp": None, "originalTimestamp": "", "sentAt": TIMES["sentAt"][0]}
    assert accepted(call).timestamp == TIMES["sentAt"][1]


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-24T10:00:00.000Z",
        "2026-11-24T10:00:00Z",
        "2026-11-24T10:00:00+00:00",
        "2026-11-24T11:00:00.000+01:00",
        "2026-11-24T15:30:00+05:30",
        "2026-11-24T02:00:00-08:00",
        "2026-11-24T10:00:00",  # no offset: UTC
        "2026-11-24T10:00:00.0000000Z",  # seven digits (.NET)
    ],
)
def test_iso_8601_times_with_offsets_are_read_exactly(text):
    assert accepted({**untimed(TRACK), "timestamp": text}).timestamp == 1_795_514_400_000


def test_a_call_without_any_time_arrives_when_the_stream_received_it():
    assert accepted(untimed(TRACK), arrival_ms=1_795_514_400_123).timestamp == 1_795_514_400_123
    assert accepted(TRACK, arrival_ms=1_795_514_400_123).timestamp == TRACK_MS  # its own time first
    result = decode(untimed(TRACK))
    assert isinstance(result, Rejection) and "originalTimestamp" in result.reason
    assert normalize(untimed(TRACK), SEGMENT, 1_795_514_400_123)["timestamp"] == 1_795_514_400_123


@pytest.mark.parametrize("value", ["yesterday", "24/11/2026 10:00", 1_795_514_400_000, True])
def test_a_time_that_is_not_iso_8601_is_rejected_naming_the_field(value):
    result = decode({**untimed(TRACK), "originalTimestamp": value})
    assert isinstance(result, Rejection) and result.code is RejectionCode.SCHEMA
    assert "originalTimestamp" in result.reason and "ISO-8601" in result.reason


# --- identities -----------------------------------------------------------------------------------


def test_anonymous_id_stands_in_for_a_missing_user_id():
    anonymous = {k: v for k, v in TRACK.items() if k != "userId"}
    assert accepted(anonymous).userId == "23adfd82-aa0f-45a7-a756-24f2a7a4c895"
    assert accepted({**TRACK, "userId": ""}).userId == "23adfd82-aa0f-45a7-a756-24f2a7a4c895"  # RudderStack's anonymous
    assert accepted({**TRACK, "userId": None}).userId == "23adfd82-aa0f-45a7-a756-24f2a7a4c895"
    assert accepted({**anonymous, "anonymousId": 4711}).userId == "4711"
    nobody = decode({k: v for k, v in anonymous.items() if k != "anonymousId"})
    assert isinstance(nobody, Rejection) and "anonymousId" in nobody.reason


def test_a_session_is_rudderstacks_or_amplitudes_else_the_users_day():
    assert accepted(TRACK).sessionId == "AiUGstSDIg-20151212"
    assert accepted({**TRACK, "context": {"sessionId": 1795514400000}}).sessionId == "1795514400000"
    amplitude = {**TRACK, "integrations": {"Actions Amplitude": {"session_id": 1795514400111}}}
    assert accepted(amplitude).sessionId == "1795514400111"


# --- rejections -----------------------------------------------------------------------------------


@pytest.mark.parametrize("call, kind", [(GROUP, "group"), (ALIAS, "alias")])
def test_group_and_alias_calls_are_rejected_for_what_they_are(call, kind):
    for fmt in (SEGMENT, None):
        result = decode(call, fmt)
        assert isinstance(result, Rejection) and result.code is RejectionCode.SCHEMA
        assert f"'{kind}' calls carry no user activity" in result.reason and "track/screen/page/identify" in result.reason


@pytest.mark.parametrize(
    "payload, words",
    [
        ({"hello": "world"}, "needs 'type'"),
        ({**event(), "eventId": "e1"}, "native event"),
        ({**TRACK, "type": "teleport"}, "'teleport' is not one of track, screen, page, identify"),
        ({**TRACK, "type": ["track"]}, "needs 'type'"),
        ({**TRACK, "event": None}, "needs 'event'"),
        ({**TRACK, "event": "   "}, "needs 'event'"),
        ({**TRACK, "properties": ["a", "b"]}, "'properties' must be an object"),
        ({**TRACK, "context": "web"}, "'context' must be an object"),
        ({**TRACK, "properties": {"x": "left"}}, "eventData.x"),
        ({**TRACK, "messageId": "m" * 200}, "eventId"),
        ({**SCREEN, "properties": {"completionRate": 7}}, "completionRate"),
    ],
)
def test_garbage_is_rejected_with_a_specific_reason(payload, words):
    result = decode(payload)
    assert isinstance(result, Rejection), result
    assert result.code is RejectionCode.SCHEMA and words in result.reason, result.reason


def test_garbage_without_a_format_is_an_unknown_format_naming_segment():
    for payload in ({"type": "track", "event": "Orphan"}, {"type": "wave", "userId": "u1"}, {"hello": "world"}):
        result = decode(payload, None)
        assert isinstance(result, Rejection) and result.code is RejectionCode.UNKNOWN_FORMAT
        assert "Segment" in result.reason and "eventType" in result.reason
    assert isinstance(decode(b"[1, 2]"), Rejection) and isinstance(decode(b"{nope"), Rejection)


# --- format detection -----------------------------------------------------------------------------


def test_a_segment_call_is_detected_and_native_and_firebase_still_are():
    for call in (TRACK, SCREEN, PAGE, IDENTIFY, {k: v for k, v in TRACK.items() if k not in ("messageId", "userId")}):
        assert detect_format(call) == SEGMENT
        assert accepted(call, None).eventId == accepted(call).eventId
    native = event()
    assert detect_format(native) == NATIVE and detect_format({**native, "type": "track", "messageId": "m"}) == NATIVE
    firebase = {"event_name": "screen_view", "event_timestamp": "1793491200123456", "type": "track", "userId": "u"}
    assert detect_format(firebase) == FIREBASE
    assert SEGMENT in FORMATS


# --- the semantic event specs ---------------------------------------------------------------------


def test_checkout_started_then_order_completed_start_and_complete_the_checkout():
    # src/connections/spec/ecommerce/v2.md: "Checkout Started", "Payment Info Entered", "Order Completed"
    started = accepted(
        track(
            "Checkout Started",
            {
                "order_id": "50314b8e9bcf000000000000",
                "value": 30,
                "revenue": 25.0,
                "currency": "USD",
                "products": [{"product_id": "507f1f77bcf86cd799439011"}],
            },
        )
    )
    payment = accepted(
        track(
            "Payment Info Entered", {"checkout_id": "39f39fj39f3jf93fj9fj39fj3f", "order_id": "dkfsjidfjsdifsdfksdjfkdsfjsdfkdsf"}
        )
    )
    completed = accepted(
        track(
            "Order Completed", {"checkout_id": "fksdjfsdjfisjf9sdfjsd9f", "order_id": "50314b8e9bcf000000000000", "total": 27.5}
        )
    )
    flow = [(e.eventType.value, e.eventData.feature, e.eventData.action) for e in (started, payment, completed)]
    assert flow == [
        ("feature_interaction", "checkout", "start"),
        ("feature_interaction", "checkout", "step"),
        ("feature_interaction", "checkout", "complete"),
    ]
    assert "products" not in (started.eventData.unknown_fields)  # nested lists are not kept
    assert started.eventData.unknown_fields == {
        "order_id": "50314b8e9bcf000000000000",
        "value": 30,
        "revenue": 25.0,
        "currency": "USD",
        "event": "Checkout Started",
    }


@pytest.mark.parametrize(
    "name, properties, expected",
    [
        # src/connections/spec/ecommerce/v2.md
        ("Products Searched", {"query": "blue roses"}, ("search", None, None, "blue roses")),
        ("Product Added", {"product_id": "507f1f77bcf86cd799439011"}, ("feature_interaction", "cart", "add_to_cart", None)),
        (
            "Coupon Denied",
            {"coupon_id": "may_deals_2016", "reason": "Coupon expired"},
            ("feature_interaction", "coupon", "fail", None),
        ),
        (
            "Product Clicked",
            {"product_id": "507f1f77bcf86cd799439011", "position": 3},
            ("feature_interaction", "product", "click", None),
        ),
        # src/connections/spec/b2b-saas.md
        ("Signed Up", {"type": "organic"}, ("feature_interaction", "signup", "complete", None)),
        ("Signed In", {"username": "pgibbons"}, ("feature_interaction", "login", "complete", None)),
        # src/connections/spec/mobile.md
        ("Application Installed", {"version": "1.2.3", "build": "1234"}, ("app_lifecycle", None, "launch", None)),
        (
            "Application Opened",
            {"from_background": False, "referring_application": "GMail", "url": "url://location"},
            ("app_lifecycle", None, "launch", None),
        ),
        ("Application Opened", {"from_background": True}, ("app_lifecycle", None, "foreground", None)),
        ("Application Backgrounded", {}, ("app_lifecycle", None, "background", None)),
        ("Application Crashed", {}, ("app_lifecycle", None, "crash", None)),
        # src/connections/spec/live-chat.md
        ("Live Chat Conversation Started", {"agent_name": "Mary"}, ("help_request", "support", "open_chat", None)),
        # names written another way
        ("checkout_started", {}, ("feature_interaction", "checkout", "start", None)),
        ("courseClicked", {}, ("feature_interaction", "course", "click", None)),
        ("Form Submitted", {}, ("feature_interaction", "form", "submit", None)),
        # any "... Searched", any error
        ("Help Articles Searched", {"query": "reset password"}, ("search", "help_articles", None, "reset password")),
        ("Payment Error", {"feature": "checkout"}, ("error", "checkout", None, None)),
    ],
)
def test_semantic_events_read_as_the_canonical_words(name, properties, expected):
    result = accepted(track(name, properties))
    data = result.eventData
    assert (result.eventType.value, data.feature, data.action, data.query) == expected
    assert data.unknown_fields["event"] == name


def test_an_error_takes_its_type_from_the_properties_else_its_name():
    assert accepted(track("Payment Error", {"errorType": "card_declined"})).eventData.errorType == "card_declined"
    assert accepted(track("Payment Error", {"error_type": "card_declined"})).eventData.errorType == "card_declined"
    assert accepted(track("API Exception Thrown")).eventData.errorType == "api_exception_thrown"


def test_video_playback_events_carry_the_video_and_the_completion_rate():
    # src/connections/spec/video.md: "Video Playback Started", "Video Playback Paused", "Video Playback Completed"
    player = {
        "session_id": "12345",
        "total_length": 392,
        "bitrate": 100,
        "framerate": 29.00,
        "video_player": "youtube",
        "sound": 88,
        "full_screen": False,
        "ad_enabled": True,
        "quality": "hd1080",
        "livestream": False,
    }
    started = accepted(
        track(
            "Video Playback Started",
            {**player, "content_asset_ids": ["0129370"], "content_pod_ids": ["segA", "segB"], "position": 0},
        )
    )
    paused = accepted(
        track("Video Playback Paused", {**player, "content_asset_id": "0129370", "content_pod_id": "segA", "position": 278})
    )
    completed = accepted(track("Video Playback Completed", {**player, "content_asset_id": "0129370", "position": 392}))
    exited = accepted(track("Video Playback Exited", {**player, "content_asset_id": "0129370", "position": 98}))
    assert {e.eventType.value for e in (started, paused, completed, exited)} == {"video_engagement"}
    assert [e.eventData.action for e in (started, paused, completed, exited)] == ["start", "pause", "complete", "dismiss"]
    assert {e.eventData.videoId for e in (started, paused, completed)} == {"0129370"}
    assert started.eventData.duration == 392_000
    assert (started.eventData.completionRate, paused.eventData.completionRate) == (None, None)  # only a playback's end
    assert completed.eventData.completionRate == 1.0 and exited.eventData.completionRate == 0.25


def test_an_unknown_track_name_is_kept_as_an_interaction_of_that_name():
    registered = accepted(track("Registered", {"plan": "Pro Annual", "accountType": "Facebook"}))  # src/connections/spec/track.md
    assert registered.eventType.value == "feature_interaction"
    assert (registered.eventData.feature, registered.eventData.action) == ("registered", "registered")
    assert registered.eventData.unknown_fields == {"plan": "Pro Annual", "accountType": "Facebook", "event": "Registered"}
    reviewed = accepted(track("Product Reviewed", {"product_id": "507f1f77bcf86cd799439011", "rating": 5}))
    assert reviewed.eventData.action == "product_reviewed"  # "Reviewed" is no word of the vocabulary: the name, whole


def test_properties_named_as_canonical_fields_are_read_as_them():
    press = accepted(
        track(
            "Button Clicked",
            {
                "feature": "signup",
                "target": "create_account",
                "target_type": "MaterialButton",
                "x": 642,
                "y": 488,
                "attempt_count": 2,
            },
        )
    )
    data = press.eventData
    assert (data.feature, data.action, data.target, data.targetType, data.x, data.y, data.attemptCount) == (
        "signup",
        "click",
        "create_account",
        "button",
        642,
        488,
        2,
    )
    explicit = accepted(track("Checkout Started", {"feature": "express_checkout", "action": "begin"}))
    assert (explicit.eventData.feature, explicit.eventData.action) == ("express_checkout", "start")


def test_many_properties_are_bounded_not_refused():
    result = accepted(track("Survey Answered", {f"q{i}": i for i in range(60)} | {"long": "x" * 600, "nested": {"a": 1}}))
    extra = result.eventData.unknown_fields
    assert len(extra) <= 32 and extra["event"] == "Survey Answered" and "long" not in extra and "nested" not in extra


# --- consent (src/privacy/consent-management/) ------------------------------------------------------


def test_consent_categories_naming_a_channel_set_the_users_consent():
    def consent(preferences: dict[str, Any]) -> dict[str, bool] | None:
        result = accepted({**SCREEN, "context": {"consent": {"categoryPreferences": preferences}}})
        return None if result.userContext.consent is None else result.userContext.consent.model_dump()

    assert consent({"inApp": True, "push": True, "messages": False, "Advertising": False}) == {
        "inApp": True,
        "push": True,
        "messages": False,
    }
    assert consent({"Push Notifications": True, "Email": True}) == {"inApp": True, "push": True, "messages": True}
    assert consent({"push": True}) == {"inApp": True, "push": True, "messages": False}  # a channel not named: its default
    # consent-in-segment-connections.md's example: no category of ours, so nothing is said about our channels
    assert consent({"Advertising": True, "Analytics": False, "Functional": True, "DataSharing": False}) is None
    assert consent({}) == {"inApp": True, "push": False, "messages": False}  # consented to nothing: the defaults


def test_the_consent_preference_updated_event_is_a_profile_update():
    # consent-in-unify.md, "Segment Consent Preference Updated event"
    call = {
        "anonymousId": "23adfd82-aa0f-45a7-a756-24f2a7a4c895",
        "type": "track",
        "event": "Segment Consent Preference Updated",
        "userId": "u123",
        "timestamp": "2023-01-01T00:00:00.000Z",
        "context": {"consent": {"categoryPreferences": {"Advertising": True, "Analytics": False, "push": False, "inApp": True}}},
    }
    result = accepted(call)
    assert result.eventType.value == "identify" and not _present(result.eventData)
    assert result.userContext.consent is not None and result.userContext.consent.push is False


# --- make replay FORMAT=segment --------------------------------------------------------------------


def test_replay_accepts_the_segment_format(tmp_path):
    # argparse would exit (SystemExit 2) on an unknown --format; a missing file returns 2 after parsing
    assert replay.main(["--file", str(tmp_path / "nope.jsonl"), "--format", SEGMENT, "--out", str(tmp_path / "out")]) == 2


def test_the_sample_reads_as_several_users_and_only_its_group_call_is_refused():
    lines = replay.decode_lines(replay.read_lines(SAMPLE), SEGMENT)
    assert 30 <= len(lines) <= 60
    refused = [line for line in lines if line.event_id is None]
    assert len(refused) == 1 and json.loads(refused[0].data)["type"] == "group"
    assert len({line.user_id for line in lines if line.user_id}) >= 4
    assert all(line.timestamp is not None for line in lines if line.event_id)
    arrivals = replay.arrival_clock([line.timestamp for line in lines])
    assert replay.disorder(lines, arrivals).behind == 0


def test_the_sample_through_the_pipeline_finds_the_rage_click_and_the_abandoned_checkout():
    """What `make replay FORMAT=segment FILE=samples/segment_events.jsonl` runs, in memory: each line a
    record arriving at the replay's simulated arrival time."""
    lines = replay.decode_lines(replay.read_lines(SAMPLE), SEGMENT)
    arrivals = replay.arrival_clock([line.timestamp for line in lines])
    aws = memory_aws()
    settings = Settings(policy=PolicySettings(holdout_percent=0))
    signals = []
    for number, (line, arrival) in enumerate(zip(lines, arrivals, strict=True)):
        data = base64.b64encode(line.data).decode()
        record = read_record(
            str(49_000_000_000_000_000_000 + number), line.user_id or "x", data, (arrival or 0) / 1000, LIMIT, SEGMENT
        )
        result = process_batch([record], aws.ports, settings, DEFAULT_CATALOG, "shard/batch")
        signals += [(s.signalType.value, s.featureId) for s in result.signals]
    assert ("rage_tap", "signup") in signals  # the anonymous web visitor's dead "Create account" button
    assert ("abandonment", "checkout") in signals  # the iOS user who left at payment and came back to Home
    assert signals.count(("abandonment", "checkout")) == 1  # the web user's completed checkout is not abandoned


def test_normalize_segment_is_pure():
    call = copy.deepcopy(TRACK)
    assert normalize_segment(call) == normalize_segment(call) and call == TRACK
