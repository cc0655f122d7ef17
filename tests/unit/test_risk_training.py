"""Training rows from stored journeys (journey.risk.training): point in time, labels, and the same
history as the stream processor's."""

from __future__ import annotations

import orjson
import pytest

from journey.app.fold import UserWork, _record_signals_and_sends, apply_events, journal_entry
from journey.detection.signals import Severity, SignalType, StruggleSignal
from journey.events.records import Accepted
from journey.interventions.catalog import DEFAULT_CATALOG
from journey.interventions.policy import Outcome
from journey.kernel.clock import DAY_MS, MINUTE_MS
from journey.kernel.ids import short_id
from journey.risk.features import feature_names, feature_values
from journey.risk.history import prune
from journey.risk.training import StoredJourney, choose_vocabulary, churn_label, replay, training_rows
from journey.settings import PolicySettings, Settings
from journey.users.codec import decode_state, encode_state
from journey.users.state import UserState
from tests.builders import T0, canonical, event, send_decision, tap, timer

HOUR = 3_600_000
SETTINGS = Settings(policy=PolicySettings(holdout_percent=0, quiet_hours_start=0, quiet_hours_end=0))


def entry(
    t: int, kind: str = "page_view", feature: str | None = "home", action: str | None = None, session: str = "s1", value=None
):
    return [f"e{t}", t, kind, feature, action, session, value]


def journey(*entries, signals=(), sends=(), user="u1") -> StoredJourney:
    return StoredJourney(user, [list(e) for e in entries], list(signals), list(sends))


def base(user="u1") -> StoredJourney:
    return journey(
        entry(T0, "feature_interaction", "checkout", "start"),
        entry(T0 + HOUR, "error", "checkout", "timeout"),
        entry(T0 + 3 * DAY_MS, "video_engagement", "intro", "complete", "s2", 0.9),
        signals=[T0 + HOUR],
        sends=[T0 + HOUR + 1],
        user=user,
    )


def test_nothing_after_the_cutoff_changes_any_feature():
    cutoff = T0 + 3 * DAY_MS + HOUR
    plain = base()
    later = journey(
        *plain.entries,
        entry(cutoff + 1, "feature_interaction", "checkout", "complete", "s9", 100.0),
        entry(cutoff + DAY_MS, "help_request", "billing", None, "s10"),
        entry(cutoff - 40 * DAY_MS, "page_view", "old", None, "s0"),  # a late event journaled after the cutoff: before it in time
        signals=[*plain.signal_times, cutoff + 5],
        sends=[*plain.send_times, cutoff + 6],
    )
    vocabulary = ("checkout", "billing", "intro")
    assert replay(later, cutoff) == replay(plain, cutoff)
    assert feature_values(replay(later, cutoff), cutoff, vocabulary) == feature_values(replay(plain, cutoff), cutoff, vocabulary)
    assert replay(later, cutoff + DAY_MS) != replay(plain, cutoff + DAY_MS)  # past it they differ


def test_the_churn_label_is_no_activity_in_the_horizon_after_the_cutoff():
    j = journey(entry(T0), entry(T0 + 5 * DAY_MS, "timer", None, "deadline"), entry(T0 + 8 * DAY_MS))
    assert churn_label(j, T0, 7 * DAY_MS) == 1  # only the timer's command in (T0, T0 + 7d]: not activity
    assert churn_label(j, T0, 8 * DAY_MS) == 0  # the horizon's end is included
    assert churn_label(j, T0 + 8 * DAY_MS, DAY_MS) == 1  # the cutoff itself is not after it


def test_the_vocabulary_is_the_features_most_users_used_before_the_cutoff_ties_by_name():
    journeys = [
        journey(entry(T0, feature="plans"), entry(T0 + 1, feature="billing"), user="a"),
        journey(entry(T0, feature="billing"), entry(T0 + 1, feature="zoo"), entry(T0 + 1, "timer", feature="ghost"), user="b"),
        journey(entry(T0, feature="plans"), entry(T0 + 10 * DAY_MS, feature="late"), entry(T0, feature=None), user="c"),
        journey(entry(T0 + 10 * DAY_MS, feature="late"), user="d"),
    ]
    assert choose_vocabulary(journeys, until=T0 + DAY_MS, size=3) == ("billing", "plans", "zoo")
    assert choose_vocabulary(journeys, until=T0 + 20 * DAY_MS, size=4) == ("billing", "late", "plans", "zoo")


