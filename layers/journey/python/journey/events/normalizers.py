"""Wire formats into the canonical ``UserEvent``: native JSON, Firebase / GA4 BigQuery export rows and
Segment (or RudderStack) calls.

Each normalizer returns a plain dict in the canonical shape; validation happens once, in
:mod:`journey.events.decoding`, so every format gets the same limits and the same error messages.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from journey.events.model import derive_event_id
from journey.events.segment import is_segment_call, normalize_segment

NATIVE = "native"
FIREBASE = "firebase"
SEGMENT = "segment"


class UnknownFormat(ValueError):
    """The input is JSON but in no format this system reads."""


def detect_format(payload: dict[str, Any]) -> str:
    if "eventType" in payload:
        return NATIVE
    if "event_name" in payload and "event_timestamp" in payload:
        return FIREBASE
    if is_segment_call(payload):
        return SEGMENT
    raise UnknownFormat(
        "object has neither 'eventType' (native UserEvent), 'event_name' + 'event_timestamp' (Firebase export row), "
        "nor a Segment call's 'type' (track, screen, page, identify) with 'messageId', 'userId' or 'anonymousId'"
    )


# Commands the system itself appends to a user's stream (the deadline timer's, the HTTPS API's): always
# native, whatever format the apps' events on the stream are in.
COMMAND_TYPES = frozenset({"timer", "command"})


def normalize(payload: dict[str, Any], fmt: str | None = None, arrival_ms: int | None = None) -> dict[str, Any]:
    """``arrival_ms``: when the record reached the stream (epoch ms), the time of a Segment call that
    carries none of its own; the other formats always carry theirs."""
    if fmt and payload.get("eventType") in COMMAND_TYPES:
        fmt = NATIVE
    fmt = fmt or detect_format(payload)
    if fmt == SEGMENT:
        return normalize_segment(payload, arrival_ms)
    return _NORMALIZERS[fmt](payload)


def normalize_native(payload: dict[str, Any]) -> dict[str, Any]:
    if not payload.get("eventId"):
        payload = {**payload, "eventId": derive_event_id(payload)}
    return payload


# --- Firebase / GA4 BigQuery export ---------------------------------------------------------

_FIREBASE_PLATFORMS = {"IOS": "iOS", "ANDROID": "Android", "WEB": "Web"}

# event_name -> (eventType, action)
_FIREBASE_EVENTS: dict[str, tuple[str, str | None]] = {
    "screen_view": ("screen_view", None),
    "page_view": ("page_view", None),
    "app_exception": ("error", None),
    "error": ("error", None),
    "video_start": ("video_engagement", "start"),
    "video_progress": ("video_engagement", "progress"),
    "video_complete": ("video_engagement", "complete"),
    "session_start": ("app_lifecycle", "session_start"),
    "first_open": ("app_lifecycle", "first_open"),
    "app_background": ("app_lifecycle", "background"),
    "app_foreground": ("app_lifecycle", "foreground"),
    "user_engagement": ("app_lifecycle", "engagement"),
    "search": ("search", None),
    "view_search_results": ("search", None),
    "help_request": ("help_request", None),
    "tap": ("feature_interaction", "tap"),
}


def _param_value(value: dict[str, Any]) -> Any:
    for key in ("string_value", "int_value", "double_value", "float_value"):
        raw = value.get(key)
        if raw is None:
            continue
        if key == "int_value":
            return int(raw)
        if key in ("double_value", "float_value"):
            return float(raw)
        return raw
    return None


def _firebase_params(row: dict[str, Any]) -> dict[str, Any]:
    params = row.get("event_params") or []
    if not isinstance(params, list):
        raise ValueError("event_params must be a list of {key, value} objects")
    out: dict[str, Any] = {}
    for item in params:
        if not isinstance(item, dict) or "key" not in item or not isinstance(item.get("value"), dict):
            raise ValueError("event_params entries must be {key, value: {string_value|int_value|double_value}}")
        out[str(item["key"])] = _param_value(item["value"])
    return out


def _firebase_timezone(device: dict[str, Any]) -> str | None:
    offset = device.get("time_zone_offset_seconds")
    if offset is None:
        return None
    offset = int(offset)
    sign = "+" if offset >= 0 else "-"
    minutes = abs(offset) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


# GA4's recommended events for flows: (feature, action), so a begin and its completion name one flow
_FIREBASE_FLOWS: dict[str, tuple[str, str]] = {
    "begin_checkout": ("checkout", "start"),
    "add_shipping_info": ("checkout", "step"),
    "add_payment_info": ("checkout", "step"),
    "purchase": ("checkout", "complete"),
    "sign_up": ("signup", "complete"),
    "login": ("login", "complete"),
    "tutorial_begin": ("onboarding", "start"),
    "tutorial_complete": ("onboarding", "complete"),
}


def normalize_firebase(row: dict[str, Any]) -> dict[str, Any]:
    params = _firebase_params(row)
    name = str(row["event_name"])
    event_type, action = _FIREBASE_EVENTS.get(name, ("feature_interaction", name))
    flow = _FIREBASE_FLOWS.get(name)
    if flow is not None and not params.get("feature"):
        params["feature"], action = flow
    try:
        timestamp_ms = int(row["event_timestamp"]) // 1000  # microseconds in the export
    except (TypeError, ValueError) as exc:
        raise ValueError(f"event_timestamp must be integer microseconds, got {row['event_timestamp']!r}") from exc
    user_id = row.get("user_id") or row.get("user_pseudo_id")
    device = row.get("device") or {}
    app_info = row.get("app_info") or {}
    screen = params.get("firebase_screen") or params.get("firebase_screen_class") or params.get("page_title")
    data: dict[str, Any] = {
        "feature": params.get("feature") or (screen if event_type in ("screen_view", "page_view") else None),
        "action": params.get("action") or action,
        "screen": screen,
        "target": params.get("target"),
        "targetType": params.get("target_type"),
        "x": params.get("x"),
        "y": params.get("y"),
        "videoId": params.get("video_id") or params.get("video_title"),
        "completionRate": (params["video_percent"] / 100) if params.get("video_percent") is not None else None,
        "attemptCount": params.get("attempt_count"),
        "errorType": params.get("error_type") or ("fatal" if params.get("fatal") else None),
        "query": params.get("search_term"),
        "progress": params.get("progress"),
    }
    if event_type == "error" and not data["errorType"]:
        data["errorType"] = name
    if event_type == "feature_interaction" and not data["feature"]:
        data["feature"] = name
    basis = json.dumps(
        [user_id, row.get("event_timestamp"), name, row.get("event_bundle_sequence_id"), row.get("event_params")],
        sort_keys=True,
        default=str,
    )
    return {
        "eventId": "fb-" + hashlib.sha256(basis.encode()).hexdigest()[:32],
        "eventType": event_type,
        "userId": user_id,
        "sessionId": str(params.get("ga_session_id") or f"{user_id}-{row.get('event_date', 'session')}"),
        "timestamp": timestamp_ms,
        "eventData": {k: v for k, v in data.items() if v is not None},
        "deviceInfo": {
            k: v
            for k, v in {
                "platform": _FIREBASE_PLATFORMS.get(str(row.get("platform", "")).upper()),
                "appVersion": app_info.get("version"),
                "deviceModel": device.get("mobile_model_name"),
                "timezone": _firebase_timezone(device),
            }.items()
            if v is not None
        },
    }


_NORMALIZERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    NATIVE: normalize_native,
    FIREBASE: normalize_firebase,
    SEGMENT: normalize_segment,
}
FORMATS = tuple(_NORMALIZERS)
