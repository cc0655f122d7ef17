"""Exit risk: a transparent 0-100 points model over the profile features.

Each feature contributes at most its weight; the weights add up to 100, so a score reads as
"how much of the known risk this user shows". docs/exit-risk.md documents the model.
"""

from __future__ import annotations

from operator import itemgetter, mul
from typing import NamedTuple

from journey.settings import RiskSettings
from journey.users.state import DAY_MS, UserState

WEIGHTS = {
    "struggle_signal_count_7d": 25,
    "session_frequency_trend": 20,
    "feature_completion_rate": 15,
    "days_since_last_login": 15,
    "support_interaction_count": 10,
    "video_engagement_score": 10,
    "application_progress_percentage": 5,
}
assert sum(WEIGHTS.values()) == 100
_points = itemgetter(1)


class ExitRisk(NamedTuple):
    score: int
    band: str
    contributors: tuple[tuple[str, float], ...]


_NAMES = tuple(WEIGHTS)
_WEIGHTS = tuple(WEIGHTS.values())
_WEEK = 7 * DAY_MS


def _feature_values(state: UserState, now: int) -> tuple[float, ...]:
    """The features of :data:`WEIGHTS`, in its order, each scaled to 0..1 where 1 is the riskiest."""
    week_ago, fortnight_ago = now - _WEEK, now - 2 * _WEEK
    struggles = len([t for t in state.struggles if t >= week_ago])
    recent = len([t for t in state.sess if t >= week_ago])
    previous = len([t for t in state.sess if fortnight_ago <= t < week_ago])
    decline = max(0.0, min(1.0, (previous - recent) / previous)) if previous else 0.0
    completion = state.flows_done / state.flows_started if state.flows_started else 0.5
    month_ago = now - 30 * DAY_MS
    support = len([t for t in state.support if t >= month_ago])
    return (
        min(struggles, 8) / 8,
        decline,
        1.0 - min(1.0, completion),
        min(state.gap, 7.0) / 7.0,
        min(support, 3) / 3,
        1.0 - state.video if state.video >= 0 else 0.5,
        1.0 - state.progress / 100.0,
    )


def risk_features(state: UserState, now: int) -> dict[str, float]:
    """Each feature scaled to 0..1, where 1 is the riskiest."""
    return dict(zip(_NAMES, _feature_values(state, now), strict=False))


def band_of(score: int, cfg: RiskSettings) -> str:
    if score >= cfg.high_from:
        return "HIGH"
    if score >= cfg.medium_from:
        return "MEDIUM"
    return "LOW"


def score_exit_risk(state: UserState, now: int, cfg: RiskSettings) -> ExitRisk:
    points = list(map(mul, _WEIGHTS, _feature_values(state, now)))
    score = round(sum(points))
    # the three largest contributions; a stable sort keeps WEIGHTS' order among equal ones
    top = sorted([(n, p) for n, p in zip(_NAMES, points, strict=False) if p > 0], key=_points, reverse=True)[:3]
    return ExitRisk(score, band_of(score, cfg), tuple((n, round(p, 2)) for n, p in top))