def test_training_rows_keep_users_active_in_the_28_days_before_a_cutoff_the_data_covers():
    active = base("active")
    churned = journey(entry(T0, feature="plans"), user="churned")
    long_gone = journey(entry(T0 - 40 * DAY_MS), entry(T0 + 12 * DAY_MS), user="long_gone")
    horizon = 7 * DAY_MS
    cutoffs = [T0 + 4 * DAY_MS, T0 + 6 * DAY_MS]  # the data ends at T0 + 12d: the second's horizon is not covered
    rows, labels, users, at = training_rows([active, churned, long_gone], cutoffs, horizon, ("checkout",))
    assert (users, labels, at) == (["active", "churned"], [1, 1], [T0 + 4 * DAY_MS, T0 + 4 * DAY_MS])
    long_gone_later = journey(*long_gone.entries, entry(T0 + 20 * DAY_MS), user="long_gone")
    rows, labels, users, at = training_rows([active, churned, long_gone_later], cutoffs, horizon, ("checkout",))
    assert set(zip(users, labels, at, strict=True)) == {
        ("active", 1, T0 + 4 * DAY_MS),
        ("active", 1, T0 + 6 * DAY_MS),
        ("churned", 1, T0 + 4 * DAY_MS),
        ("churned", 1, T0 + 6 * DAY_MS),
    }  # long_gone: no activity in the 28 days before either cutoff, though active after
    names = feature_names(("checkout",))
    assert all(len(row) == len(names) for row in rows)
    first = dict(zip(names, rows[0], strict=True))
    assert first["feature:checkout:28d"] == 2 and first["struggle_signal_count_7d"] == 1 and first["interventions_sent_7d"] == 1


def test_training_rows_of_some_users_judge_the_horizon_by_where_the_whole_export_ends():
    churned = journey(entry(T0, feature="plans"), user="churned")
    cutoff, horizon = T0 + DAY_MS, 7 * DAY_MS
    assert training_rows([churned], [cutoff], horizon, ()) == ([], [], [], [])  # its own data ends before the horizon
    _rows, labels, users, at = training_rows([churned], [cutoff], horizon, (), data_ends_at=cutoff + horizon)
    assert (labels, users, at) == ([1], ["churned"], [cutoff])
    assert training_rows([churned], [cutoff], horizon, (), data_ends_at=cutoff + horizon - 1)[0] == []


def test_training_rows_refuse_a_horizon_that_is_not_positive():
    try:
        training_rows([base()], [T0], 0, ())
    except ValueError as exc:
        assert "horizon" in str(exc)
    else:
        raise AssertionError("a zero horizon was accepted")


# --- the same history as the stream processor's -------------------------------------------------------


def journey_batches() -> list[list[dict]]:
    """Four batches of one user's events over three weeks: flows, rage taps (signals and sends), video,
    errors, help, a late event from another day, a deadline timer, several sessions and features."""
    day = DAY_MS
    return [
        [
            event("app_lifecycle", t=T0, session="a", action="session_start"),
            event(t=T0 + 1000, session="a", feature="booking", action="start", progress=10),
            tap(T0 + 2000, feature="booking"),
            tap(T0 + 2200, feature="booking"),
            tap(T0 + 2400, feature="booking"),
            event(
                "video_engagement",
                t=T0 + 60_000,
                session="a",
                feature="intro",
                videoId="v1",
                action="complete",
                completionRate=0.75,
            ),
            event("app_lifecycle", t=T0 + 70_000, session="a", action="background"),
        ],
        [
            timer(T0 + 31 * MINUTE_MS),
            event("screen_view", t=T0 + 2 * day, session="b", screen="plans"),
            event("error", t=T0 + 2 * day + 500, session="b", feature="upload", errorType="timeout"),
            event("help_request", t=T0 + 2 * day + 900, session="b", screen="help"),
            event("search", t=T0 + 2 * day + 1200, session="b", query="refund"),
        ],
        [
            event(t=T0 + 9 * day, session="c", feature="billing", action="start"),
            event(t=T0 + 9 * day + 5000, session="c", feature="billing", action="complete", progress=55.5),
            event("page_view", t=T0 + 3 * day, session="b", feature="late"),  # late: journaled, profiled, not detected
            tap(T0 + 9 * day + 9000, feature="pay"),
            tap(T0 + 9 * day + 9200, feature="pay"),
            tap(T0 + 9 * day + 9400, feature="pay"),
        ],
        [
            event("struggle_signal", t=T0 + 20 * day, session="d", feature="upload", action="rage_tap"),
            *[event(t=T0 + 20 * day + n * 1000, session="d", feature=f"f{n}") for n in range(1, 10)],
        ],
    ]


