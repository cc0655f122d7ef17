"""The hot per-user state: round-trips, keeps its stored layout, stays small, and knows what it has
already applied (the exactly-once rule, as production runs it)."""

import json
from dataclasses import fields
from pathlib import Path

import pytest

from journey.adapters.aws.codecs.user_state import state_from_item, state_item
from journey.app.fold import UserWork, apply_events
from journey.events.records import Accepted
from journey.interventions.catalog import DEFAULT_CATALOG
from journey.settings import Settings
from journey.users.codec import STATE_FORMAT, STATE_LAYOUT, decode_state, encode_state
from journey.users.state import RECENT_IDS, UserState
from localrt.memory_aws import write_units
from tests.builders import T0, canonical, event, tap

GOLDEN = Path(__file__).parent.parent / "fixtures" / "user_state_item_format1.json"

# The stored order of format 1, as items already in tables have it. Position is meaning: a field
# may only be appended (to UserState, and here).
FORMAT_1_LAYOUT = (
    "applied_sequence", "recent_event_ids", "timezone", "consent", "push_endpoint", "segment", "first_event_at",
    "last_event_at", "session", "session_starts", "days_between_sessions", "struggle_times", "support_contact_times",
    "flows_started", "flows_done", "video_completion", "videos_watched", "progress", "taps", "errors", "screens",
    "open_flows", "last_fired", "current_feature", "send_times", "feature_cooldowns", "open_episodes", "risk_score",
    "risk_band", "risk_contributors",
    "shard_checkpoints",  # appended when sequence numbers became per shard
)  # fmt: skip


def accepted(event_id: str, sequence: int) -> Accepted:
    return Accepted(canonical({**event(), "eventId": event_id}), str(sequence), 0.0)


def test_fields_are_only_ever_appended_to_the_stored_layout():
    assert STATE_LAYOUT[: len(FORMAT_1_LAYOUT)] == FORMAT_1_LAYOUT, (
        "a field was inserted, removed or moved: append new fields at the end"
    )
    assert [f.name for f in fields(UserState)][1:] == list(STATE_LAYOUT)


def test_the_golden_item_written_by_an_earlier_release_reads_field_by_field():
    item = json.loads(GOLDEN.read_text())
    state = state_from_item(item)
    assert state == UserState(
        userId="user-golden-1",
        applied_sequence="49590338271490256608559692538361571095921575989136588898",
        recent_event_ids=["0a1b2c3d", "4e5f6a7b"],
        timezone="Europe/Berlin",
        consent=[True, True, False],
        push_endpoint="arn:aws:sns:eu-west-1:123456789012:endpoint/GCM/app/0f1e",
        segment="active_user",
        first_event_at=1793491200000,
        last_event_at=1793577600000,
        session="9a8b7c6d",
        session_starts=[1793491200000, 1793577000000],
        days_between_sessions=0.993,
        struggle_times=[1793577500000],
        support_contact_times=[1793577400000],
        flows_started=4,
        flows_done=3,
        video_completion=0.75,
        videos_watched=2,
        progress=60.0,
        taps=[[1793577590000, 120.0, 340.5, "pay_button"]],
        errors=[[1793577580000, "checkout", "card_declined"]],
        screens=[[1793577570000, "cart"]],
        open_flows={"checkout": 1793577560000},
        last_fired={"checkout|rage_tap": [1793577590000, 2]},
        current_feature="checkout",
        send_times=[1793577595000],
        feature_cooldowns={"checkout": 1793577595000},
        open_episodes={"checkout": ["s-0011223344556677889a", "rage_tap", 1793577595000, "i-aabbccddeeff00112233", 0]},
        risk_score=42,
        risk_band="MEDIUM",
        risk_contributors=[["struggle_signal_count_7d", 3.12], ["session_frequency_trend", 2.0]],
    )
    # written back byte for byte, with the fields added since (appended at the end) at their defaults
    written = state_item(state, int(item["ttl"]["N"]))
    assert written == {**item, "st": {"S": item["st"]["S"][:-1] + ',{},0,0,{},"",0,{},{},[],[],0,"",0]'}}
    assert state.checkpoint("shardId-000000000000") == state.applied_sequence  # its one checkpoint serves its shard


