"""The activity history (journey.risk.history) and the named features computed from it
(journey.risk.features.feature_values): what is counted where, what is bounded, what commutes."""

from __future__ import annotations

import copy
from itertools import pairwise

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from journey.kernel.clock import DAY_MS, MINUTE_MS
from journey.kernel.ids import bounded_key
from journey.risk import history
from journey.risk.features import BASE_FEATURES, feature_names, feature_values
from journey.risk.history import FEATURES_CAP, prune, record_event, record_send, record_signal
from tests.builders import T0

DAY0 = T0 // DAY_MS


def fold(*events: tuple) -> list:
    activity: list = []
    for e in events:
        record_event(activity, *e)
    return activity


def ev(t: int, kind: str = "page_view", feature: str | None = None, action: str | None = None, session: str = "s1", value=None):
    return (t, kind, feature, action, session, value)


def day_events(row: list) -> int:
    return row[history.EVENTS] if row else 0


def named(activity: list, now: int, vocabulary: tuple[str, ...] = ()) -> dict:
    return dict(zip(feature_names(vocabulary), feature_values(activity, now, vocabulary), strict=True))


def test_what_is_not_activity_leaves_an_empty_history_empty():
    activity: list = []
    for kind in ("timer", "command", "identify"):
        record_event(activity, T0, kind, "checkout", "tap", "s1", None)
    assert activity == []


def test_the_first_event_makes_a_fresh_history_with_one_session_and_no_gap():
    activity = fold(ev(T0 + 5, "feature_interaction", "checkout", "start"))
    assert activity[history.FIRST] == activity[history.LAST] == T0 + 5
    assert activity[history.SESSION] == "s1" and activity[history.SESSION_START] == T0 + 5
    assert activity[history.LAST_GAP] == -1
    (row,) = activity[history.DAYS]
    assert activity[history.FIRST_DAY] == DAY0 and row[history.EVENTS] == 1 and row[history.SESSIONS] == 1
    assert row[history.INTERACTIONS] == 1 and row[history.FLOWS_STARTED] == 1 and row[history.GAP_MINUTES] == 0
    assert activity[history.FEATURES] == {"checkout": [T0 + 5, DAY0, 1]}


def test_a_new_session_id_starts_a_session_with_the_gap_since_the_newest_activity():
    activity = fold(ev(T0), ev(T0 + 10 * MINUTE_MS), ev(T0 + 70 * MINUTE_MS, session="s2"), ev(T0 + 71 * MINUTE_MS, session="s2"))
    row = activity[history.DAYS][0]
    assert row[history.SESSIONS] == 2 and row[history.GAP_MINUTES] == 60
    assert activity[history.SESSION] == "s2" and activity[history.SESSION_START] == T0 + 70 * MINUTE_MS
    assert activity[history.LAST_GAP] == 60


def test_each_event_type_has_its_count_and_flows_videos_and_progress_theirs():
    activity = fold(
        ev(T0, "page_view"),
        ev(T0 + 1, "screen_view"),
        ev(T0 + 2, "feature_interaction", "booking", "start"),
        ev(T0 + 3, "feature_interaction", "booking", "complete", value=40.0),
        ev(T0 + 4, "video_engagement", "onboarding", "complete", value=0.8),
        ev(T0 + 5, "video_engagement", "onboarding", "play"),
        ev(T0 + 6, "video_engagement", value=0.45),
        ev(T0 + 7, "search", value=None),
        ev(T0 + 8, "error", "upload", "timeout"),
        ev(T0 + 9, "help_request"),
        ev(T0 + 10, "struggle_signal", "upload", "rage_tap"),
        ev(T0 + 11, "app_lifecycle", action="background", value=25.0),
    )
    row = activity[history.DAYS][0]
    expected = {
        history.EVENTS: 12,
        history.VIEWS: 2,
        history.INTERACTIONS: 2,
        history.VIDEOS: 3,
        history.SEARCHES: 1,
        history.ERRORS: 1,
        history.HELP: 1,
        history.CLIENT_STRUGGLES: 1,
        history.LIFECYCLE: 1,
        history.FLOWS_STARTED: 1,
        history.FLOWS_DONE: 1,
        history.VIDEO_REPORTS: 2,
        history.VIDEO_SUM: 1250,
        history.MAX_PROGRESS: 400,
    }
    assert {column: row[column] for column in expected} == expected
    assert activity[history.PROGRESS] == 400
    values = named(activity, T0 + 12)
    assert values["video_engagement_score"] == 0.625 and values["feature_completion_rate"] == 1.0
    assert values["application_progress_percentage"] == 40.0 and values["support_interaction_count"] == 1


