"""Segment (and RudderStack, which speaks the same spec) calls into the canonical shape: the track,
screen, page and identify calls (https://segment.com/docs/connections/spec/). docs/events.md
("Segment") has the mapping as a table; :mod:`journey.events.normalizers` picks the format."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from journey.events.model import MAX_EXTRA_KEYS, EventData
from journey.events.vocabulary import KNOWN_ACTIONS, canonical_action, fold, snake

SEGMENT_ACTIVITY_CALLS = ("track", "screen", "page", "identify")
_SEGMENT_CALLS = frozenset({*SEGMENT_ACTIVITY_CALLS, "group", "alias"})
_SEGMENT_IDS = ("messageId", "userId", "anonymousId")
# in this order: Segment's own skew-corrected time, the device's, when the device sent it, when Segment got it
SEGMENT_TIME_FIELDS = ("timestamp", "originalTimestamp", "sentAt", "receivedAt")
_SEGMENT_TRANSPORT = frozenset({"sentAt", "receivedAt", "_metadata", "writeKey", "messageId"})  # not part of "the same call"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)

_SEGMENT_NOT_ACTIVITY = {
    "group": "Segment 'group' calls carry no user activity (they tie a user to an account); send track/screen/page/identify",
    "alias": "Segment 'alias' calls carry no user activity (they merge two user ids); send track/screen/page/identify",
}

# Semantic track events (the ecommerce v2, native mobile, B2B SaaS, live chat and consent specs), by their
# folded name -> (eventType, feature, action): the canonical words the Firebase normalizer gives GA4's equivalents.
_SEGMENT_EVENTS: dict[str, tuple[str, str | None, str | None]] = {
    fold(name): mapped
    for name, mapped in {
        "Application Installed": ("app_lifecycle", None, "launch"),
        "Application Opened": ("app_lifecycle", None, "launch"),  # "foreground" when from_background
        "Application Foregrounded": ("app_lifecycle", None, "foreground"),
        "Application Backgrounded": ("app_lifecycle", None, "background"),
        "Application Updated": ("app_lifecycle", None, "launch"),  # sent on the first open after an update
        "Application Uninstalled": ("app_lifecycle", None, "terminate"),
        "Application Crashed": ("app_lifecycle", None, "crash"),
        "Signed Out": ("app_lifecycle", None, "session_end"),
        "Products Searched": ("search", None, None),
        "Product Added": ("feature_interaction", "cart", "add_to_cart"),
        "Product Removed": ("feature_interaction", "cart", "remove"),
        "Checkout Started": ("feature_interaction", "checkout", "start"),
        "Checkout Step Viewed": ("feature_interaction", "checkout", "step"),
        "Checkout Step Completed": ("feature_interaction", "checkout", "step"),
        "Payment Info Entered": ("feature_interaction", "checkout", "step"),
        "Order Completed": ("feature_interaction", "checkout", "complete"),
        "Coupon Entered": ("feature_interaction", "coupon", "submit"),
        "Coupon Applied": ("feature_interaction", "coupon", "complete"),
        "Coupon Denied": ("feature_interaction", "coupon", "fail"),
        "Signed Up": ("feature_interaction", "signup", "complete"),
        "Signed In": ("feature_interaction", "login", "complete"),
        "Live Chat Conversation Started": ("help_request", "support", "open_chat"),
        "Segment Consent Preference Updated": ("identify", None, None),
    }.items()
}
# The video spec: "Video Playback|Content|Ad <what happened>" -> action
_VIDEO_PREFIXES = ("videoplayback", "videocontent", "videoad")
_VIDEO_ACTIONS = {
    "started": "start",
    "paused": "pause",
    "resumed": "resume",
    "completed": "complete",
    "playing": "progress",
    "seekstarted": "seek",
    "seekcompleted": "seek",
    "bufferstarted": "load",
    "buffercompleted": "load",
    "interrupted": "fail",
    "exited": "dismiss",
}
_VIDEO_ENDS = frozenset({"videoplaybackcompleted", "videoplaybackexited", "videoplaybackinterrupted"})  # carry completionRate
_ERROR_WORDS = frozenset({"error", "exception"})

# properties read as canonical eventData fields: their own names, and the snake_case spellings
_PROPERTY_FIELDS = {
    **{name: name for name in EventData.__dataclass_fields__},
    "target_type": "targetType",
    "video_id": "videoId",
    "completion_rate": "completionRate",
    "attempt_count": "attemptCount",
    "error_type": "errorType",
}
_MAX_EXTRA_TEXT = 512

# consent category ids (Segment Consent Management's context.consent.categoryPreferences) naming a channel
_CONSENT_CHANNELS = {
    "inapp": "inApp",
    "inappmessages": "inApp",
    "inappmessaging": "inApp",
    "push": "push",
    "pushnotifications": "push",
    "messages": "messages",
    "messaging": "messages",
    "email": "messages",
}
_IOS_NAMES = ("ios", "iphone", "ipados", "ipad")
_WEB_LIBRARIES = ("analytics.js", "analytics-next", "javascript")


def is_segment_call(payload: dict[str, Any]) -> bool:
    """A Segment spec call: a call ``type`` and one of its ids (and no native ``eventType``)."""
    kind = payload.get("type")
    return (
        "eventType" not in payload
        and isinstance(kind, str)
        and kind.lower() in _SEGMENT_CALLS
        and any(payload.get(key) for key in _SEGMENT_IDS)
    )


def normalize_segment(call: dict[str, Any], arrival_ms: int | None = None) -> dict[str, Any]:
    """One Segment call (``track``, ``screen``, ``page`` or ``identify``) as a canonical event.

    Pure: the time is the call's own (``timestamp``, else ``originalTimestamp``, ``sentAt``,
    ``receivedAt``), else ``arrival_ms``, when the record reached the stream. The id is ``messageId``,
    else derived from the call, so the same call always gets the same id."""
    kind = _segment_call_type(call)
    context = _object(call, "context")
    properties = _object(call, "properties")
    user_id = _segment_user(call)
    timestamp = segment_time(call, arrival_ms)
    message_id = call.get("messageId")
    if kind == "track":
        event_type, data = _segment_track(call, properties)
    elif kind == "identify":
        event_type, data = "identify", {}
    else:
        event_type, data = _segment_view(kind, call, properties)
    if event_type == "identify":
        data = {}  # a profile update (an identify call or a consent update) describes no activity
    traits = _object(call, "traits") if kind == "identify" else {}
    return {
        "eventId": message_id if isinstance(message_id, str) and message_id.strip() else segment_event_id(call),
        "eventType": event_type,
        "userId": user_id,
        "sessionId": _segment_session(call, context, user_id, timestamp),
        "timestamp": timestamp,
        "eventData": {k: v for k, v in data.items() if v is not None},
        "deviceInfo": _segment_device(call, context, traits),
        "userContext": _segment_user_context(context),
    }


def _segment_call_type(call: dict[str, Any]) -> str:
    kind = call.get("type")
    if not isinstance(kind, str) or not kind:
        hint = " (this looks like a native event: use the native format)" if "eventType" in call else ""
        raise ValueError(f"a Segment call needs 'type' (track, screen, page or identify){hint}")
    kind = kind.lower()
    if kind in _SEGMENT_NOT_ACTIVITY:
        raise ValueError(_SEGMENT_NOT_ACTIVITY[kind])
    if kind not in SEGMENT_ACTIVITY_CALLS:
        raise ValueError(f"Segment call type {kind[:40]!r} is not one of track, screen, page, identify")
    return kind


def _object(call: dict[str, Any], key: str) -> dict[str, Any]:
    value = call.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"'{key}' must be an object, got {type(value).__name__}")
    return value


def _segment_user(call: dict[str, Any]) -> str:
    """``userId``, else ``anonymousId`` (RudderStack sends an empty ``userId`` for anonymous users)."""
    for key in ("userId", "anonymousId"):
        value = call.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and value.strip():
            return value
    raise ValueError("a Segment call needs 'userId' or 'anonymousId'")


def segment_time(call: dict[str, Any], arrival_ms: int | None = None) -> int:
    """Epoch ms of the first of the call's time fields present, else ``arrival_ms``."""
    for key in SEGMENT_TIME_FIELDS:
        value = call.get(key)
        if value is None or value == "":
            continue
        return iso_ms(value, key)
    if arrival_ms is not None:
        return arrival_ms
    raise ValueError(f"a Segment call needs a time ({', '.join(SEGMENT_TIME_FIELDS)}), and none was given")


