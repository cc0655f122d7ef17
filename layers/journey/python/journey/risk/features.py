"""The exit-risk feature vectors, by name.

:class:`RiskFeatures`: the seed's seven, scaled to 0..1 (1 is the riskiest), computed from the user's
state for the points model (:mod:`journey.risk.points`). :func:`feature_names` and
:func:`feature_values`: the trained model's raw named features, computed from the activity history
(:mod:`journey.risk.history`), the same code for training rows and for serving."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import zip_longest
from typing import Any, NamedTuple

from journey.kernel.clock import DAY_MS
from journey.risk import history
from journey.users.state import UserState
from journey.video.intelligence import overall_interest

_WEEK = 7 * DAY_MS


class RiskFeatures(NamedTuple):
    struggle_signal_count_7d: float  # struggle signals in the last 7 days, 8 or more = 1
    session_frequency_trend: float  # drop in sessions this week against last week
    feature_completion_rate: float  # 1 - flows completed / flows started (0.5 before any flow)
    days_since_last_login: float  # days between the last two sessions, 7 or more = 1
    support_interaction_count: float  # support contacts in 30 days, 3 or more = 1
    video_engagement_score: float  # 1 - the overall video interest score (else 1 - mean completion; 0.5 before any video)
    application_progress_percentage: float  # 1 - progress / 100


def risk_features(state: UserState, now: int) -> RiskFeatures:
    """The user's features at ``now`` (epoch ms)."""
    week_ago, fortnight_ago = now - _WEEK, now - 2 * _WEEK
    struggles = len([t for t in state.struggle_times if t >= week_ago])
    recent = len([t for t in state.session_starts if t >= week_ago])
    previous = len([t for t in state.session_starts if fortnight_ago <= t < week_ago])
    decline = max(0.0, min(1.0, (previous - recent) / previous)) if previous else 0.0
    completion = state.flows_done / state.flows_started if state.flows_started else 0.5
    month_ago = now - 30 * DAY_MS
    support = len([t for t in state.support_contact_times if t >= month_ago])
    return RiskFeatures(
        struggle_signal_count_7d=min(struggles, 8) / 8,
        session_frequency_trend=decline,
        feature_completion_rate=1.0 - min(1.0, completion),
        # the gap before the latest session, or the time since the user was last seen if longer (a silent
        # user re-scored by the deadline timer: journey.app.quiet)
        days_since_last_login=min(max(state.days_between_sessions, (now - state.last_event_at) / DAY_MS), 7.0) / 7.0,
        support_interaction_count=min(support, 3) / 3,
        video_engagement_score=_video_engagement(state, now),
        application_progress_percentage=1.0 - state.progress / 100.0,
    )


def _video_engagement(state: UserState, now: int) -> float:
    """1 - the user's recency-weighted video interest (journey.video.intelligence); for a user whose
    video events named no video, 1 - their mean completion; 0.5 before any video."""
    if state.videos:
        interest = overall_interest(state.videos, now)
        if interest is not None:
            return 1.0 - interest
    return 1.0 - state.video_completion if state.video_completion >= 0 else 0.5


# --- the trained model's named features (journey.risk.history) ----------------------------------------
# Raw, interpretable values (counts, days, rates; None = missing), computed from the activity history at
# ``now``: the same function builds training rows (journey.risk.training) and serving vectors. A window
# of N days is ``now``'s UTC day and the N - 1 days before it ("1d" is the day so far).
BASE_FEATURES: tuple[str, ...] = (
    # the seed's seven, from the history
    "struggle_signal_count_7d",  # struggle signals the system detected
    "video_engagement_score",  # mean completion of the videos reported in 28 days (0..1; None: none)
    "feature_completion_rate",  # flows completed / started in 28 days, at most 1 (None: none started)
    "session_frequency_trend",  # sessions in the last 7 days minus in the 7 before
    "support_interaction_count",  # help requests in 28 days
    "days_since_last_login",  # days between the latest session's start and the activity before it (None: one session)
    "application_progress_percentage",  # the highest progress ever reported (None: never)
    # volume
    "events_1d",
    "events_7d",
    "events_28d",
    "sessions_1d",
    "sessions_7d",
    "sessions_28d",
    "active_days_1d",
    "active_days_7d",
    "active_days_28d",
    # per event type
    "views_1d",
    "views_7d",
    "views_28d",
    "interactions_1d",
    "interactions_7d",
    "interactions_28d",
    "lifecycle_1d",
    "lifecycle_7d",
    "lifecycle_28d",
    "video_events_1d",
    "video_events_7d",
    "video_events_28d",
    "searches_1d",
    "searches_7d",
    "searches_28d",
    "errors_1d",
    "errors_7d",
    "errors_28d",
    "help_requests_1d",
    "help_requests_7d",
    "help_requests_28d",
    "client_struggles_1d",
    "client_struggles_7d",
    "client_struggles_28d",
    # recency, tenure, cadence
    "days_since_last_activity",
    "days_since_first_activity",
    "mean_days_between_sessions_28d",
    # struggle and intervention history
    "struggle_signals_1d",
    "struggle_signals_28d",
    "interventions_sent_7d",
    "interventions_sent_28d",
    # flows, video, progress
    "flows_started_28d",
    "flows_completed_28d",
    "video_completion_reports_28d",  # video events that carried a completion rate
    "max_progress_28d",
)
_FEATURE_WINDOWS = (1, 7, 28)