def test_days_are_kept_in_day_order_even_for_a_late_event():
    activity = fold(ev(T0 + 2 * DAY_MS), ev(T0 + 3 * DAY_MS), ev(T0 + 5), ev(T0 + DAY_MS + 5, session="s2"))
    assert activity[history.FIRST_DAY] == DAY0 and [day_events(row) for row in activity[history.DAYS]] == [1, 1, 1, 1]
    assert activity[history.LAST] == T0 + 3 * DAY_MS
    assert activity[history.DAYS][1][history.SESSIONS] == 1  # the late event's new session is counted on its day
    record_event(activity, T0 + 6 * DAY_MS, "page_view", None, None, "s2", None)
    prune(activity, T0 + 6 * DAY_MS)
    assert [day_events(row) for row in activity[history.DAYS]] == [1, 1, 1, 1, 0, 0, 1]
    assert activity[history.DAYS][4:6] == [[], []]  # a day with nothing is an empty row


def test_an_event_more_than_28_days_older_than_the_newest_is_ignored():
    activity = fold(ev(T0 + 40 * DAY_MS))
    before = copy.deepcopy(activity)
    record_event(activity, T0 + 12 * DAY_MS, "page_view", "checkout", None, "s-old", None)
    assert activity == before
    record_event(activity, T0 + 13 * DAY_MS, "page_view", None, None, "s1", None)  # the 28th day back: kept
    assert activity[history.FIRST_DAY] == DAY0 + 13 and len(activity[history.DAYS]) == 28


def test_only_the_8_features_whose_newest_event_is_latest_are_kept_and_names_are_bounded():
    long_name = "ф" * 200
    activity = fold(*(ev(T0 + n * 1000, feature=f"f{n}") for n in range(FEATURES_CAP)), ev(T0 + 1, feature=""))
    record_event(activity, T0 + 9000, "page_view", "f0", None, "s1", None)  # f0 used again: f1 is now the oldest
    record_event(activity, T0 + 10_000, "page_view", long_name, None, "s1", None)
    features = activity[history.FEATURES]
    assert len(features) == FEATURES_CAP and "f1" not in features and "f0" in features
    assert bounded_key(long_name) in features and len(bounded_key(long_name).encode()) <= 128
    assert "" not in features


def test_a_feature_counts_per_day_including_a_day_before_its_first():
    activity = fold(ev(T0 + 2 * DAY_MS, feature="plans"), ev(T0 + 4 * DAY_MS, feature="plans"), ev(T0, feature="plans"))
    assert activity[history.FEATURES]["plans"] == [T0 + 4 * DAY_MS, DAY0, 1, 0, 1, 0, 1]
    values = named(activity, T0 + 4 * DAY_MS, ("plans", "billing"))
    assert [values[f"feature:plans:{d}d"] for d in (1, 7, 28)] == [1, 3, 3]
    assert [values[f"feature:billing:{d}d"] for d in (1, 7, 28)] == [0, 0, 0]


def test_signals_and_sends_are_counted_on_their_day_in_any_order():
    one = fold(ev(T0), ev(T0 + 2 * DAY_MS))
    other = copy.deepcopy(one)
    for t in (T0 + 5, T0 + DAY_MS, T0 + 2 * DAY_MS):
        record_signal(one, t)
    record_send(one, T0 + 6)
    record_send(other, T0 + 6)
    for t in (T0 + 2 * DAY_MS, T0 + DAY_MS, T0 + 5):
        record_signal(other, t)
    assert one == other
    assert [row[history.SIGNALS] for row in one[history.DAYS]] == [1, 1, 1]  # the signal made day 1's row
    assert one[history.DAYS][1][history.EVENTS] == 0
    values = named(one, T0 + 2 * DAY_MS)
    assert values["struggle_signal_count_7d"] == 3 and values["struggle_signals_1d"] == 1
    assert values["interventions_sent_7d"] == 1 and values["events_7d"] == 2 and values["active_days_7d"] == 2