def test_the_history_the_processor_keeps_is_the_one_replayed_from_what_it_stored():
    """Serving and training parity: events folded through apply_events (batch by batch, with the state
    stored and read back between batches) give the history that replaying the journal entries, signals
    and sends the same run wrote gives."""
    state = UserState(userId="u1")
    stored_entries: list[list] = []
    signal_times: list[int] = []
    send_times: list[int] = []
    sequence = 0
    for batch in journey_batches():
        records = []
        for raw in batch:
            sequence += 1
            records.append(Accepted(canonical({**raw, "userId": "u1"}), str(sequence), raw["timestamp"] / 1000))
        work = UserWork(state=state, records=records)
        apply_events(work, SETTINGS, DEFAULT_CATALOG)
        stored_entries += [orjson.loads(orjson.dumps(e)) for _, e in work.journal]  # as the journal item stores them
        signal_times += [s.detectedAt for s in work.signals]
        send_times += [d.decidedAt for d in work.decisions if d.outcome is Outcome.SEND]
        state = decode_state("u1", encode_state(state))  # the stored state, read back
    assert signal_times and send_times, "the run must detect and send, or the test proves nothing"
    assert any(e[2] == "timer" for e in stored_entries) and len({e[5] for e in stored_entries}) >= 4
    stored = StoredJourney("u1", stored_entries, signal_times, send_times)
    assert state.activity == replay(stored, T0 + 365 * DAY_MS)
    now = state.last_event_at
    vocabulary = choose_vocabulary([stored], now)
    assert feature_values(state.activity, now, vocabulary) == feature_values(replay(stored, now), now, vocabulary)


def test_the_journal_entry_carries_the_session_fingerprint_and_the_value():
    video = canonical(event("video_engagement", session="abc", feature="intro", completionRate=0.4, progress=80))
    step = canonical(event(session="abc", feature="booking", action="step", progress=30))
    plain = canonical(event("page_view", session="abc", screen="home"))
    assert journal_entry(Accepted(video, "1", 0.0))[3:] == ["intro", None, short_id("abc"), 0.4]
    assert journal_entry(Accepted(step, "2", 0.0))[3:] == ["booking", "step", short_id("abc"), 30]
    assert journal_entry(Accepted(plain, "3", 0.0))[3:] == [None, "home", short_id("abc"), None]


def test_a_gone_quiet_signal_is_not_counted_as_struggle_but_its_send_is_a_send():
    """The system's re-engagement signal is about the model's own score: counting it as struggle would
    feed the score back into the model's input."""
    gone_quiet = getattr(SignalType, "GONE_QUIET", None)
    if gone_quiet is None:
        pytest.skip("this checkout has no gone_quiet signal type")
    state = UserState(userId="u1")
    work = UserWork(state=state, records=[Accepted(canonical(event(t=T0, feature="plans")), "1", T0 / 1000)])
    apply_events(work, SETTINGS, DEFAULT_CATALOG)
    quiet = StruggleSignal("u1", "quiet", gone_quiet, Severity.HIGH, T0 + 3 * DAY_MS, "timer-1", "silent_3d")
    rage = StruggleSignal("u1", "pay", SignalType.RAGE_TAP, Severity.HIGH, T0 + 1000, "e1", "rage")
    later = UserWork(
        state=state, records=work.records, signals=[quiet, rage], decisions=[send_decision(decided_at=T0 + 3 * DAY_MS)]
    )
    _record_signals_and_sends(later)
    prune(state.activity, state.last_event_at)  # as the fold does next
    stored = [entry(T0, "feature_interaction", "plans", None, short_id("s1"))]
    replayed = replay(StoredJourney("u1", stored, [T0 + 1000], [T0 + 3 * DAY_MS]), T0 + 3 * DAY_MS)
    assert state.activity == replayed
