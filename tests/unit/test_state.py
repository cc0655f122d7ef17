"""The hot per-user state: round-trips, stays small, and knows what it has already applied."""

import json

import pytest

from journey.app.stream_batch import UserWork, apply_events
from journey.events.records import Accepted
from journey.interventions.policy import DEFAULT_CATALOG
from journey.settings import Settings
from journey.users.state import STATE_FORMAT, UserState, short_id
from tests.builders import T0, canonical, event, tap


def test_round_trip_in_the_positional_format():
    state = UserState(
        userId="u1", seq="42", risk=12, tz="Europe/Berlin", taps=[[1, 2.0, 3.0, "buy"]], fired={"a|rage_tap": [5, 1]}
    )
    text = state.to_json()
    assert json.loads(text)[0] == STATE_FORMAT and "tz" not in text  # no field names are stored
    assert UserState.from_json("u1", text) == state
    assert UserState.from_json("u1", None) == UserState(userId="u1")


def test_an_item_written_before_a_field_was_added_reads_with_its_default():
    stored = json.loads(UserState(userId="u1", seq="42", risk=12).to_json())
    older = json.dumps(stored[:-2])  # the last two fields (band, contributors) did not exist yet
    newer = json.dumps([*stored, "a field a later release added"])
    assert UserState.from_json("u1", older) == UserState(userId="u1", seq="42", risk=12)
    assert UserState.from_json("u1", newer) == UserState(userId="u1", seq="42", risk=12)


def test_the_keyed_form_of_the_first_release_still_reads():
    keyed = '{"seq":"42","tz":"Europe/Berlin","sess":[1,2],"unknown_later_field":1}'
    assert UserState.from_json("u1", keyed) == UserState(userId="u1", seq="42", tz="Europe/Berlin", sess=[1, 2])


def test_a_state_in_no_known_format_is_an_error_not_a_fresh_start():
    with pytest.raises(ValueError, match="no known format"):
        UserState.from_json("u1", "[99, 1, 2]")


def test_already_applied_compares_sequence_numbers_as_numbers():
    state = UserState(userId="u1")
    state.remember(short_id("e1"), "9")
    assert state.already_applied("9") and state.already_applied("8") and not state.already_applied("10")
    assert state.seen(short_id("e1")) and not state.seen(short_id("e2"))


def test_state_stays_bounded_however_long_the_history():
    """A user struggling five ways every day for a month still fits in two write units."""
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
    from journey.adapters.aws.dynamodb import state_item
    from localrt.memory_aws import write_units

    assert write_units(state_item(state, 30)) <= 2, len(state.to_json())


def test_a_duplicate_does_not_push_older_ids_out_of_the_dedup_window():
    from journey.users.state import RECENT_IDS, UserState, short_id

    state = UserState(userId="u1")
    for n in range(RECENT_IDS):
        state.remember(short_id(f"e{n}"), str(n + 1))
    for n in range(10):  # the newest event, duplicated ten times by a retrying producer
        state.remember(short_id(f"e{RECENT_IDS - 1}"), str(100 + n))
    assert state.seen(short_id("e0")) and len(state.ids) == RECENT_IDS and state.seq == "109"
