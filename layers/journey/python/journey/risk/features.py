"""The exit-risk feature vector, by name: the same vector for the points model today and for a
trained model's training rows and serving tomorrow.

Each feature is scaled to 0..1, where 1 is the riskiest (the seed's seven features)."""

from __future__ import annotations

from typing import NamedTuple

from journey.kernel.clock import DAY_MS
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
        days_since_last_login=min(state.days_between_sessions, 7.0) / 7.0,
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
