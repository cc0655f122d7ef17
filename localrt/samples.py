"""Writes the sample files under samples/: native events, the same events as Firebase / GA4 BigQuery
export rows, and a native file with malformed lines mixed in.

    python -m localrt.samples [--users 40] [--out samples]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from localrt.simulator import GroundTruth, make_population, user_journey

T0 = 1_793_491_200_000  # 2026-11-01T00:00:00Z

_TO_FIREBASE = {
    ("screen_view", None): "screen_view",
    ("page_view", None): "page_view",
    ("error", None): "app_exception",
    ("video_engagement", None): "video_progress",
    ("search", None): "search",
    ("help_request", None): "help_request",
    ("app_lifecycle", "session_start"): "session_start",
    ("app_lifecycle", "background"): "app_background",
}


def native_events(users: int, seed: int) -> list[dict]:
    truth = GroundTruth()
    events = []
    for i, user in enumerate(make_population(users, seed)):
        for burst in user_journey(user, random.Random(seed + i), truth, T0, 14, lambda u, f: False):
            events.extend(burst.events)
    return sorted(events, key=lambda e: e["timestamp"])


def _param(key: str, value) -> dict:
    if isinstance(value, bool) or value is None:
        return {"key": key, "value": {"string_value": str(value)}}
    if isinstance(value, int):
        return {"key": key, "value": {"int_value": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"double_value": value}}
    return {"key": key, "value": {"string_value": str(value)}}


def to_firebase(event: dict) -> dict:
    """The export row Firebase would write for this event (GA4 BigQuery export schema)."""
    data = event["eventData"]
    name = _TO_FIREBASE.get((event["eventType"], data.get("action") if event["eventType"] == "app_lifecycle" else None))
    if name is None:
        name = "tap" if data.get("action") == "tap" else (data.get("action") or event["eventType"])
    params = [_param("ga_session_id", event["sessionId"])]
    mapping = {
        "feature": "feature",
        "screen": "firebase_screen",
        "target": "target",
        "targetType": "target_type",
        "x": "x",
        "y": "y",
        "videoId": "video_id",
        "attemptCount": "attempt_count",
        "errorType": "error_type",
        "query": "search_term",
        "progress": "progress",
    }
    for source, target in mapping.items():
        if data.get(source) is not None:
            params.append(_param(target, data[source]))
    if data.get("completionRate") is not None:
        params.append(_param("video_percent", round(data["completionRate"] * 100)))
    if event["eventType"] == "feature_interaction" and name != "tap":
        params.append(_param("action", data.get("action")))
    offsets = {"UTC+05:30": 19800, "UTC-03:00": -10800}
    return {
        "event_date": "20261101",
        "event_timestamp": str(event["timestamp"] * 1000),
        "event_name": name,
        "event_params": params,
        "user_pseudo_id": event["userId"],
        "platform": event["deviceInfo"]["platform"].upper(),
        "device": {
            "category": "mobile",
            "mobile_model_name": "Pixel 9",
            "time_zone_offset_seconds": offsets.get(event["deviceInfo"]["timezone"], 0),
        },
        "app_info": {"id": "com.example.journey", "version": event["deviceInfo"]["appVersion"]},
    }


MALFORMED_LINES = (
    "{this is not json",
    '{"eventType": "feature_interaction", "userId": "u-bad", "sessionId": "s", "timestamp": "last tuesday"}',
    '{"eventType": "teleport", "userId": "u-bad", "sessionId": "s", "timestamp": 1793491200000}',
    '["a", "list", "not", "an", "object"]',
    '{"eventType": "error", "userId": "", "sessionId": "s", "timestamp": 1793491200000}',
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, default=Path("samples"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    events = native_events(args.users, args.seed)
    (args.out / "native_events.jsonl").write_text("".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events))
    (args.out / "firebase_export.jsonl").write_text(
        "".join(json.dumps(to_firebase(e), separators=(",", ":")) + "\n" for e in events)
    )
    mixed = [json.dumps(e, separators=(",", ":")) for e in events[:300]]
    for index, bad in enumerate(MALFORMED_LINES):
        mixed.insert(40 * (index + 1), bad)
    (args.out / "native_with_malformed.jsonl").write_text("\n".join(mixed) + "\n")
    print(
        f"wrote {len(events)} events to {args.out}/native_events.jsonl and firebase_export.jsonl; {len(mixed)} lines to native_with_malformed.jsonl"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