def feature_names(vocabulary: Sequence[str]) -> tuple[str, ...]:
    """The model's inputs in vector order: :data:`BASE_FEATURES`, then each vocabulary feature's
    activity counts over 1, 7 and 28 days (``feature:<name>:1d`` ...)."""
    return BASE_FEATURES + tuple(f"feature:{name}:{days}d" for name in vocabulary for days in _FEATURE_WINDOWS)


def feature_values(activity: list[Any], now: int, vocabulary: Sequence[str]) -> list[float | None]:
    """The values of :func:`feature_names` for a history (:mod:`journey.risk.history`) at ``now``
    (epoch ms). Only what the history holds up to ``now``'s day counts."""
    if not activity:
        activity = history.fresh_history()
    today = now // DAY_MS
    days = activity[history.DAYS]
    first_day = activity[history.FIRST_DAY]
    # the rows of the 28 days up to today, and how many of them are in the last 7 and 14
    end = max(0, min(len(days), today - first_day + 1))
    start = max(0, today - 27 - first_day)
    week = max(0, end - max(start, today - 6 - first_day))
    fortnight = max(0, end - max(start, today - 13 - first_day))
    # one column per row field (stored rows lack their trailing zeros): position i is day row start + i
    columns = list(zip_longest(*days[start:end], fillvalue=0)) if end > start else []
    columns += _EMPTY_COLUMNS[len(columns) :]
    c28 = list(map(sum, columns))
    c7 = _column_sums(days[end - week : end]) if week else _ZERO_ROW
    c1 = days[end - 1] + _ZERO_ROW[len(days[end - 1]) :] if end and first_day + end - 1 == today else _ZERO_ROW
    events = columns[history.EVENTS]
    sessions = columns[history.SESSIONS]
    sessions_before = sum(sessions[len(sessions) - fortnight : len(sessions) - week])
    first, last, gap = activity[history.FIRST], activity[history.LAST], activity[history.LAST_GAP]
    sessions28, started, done = c28[history.SESSIONS], c28[history.FLOWS_STARTED], c28[history.FLOWS_DONE]
    gapped = sessions28 - (1 if first and today - 28 < first // DAY_MS <= today else 0)
    reports = c28[history.VIDEO_REPORTS]
    progress = activity[history.PROGRESS]
    max28 = max(columns[history.MAX_PROGRESS], default=0)
    values: list[float | None] = [
        c7[history.SIGNALS],
        c28[history.VIDEO_SUM] / reports / 1000 if reports else None,
        min(1.0, done / started) if started else None,
        c7[history.SESSIONS] - sessions_before,
        c28[history.HELP],
        gap / 1440 if gap >= 0 else None,
        progress / 10 if progress >= 0 else None,
        c1[history.EVENTS],
        c7[history.EVENTS],
        c28[history.EVENTS],
        c1[history.SESSIONS],
        c7[history.SESSIONS],
        sessions28,
        1 if c1[history.EVENTS] else 0,
        week - events[-week:].count(0) if week and events else 0,
        len(events) - events.count(0),
        c1[history.VIEWS],
        c7[history.VIEWS],
        c28[history.VIEWS],
        c1[history.INTERACTIONS],
        c7[history.INTERACTIONS],
        c28[history.INTERACTIONS],
        c1[history.LIFECYCLE],
        c7[history.LIFECYCLE],
        c28[history.LIFECYCLE],
        c1[history.VIDEOS],
        c7[history.VIDEOS],
        c28[history.VIDEOS],
        c1[history.SEARCHES],
        c7[history.SEARCHES],
        c28[history.SEARCHES],
        c1[history.ERRORS],
        c7[history.ERRORS],
        c28[history.ERRORS],
        c1[history.HELP],
        c7[history.HELP],
        c28[history.HELP],
        c1[history.CLIENT_STRUGGLES],
        c7[history.CLIENT_STRUGGLES],
        c28[history.CLIENT_STRUGGLES],
        max(0, now - last) / DAY_MS if last else None,
        max(0, now - first) / DAY_MS if first else None,
        c28[history.GAP_MINUTES] / gapped / 1440 if gapped > 0 else None,
        c1[history.SIGNALS],
        c28[history.SIGNALS],
        c7[history.SENDS],
        c28[history.SENDS],
        started,
        done,
        reports,
        max28 / 10 if max28 else None,
    ]
    features = activity[history.FEATURES]
    append = values.append
    for name in vocabulary:
        entry = features.get(name)
        top = today - entry[1] + 3 if entry else 0  # the slice end of today's count in the entry
        if top <= 2:
            values += _NO_COUNTS
            continue
        append(entry[top - 1] if top <= len(entry) else 0)
        week_start, month_start = top - 7, top - 28
        append(sum(entry[week_start if week_start > 2 else 2 : top]))
        append(sum(entry[month_start if month_start > 2 else 2 : top]))
    return values


_ZERO_ROW = [0] * history.ROW_WIDTH
_EMPTY_COLUMNS: list[tuple[int, ...]] = [()] * history.ROW_WIDTH
_NO_COUNTS = (0, 0, 0)


def _column_sums(rows: list[list[int]]) -> list[int]:
    """Per row field, its sum over ``rows`` (stored rows lack their trailing zeros)."""
    sums = list(map(sum, zip_longest(*rows, fillvalue=0)))
    return sums + _ZERO_ROW[len(sums) :]
