"""Exit risk: a transparent 0-100 points model over the named risk features.

Each feature contributes at most its weight; the weights add up to 100, so a score reads as
"how much of the known risk this user shows". docs/exit-risk.md documents the model.
"""

from __future__ import annotations

from operator import itemgetter, mul
from typing import NamedTuple

from journey.risk.features import RiskFeatures, risk_features
from journey.settings import RiskSettings
from journey.users.state import UserState

WEIGHTS: dict[str, int] = {
    "struggle_signal_count_7d": 25,
    "session_frequency_trend": 20,
    "feature_completion_rate": 15,
    "days_since_last_login": 15,
    "support_interaction_count": 10,
    "video_engagement_score": 10,
    "application_progress_percentage": 5,
}
if set(WEIGHTS) != set(RiskFeatures._fields) or sum(WEIGHTS.values()) != 100:
    raise ValueError("WEIGHTS must weigh every RiskFeatures field, by name, and add up to 100")

# The weights lined up with the feature vector by name, once, at import.
_NAMES: tuple[str, ...] = RiskFeatures._fields
_WEIGHTS: tuple[int, ...] = tuple(WEIGHTS[name] for name in _NAMES)
_points = itemgetter(1)


class ExitRisk(NamedTuple):
    score: int
    band: str
    contributors: tuple[tuple[str, float], ...]  # (feature name, points), the largest three


def band_of(score: int, cfg: RiskSettings) -> str:
    if score >= cfg.high_from:
        return "HIGH"
    if score >= cfg.medium_from:
        return "MEDIUM"
    return "LOW"


def score_features(features: RiskFeatures, cfg: RiskSettings) -> ExitRisk:
    points = list(map(mul, _WEIGHTS, features))
    score = round(sum(points))
    # the three largest contributions; a stable sort keeps the features' order among equal ones
    top = sorted([(n, p) for n, p in zip(_NAMES, points, strict=True) if p > 0], key=_points, reverse=True)[:3]
    return ExitRisk(score, band_of(score, cfg), tuple((n, round(p, 2)) for n, p in top))


def score_exit_risk(state: UserState, now: int, cfg: RiskSettings) -> ExitRisk:
    return score_features(risk_features(state, now), cfg)