def test_prune_drops_old_days_and_stores_the_shortest_form():
    activity = fold(ev(T0, feature="plans"), ev(T0 + 30 * DAY_MS, feature="plans"), ev(T0 + 31 * DAY_MS, feature="help"))
    prune(activity, T0 + 31 * DAY_MS)
    assert activity[history.FIRST_DAY] == DAY0 + 30 and len(activity[history.DAYS]) == 2
    assert all(row[-1] for row in activity[history.DAYS]), "trailing zeros are not stored"
    assert activity[history.FEATURES]["plans"] == [T0 + 30 * DAY_MS, DAY0 + 30, 1]
    prune(activity, T0 + 60 * DAY_MS)
    assert activity[history.DAYS] == [] and activity[history.FIRST_DAY] == 0 and activity[history.FEATURES]["plans"][2:] == []
    assert named(activity, T0 + 60 * DAY_MS)["events_28d"] == 0


# a user's events as (day, minute, kind, feature, session) plus signals and sends (day, minute)
_events = st.lists(
    st.tuples(
        st.one_of(st.integers(0, 45), st.integers(0, 150)),  # now and then back after months
        st.integers(0, 1439),
        st.sampled_from(["page_view", "feature_interaction", "video_engagement", "error", "timer", "app_lifecycle"]),
        st.sampled_from(["", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]),
        st.sampled_from(["s1", "s2", "s3"]),
    ),
    min_size=1,
    max_size=60,
)
_marks = st.lists(st.tuples(st.integers(0, 150), st.integers(0, 1439)), max_size=8)