def test_round_trip_in_the_positional_format():
    state = UserState(
        userId="u1",
        applied_sequence="42",
        risk_score=12,
        timezone="Europe/Berlin",
        taps=[[1, 2.0, 3.0, "buy"]],
        last_fired={"a|rage_tap": [5, 1]},
    )
    text = encode_state(state)
    assert json.loads(text)[0] == STATE_FORMAT and "timezone" not in text  # no field names are stored
    assert decode_state("u1", text) == state
    assert decode_state("u1", None) == UserState(userId="u1")


def test_an_item_written_before_a_field_was_added_reads_with_its_default():
    stored = json.loads(encode_state(UserState(userId="u1", applied_sequence="42", risk_score=12)))
    older = json.dumps(stored[:-2])  # the last two fields (band, contributors) did not exist yet
    newer = json.dumps([*stored, "a field a later release added"])
    assert decode_state("u1", older) == UserState(userId="u1", applied_sequence="42", risk_score=12)
    assert decode_state("u1", newer) == UserState(userId="u1", applied_sequence="42", risk_score=12)


def test_the_keyed_form_of_the_first_release_still_reads():
    keyed = '{"seq":"42","tz":"Europe/Berlin","sess":[1,2],"unknown_later_field":1}'
    assert decode_state("u1", keyed) == UserState(
        userId="u1", applied_sequence="42", timezone="Europe/Berlin", session_starts=[1, 2]
    )


def test_a_state_in_no_known_format_is_an_error_not_a_fresh_start():
    with pytest.raises(ValueError, match="no known format"):
        decode_state("u1", "[99, 1, 2]")


def test_admit_compares_sequence_numbers_as_numbers():
    state = UserState(userId="u1")
    assert state.admit([accepted("e1", 9)]).fresh
    admitted = state.admit([accepted("e0", 8), accepted("e1b", 9), accepted("e2", 10)])
    assert [r.event.eventId for r in admitted.fresh] == ["e2"] and admitted.redelivered == 2
    assert state.checkpoint("") == "10"
    # "10" < "9" as text, 10 > 9 as numbers: a record at "9" is still a redelivery
    assert state.admit([accepted("e3", 9)]) == ([], 1, 0)


def test_admit_drops_a_producer_duplicate_by_event_id_and_still_moves_the_sequence_on():
    state = UserState(userId="u1")
    admitted = state.admit([accepted("e1", 1), accepted("e1", 2), accepted("e2", 3)])
    assert [r.event.eventId for r in admitted.fresh] == ["e1", "e2"] and admitted.duplicates == 1
    assert state.checkpoint("") == "3"


def test_state_stays_bounded_however_long_the_history():
    """A user struggling five ways every day for a month still fits in three write units (two before the
    activity history the trained exit-risk model reads: 1.1 KB of it for this user, ~0.6 KB for a typical one)."""
    state = UserState(userId="user-000001")
    events = []
    for day in range(30):
        base = T0 + day * 86_400_000
        events += [event("app_lifecycle", action="session_start", t=base, session=f"s{day}")]
        events += [{**tap(base + 1000 + i * 300), "sessionId": f"s{day}"} for i in range(4)]
        events += [event("error", feature="upload", t=base + 5000 + i * 1000, session=f"s{day}") for i in range(3)]
        events += [event("screen_view", screen="plans", t=base + 20_000 + i * 2000, session=f"s{day}") for i in range(4)]
        events += [event(feature="booking", action="start", t=base + 40_000, session=f"s{day}")]
        events += [event("app_lifecycle", action="background", t=base + 60_000, session=f"s{day}")]
    work = UserWork(state=state, records=[Accepted(canonical(e), str(n + 1), 0.0) for n, e in enumerate(events)])
    apply_events(work, Settings(), DEFAULT_CATALOG)
    assert work.signals and work.decisions
    assert write_units(state_item(state, 0)) <= 3, len(encode_state(state))


def test_a_duplicate_does_not_push_older_ids_out_of_the_dedup_window():
    state = UserState(userId="u1")
    state.admit([accepted(f"e{n}", n + 1) for n in range(RECENT_IDS)])
    # the newest event, duplicated ten times by a retrying producer
    admitted = state.admit([accepted(f"e{RECENT_IDS - 1}", 100 + n) for n in range(10)])
    assert admitted.duplicates == 10 and state.checkpoint("") == "109"
    assert len(state.recent_event_ids) == RECENT_IDS
    assert not state.admit([accepted("e0", 200)]).fresh  # the oldest id is still remembered
