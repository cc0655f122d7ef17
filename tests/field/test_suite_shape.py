"""The field suite keeps its shape: built with the default seed it is large enough, every event is a
valid native event, episodes are well placed, and every class and label meets its target."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from journey.events.model import EVENT_ADAPTER
from tests.field.build_suite import build

EVENT_TYPES = {
    "page_view",
    "screen_view",
    "video_engagement",
    "feature_interaction",
    "struggle_signal",
    "error",
    "help_request",
    "app_lifecycle",
    "search",
}
SIGNALS = {"rage_tap", "repeated_attempts", "error_pattern", "abandonment", "screen_loop", "help_seeking"}
LABEL_KEYS = {"episodeId", "userId", "platform", "appKind", "class", "label", "signalType", "start", "end", "note"}
MINUTE = 60_000


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("field")
    build(out)
    return {"dir": out, "events": _read(out / "events.jsonl"), "labels": _read(out / "labels.jsonl")}


@pytest.fixture(scope="module")
def by_user(suite: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    users: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in suite["events"]:
        users[e["userId"]].append(e)
    return users


def test_it_is_big_enough(suite, by_user):
    assert len(by_user) >= 600
    assert len(suite["events"]) >= 40_000
    platforms = Counter(es[0]["deviceInfo"]["platform"] for es in by_user.values())
    assert set(platforms) == {"iOS", "Android", "Web"} and min(platforms.values()) >= len(by_user) // 4


def test_every_event_is_a_native_event(suite):
    for e in suite["events"]:
        assert e["eventType"] in EVENT_TYPES
        assert e["deviceInfo"]["platform"] in ("iOS", "Android", "Web")
        EVENT_ADAPTER.validate_python(e)


def test_the_stream_is_one_time_ordered_stream_with_unique_ids(suite, by_user):
    stamps = [e["timestamp"] for e in suite["events"]]
    assert stamps == sorted(stamps)
    assert len({e["eventId"] for e in suite["events"]}) == len(suite["events"])
    for events in by_user.values():
        assert events[0]["userContext"]["consent"] == {"inApp": True, "push": True, "messages": True}


def test_labels_follow_the_schema_and_point_at_the_users_events(suite, by_user):
    labels = suite["labels"]
    assert len({x["episodeId"] for x in labels}) == len(labels)
    for x in labels:
        assert set(x) == LABEL_KEYS
        assert x["label"] in ("positive", "hard_negative", "ambiguous")
        assert x["signalType"] in SIGNALS
        assert x["start"] <= x["end"]
        stamps = {e["timestamp"] for e in by_user[x["userId"]]}
        assert x["start"] in stamps and x["end"] in stamps
        assert by_user[x["userId"]][0]["deviceInfo"]["platform"] == x["platform"]


def test_episodes_of_one_person_are_at_least_five_minutes_apart(suite):
    mine: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for x in suite["labels"]:
        mine[x["userId"]].append(x)
    for episodes in mine.values():
        assert 1 <= len(episodes) <= 3
        episodes.sort(key=lambda x: x["start"])
        for a, b in itertools.pairwise(episodes):
            assert b["start"] - a["end"] >= 5 * MINUTE, (a["episodeId"], b["episodeId"])


def test_about_fifteen_percent_of_people_have_no_episode(suite, by_user):
    quiet = len(set(by_user) - {x["userId"] for x in suite["labels"]}) / len(by_user)
    assert 0.10 <= quiet <= 0.20


def test_counts_meet_the_targets(suite):
    labels = suite["labels"]
    positives = Counter(x["signalType"] for x in labels if x["label"] == "positive")
    assert set(positives) == SIGNALS and min(positives.values()) >= 40, positives
    assert sum(x["label"] == "hard_negative" for x in labels) >= 300
    classes = Counter(x["class"] for x in labels)
    assert min(classes.values()) >= 8, classes
    ambiguous = sum(x["label"] == "ambiguous" for x in labels) / len(labels)
    assert 0.03 <= ambiguous <= 0.08
    for cls in (
        "web_clicks",
        "touch_spread",
        "failed_attempts",
        "crashes",
        "abandoned_flows",
        "tab_closed",
        "screen_loops",
        "help_seeking",
        "legit_repeated_presses",
        "brief_exits",
        "one_retry",
        "help_false_friends",
        "duplicate_page_views",
        "ordinary_back_and_forth",
        "recovered_error",
        "long_flow",
    ):
        assert classes[cls] >= 8, cls


def test_whoever_abandons_is_gone_for_hours(suite, by_user):
    for x in suite["labels"]:
        if x["signalType"] == "abandonment" and x["label"] == "positive":
            later = [e["timestamp"] for e in by_user[x["userId"]] if e["timestamp"] > x["end"]]
            assert not later or later[0] - x["end"] >= 3 * 60 * MINUTE, x["episodeId"]


def test_the_same_seed_gives_the_same_files(suite, tmp_path):
    build(tmp_path)
    for name in ("events.jsonl", "labels.jsonl"):
        digest = [hashlib.sha256((d / name).read_bytes()).hexdigest() for d in (suite["dir"], tmp_path)]
        assert digest[0] == digest[1], name