@settings(max_examples=150, deadline=None)
@given(_events, _marks, _marks, st.lists(st.integers(1, 59), max_size=4))
def test_folding_in_batches_and_pruning_each_equals_folding_all_then_pruning_once(events, signals, sends, cuts):
    """What makes training rows equal to serving: the processor prunes at each batch's end and
    records signals and sends after the batch's events; the replay does each once, at the end."""
    stamped = [
        (T0 + day * DAY_MS + minute * MINUTE_MS, kind, feature, "tap", session, 0.5)
        for day, minute, kind, feature, session in events
    ]
    signal_times = [T0 + day * DAY_MS + minute * MINUTE_MS for day, minute in signals]
    send_times = [T0 + day * DAY_MS + minute * MINUTE_MS for day, minute in sends]
    bounds = sorted({0, len(stamped), *(c for c in cuts if c < len(stamped))})
    batched: list = []
    newest = 0
    for start, end in pairwise(bounds):
        for e in stamped[start:end]:
            record_event(batched, *e)
            if e[1] != "timer":
                newest = max(newest, e[0])
        # this batch's signals and sends: those stamped within its events' span (any split will do)
        for t in signal_times[start * len(signal_times) // len(stamped) : end * len(signal_times) // len(stamped)]:
            record_signal(batched, t)
        for t in send_times[start * len(send_times) // len(stamped) : end * len(send_times) // len(stamped)]:
            record_send(batched, t)
        prune(batched, newest)
    once: list = []
    for e in stamped:
        record_event(once, *e)
    for t in reversed(signal_times):
        record_signal(once, t)
    for t in send_times:
        record_send(once, t)
    if once:
        prune(once, once[history.LAST])
    assert batched == once
    assert orjson.loads(orjson.dumps(once)) == once  # stored as JSON unchanged


def test_feature_windows_count_only_up_to_now():
    activity = fold(ev(T0), ev(T0 + 8 * DAY_MS, session="s2"), ev(T0 + 10 * DAY_MS, session="s3"))
    record_signal(activity, T0 + 10 * DAY_MS)
    at_day_8 = named(activity, T0 + 8 * DAY_MS + 1)
    assert at_day_8["events_28d"] == 2 and at_day_8["struggle_signals_28d"] == 0 and at_day_8["sessions_7d"] == 1
    assert at_day_8["session_frequency_trend"] == 1 - 1  # one session in days 2..8, one in the 7 before (day 0 is 8 back)
    at_day_10 = named(activity, T0 + 10 * DAY_MS + 12 * 3_600_000)
    assert at_day_10["events_1d"] == 1 and at_day_10["events_7d"] == 2 and at_day_10["events_28d"] == 3
    assert at_day_10["days_since_last_activity"] == 0.5 and at_day_10["days_since_first_activity"] == 10.5
    assert at_day_10["days_since_last_login"] == 2.0 and at_day_10["mean_days_between_sessions_28d"] == 5.0
    assert at_day_10["active_days_28d"] == 3 and at_day_10["sessions_28d"] == 3


def test_each_event_type_is_counted_over_1_7_and_28_days():
    kinds = ("page_view", "feature_interaction", "app_lifecycle", "video_engagement", "search", "error", "help_request")
    kinds += ("struggle_signal",)
    names = ("views", "interactions", "lifecycle", "video_events", "searches", "errors", "help_requests", "client_struggles")
    activity = fold(
        *(ev(T0, kind) for kind in kinds),  # day 0: 20 days before now
        *(ev(T0 + 15 * DAY_MS, kind) for kind in kinds),  # 5 days before
        *(ev(T0 + 20 * DAY_MS + i, kind) for i, kind in enumerate(kinds)),  # today
    )
    values = named(activity, T0 + 20 * DAY_MS + 3_600_000)
    for name in names:
        assert [values[f"{name}_{days}d"] for days in (1, 7, 28)] == [1, 2, 3], name


def test_an_empty_history_has_zero_counts_and_missing_times():
    values = named([], T0, ("plans",))
    assert values["events_28d"] == 0 and values["feature:plans:28d"] == 0
    assert values["days_since_last_activity"] is None and values["video_engagement_score"] is None
    assert values["feature_completion_rate"] is None and values["application_progress_percentage"] is None


def test_the_names_are_the_seeds_seven_then_the_rest_then_three_per_vocabulary_feature():
    seed = (
        "struggle_signal_count_7d",
        "video_engagement_score",
        "feature_completion_rate",
        "session_frequency_trend",
        "support_interaction_count",
        "days_since_last_login",
        "application_progress_percentage",
    )
    assert BASE_FEATURES[:7] == seed and len(set(BASE_FEATURES)) == len(BASE_FEATURES)
    assert 45 <= len(BASE_FEATURES) <= 55
    assert feature_names(("a",))[-3:] == ("feature:a:1d", "feature:a:7d", "feature:a:28d")
    assert len(feature_values([], T0, ("a", "b"))) == len(BASE_FEATURES) + 6


def _heavy_user() -> list:
    """Active every day of 28 on 8 features, four sessions a day, signals and sends every day."""
    activity: list = []
    kinds = ["page_view", "feature_interaction", "video_engagement", "app_lifecycle", "search", "error", "help_request"]
    for day in range(28):
        for session in range(4):
            for n in range(30):
                t = T0 + day * DAY_MS + session * 3 * 3_600_000 + n * 20_000
                kind = kinds[(day + n) % len(kinds)]
                value = 0.37 if kind == "video_engagement" else (n * 3.3 if n % 7 == 0 else None)
                record_event(
                    activity, t, kind, f"feature-{n % 8}", ["tap", "start", "complete"][n % 3], f"{day}-{session}", value
                )
        record_signal(activity, T0 + day * DAY_MS + 5)
        record_send(activity, T0 + day * DAY_MS + 7)
    prune(activity, T0 + 27 * DAY_MS + 20 * 3_600_000)
    return activity


def test_a_heavy_users_history_stays_under_3_kb_of_the_state_item():
    activity = _heavy_user()
    assert len(activity[history.DAYS]) == 28 and len(activity[history.FEATURES]) == 8
    assert len(orjson.dumps(activity)) < 3 * 1024
