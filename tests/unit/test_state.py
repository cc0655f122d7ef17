"""The hot per-user state: round-trips, stays small, and knows what it has already applied."""

from journey.pipeline import UserWork, apply_events
from journey.policy import DEFAULT_CATALOG
from journey.records import Accepted
from journey.settings import Settings
from journey.state import UserState, short_id
from tests.builders import T0, canonical, event, tap


def test_round_trip_and_defaults_are_not_stored():
    state = UserState(userId="u1", seq="42", risk=12, tz="Europe/Berlin")
    text = state.to_json()
    assert "consent" not in text  # defaults are left out
    assert UserState.from_json("u1", text) == state
    assert UserState.from_json("u1", None) == UserState(userId="u1")


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
    from journey.adapters.dynamodb import state_item
    from localrt.memory_aws import write_units

    assert write_units(state_item(state, 30)) <= 2, len(state.to_json())


def test_a_duplicate_does_not_push_older_ids_out_of_the_dedup_window():
    from journey.state import RECENT_IDS, UserState, short_id

    state = UserState(userId="u1")
    for n in range(RECENT_IDS):
        state.remember(short_id(f"e{n}"), str(n + 1))
    for n in range(10):  # the newest event, duplicated ten times by a retrying producer
        state.remember(short_id(f"e{RECENT_IDS - 1}"), str(100 + n))
    assert state.seen(short_id("e0")) and len(state.ids) == RECENT_IDS and state.seq == "109"