def iso_ms(value: Any, field: str = "timestamp") -> int:
    """An ISO-8601 date-time (``2026-11-24T10:00:00.123Z``, ``...+05:30``; one without an offset is UTC) in epoch ms."""
    if not isinstance(value, str):
        raise ValueError(f"{field} must be an ISO-8601 date-time string, got {type(value).__name__} {str(value)[:40]!r}")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{field} is not an ISO-8601 date-time: {value[:60]!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MS


def segment_event_id(call: dict[str, Any]) -> str:
    """The id of a call without a ``messageId``: a hash of the call without its transport fields (when it
    was sent and received), so a call sent again gets the same id and any other call another."""
    basis = {k: v for k, v in call.items() if k not in _SEGMENT_TRANSPORT}
    if "originalTimestamp" in basis:
        basis.pop("timestamp", None)  # Segment computes it from originalTimestamp and the transport times
    encoded = json.dumps(basis, sort_keys=True, separators=(",", ":"), default=str)
    return "seg-" + hashlib.sha256(encoded.encode()).hexdigest()[:32]


def _segment_session(call: dict[str, Any], context: dict[str, Any], user_id: str, timestamp: int) -> str:
    """RudderStack's ``context.sessionId``, the Amplitude (Actions) plugin's session, else the user's UTC day."""
    amplitude = _part(_part(call, "integrations"), "Actions Amplitude")
    for value in (context.get("sessionId"), amplitude.get("session_id")):
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            return str(value)[:128]
    day = datetime.fromtimestamp(timestamp / 1000, UTC).strftime("%Y%m%d")
    session = f"{user_id}-{day}"
    return session if len(session) <= 128 else "s-" + hashlib.sha256(session.encode()).hexdigest()[:32]


def _segment_data(properties: dict[str, Any], reserved: int = 0) -> dict[str, Any]:
    """The canonical fields among the properties, and the other scalar properties kept as they are (at
    most as many as an event keeps; nested objects, lists and long strings are not kept)."""
    data: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in properties.items():
        field = _PROPERTY_FIELDS.get(key)
        if field is not None:
            if value is not None and (key == field or field not in data):
                data[field] = value
        elif (
            isinstance(key, str)
            and len(key) <= 64
            and len(extra) < MAX_EXTRA_KEYS - reserved
            and (isinstance(value, bool | int | float) or (isinstance(value, str) and len(value) <= _MAX_EXTRA_TEXT))
        ):
            extra[key] = value
    if isinstance(data.get("query"), dict | list):
        data["query"] = json.dumps(data["query"], sort_keys=True, default=str)[:_MAX_EXTRA_TEXT]
    return {**extra, **data}


def _segment_view(kind: str, call: dict[str, Any], properties: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    data = _segment_data(properties)
    name = call.get("name") or properties.get("name")
    if kind == "screen":
        event_type, screen = "screen_view", name
    else:
        url = properties.get("url")
        path = properties.get("path") or ((urlsplit(url).path or "/") if isinstance(url, str) and url else None)
        event_type, screen = "page_view", name or path
    screen = data.get("screen") or screen
    data["screen"] = screen
    data["feature"] = data.get("feature") or screen
    return event_type, data


def _segment_track(call: dict[str, Any], properties: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = call.get("event")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("a Segment track call needs 'event' (the event's name)")
    data = _segment_data(properties, reserved=1)
    data["event"] = name[:_MAX_EXTRA_TEXT]  # the name as sent, whatever it is read as
    key = fold(name)
    whole = snake(name) or name.strip()[:64]
    words = whole.split("_")  # "Course Clicked", "course_clicked" and "courseClicked" alike
    mapped = _SEGMENT_EVENTS.get(key)
    if mapped is not None:
        event_type, feature, action = mapped
        if key == "applicationopened" and properties.get("from_background") is True:
            action = "foreground"
    elif key.startswith(_VIDEO_PREFIXES):
        return "video_engagement", _segment_video(key, data, properties)
    elif words[-1] == "searched":
        event_type, feature, action = "search", "_".join(words[:-1]) or None, None
    elif _ERROR_WORDS.intersection(words):
        event_type, feature, action = "error", None, None
        data["errorType"] = data.get("errorType") or whole
    else:
        event_type, feature, action = "feature_interaction", *_noun_and_verb(whole, words)
    if event_type == "search" and not data.get("query") and isinstance(properties.get("search"), str):
        data["query"] = properties["search"]
    data["feature"] = data.get("feature") or feature
    data["action"] = data.get("action") or action
    return event_type, data


def _noun_and_verb(whole: str, words: list[str]) -> tuple[str, str]:
    """Segment names events "Object Action" in the past tense ("Course Clicked", "Form Submitted"): a
    last word the vocabulary knows is the action on the rest; any other name is kept whole, snake-cased,
    as both (an action the vocabulary does not know, so it is counted)."""
    if len(words) > 1:
        verb = canonical_action(words[-1])
        if verb in KNOWN_ACTIONS:
            return "_".join(words[:-1]), verb
    return whole, whole


def _segment_video(key: str, data: dict[str, Any], properties: dict[str, Any]) -> dict[str, Any]:
    happened = next(key[len(prefix) :] for prefix in _VIDEO_PREFIXES if key.startswith(prefix))
    data["action"] = data.get("action") or _VIDEO_ACTIONS.get(happened) or happened or "engagement"
    asset_ids = properties.get("content_asset_ids")
    first_asset = asset_ids[0] if isinstance(asset_ids, list) and asset_ids else None
    for candidate in (properties.get("content_asset_id"), properties.get("asset_id"), first_asset):
        if not data.get("videoId") and isinstance(candidate, str | int) and not isinstance(candidate, bool):
            data["videoId"] = str(candidate)
    position, length = _number(properties.get("position")), _number(properties.get("total_length"))
    if length is not None and length > 0:
        if data.get("duration") is None and length * 1000 <= 86_400_000:
            data["duration"] = length * 1000
        if key in _VIDEO_ENDS and data.get("completionRate") is None and position is not None:
            data["completionRate"] = round(min(max(position / length, 0.0), 1.0), 4)
    return data


def _number(value: Any) -> float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _part(parent: dict[str, Any], key: str) -> dict[str, Any]:
    """A nested object of the call (``context.app``, ``context.os``...), empty when absent or not an object."""
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


def _segment_device(call: dict[str, Any], context: dict[str, Any], traits: dict[str, Any]) -> dict[str, Any]:
    app, device, library = _part(context, "app"), _part(context, "device"), _part(context, "library")
    version = app.get("version")
    timezone = traits.get("timezone") or context.get("timezone")
    token = device.get("token")
    library_name = " ".join(str(library[k]) for k in ("name", "version") if library.get(k))
    info = {
        "platform": _segment_platform(call, context, str(library.get("name") or "")),
        "appVersion": str(version) if isinstance(version, str | int | float) and not isinstance(version, bool) else None,
        "deviceModel": device.get("model") if isinstance(device.get("model"), str) else None,
        "timezone": timezone if isinstance(timezone, str) else None,
        "pushEndpoint": token if isinstance(token, str) and token else None,  # an APNs / FCM device token
        "library": library_name[:_MAX_EXTRA_TEXT] or None,
    }
    return {k: v for k, v in info.items() if v is not None}


def _segment_platform(call: dict[str, Any], context: dict[str, Any], library: str) -> str | None:
    """iOS or Android from ``context.os.name`` (else ``context.device.type``); Web for the browser libraries."""
    for name in (_part(context, "os").get("name"), _part(context, "device").get("type")):
        folded = fold(name) if isinstance(name, str) else ""
        if folded.startswith(_IOS_NAMES):
            return "iOS"
        if folded.startswith("android"):
            return "Android"
    library = library.lower()
    if any(web in library for web in _WEB_LIBRARIES) or call.get("channel") in ("browser", "web"):
        return "Web"
    if "android" in library:
        return "Android"
    if "ios" in library:
        return "iOS"
    return None


def _segment_user_context(context: dict[str, Any]) -> dict[str, Any]:
    consent = _segment_consent(context.get("consent"))
    return {} if consent is None else {"consent": consent}


def _segment_consent(consent: Any) -> dict[str, bool] | None:
    """Channel consent from Segment Consent Management's ``categoryPreferences``: categories whose id names
    a channel (``inApp``, ``push``, ``messages``; also ``pushNotifications``, ``email``...) set it; a channel
    not named takes its default (in-app on, push and messages off), as Segment reads a missing category as
    not consented. Categories naming none of them (``Advertising``, ``Analytics``) say nothing here: no change.
    An empty ``categoryPreferences`` (the user consented to nothing) leaves the defaults."""
    if not isinstance(consent, dict) or not isinstance(consent.get("categoryPreferences"), dict):
        return None
    preferences = consent["categoryPreferences"]
    channels = {
        _CONSENT_CHANNELS[fold(category)]: granted
        for category, granted in preferences.items()
        if isinstance(category, str) and fold(category) in _CONSENT_CHANNELS and isinstance(granted, bool)
    }
    if preferences and not channels:
        return None
    return channels
