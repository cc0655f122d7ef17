"""Exit risk: a transparent 0-100 points model over the profile features.

Each feature contributes at most its weight; the weights add up to 100, so a score reads as
"how much of the known risk this user shows". docs/exit-risk.md documents the model.
"""

from __future__ import annotations

from dataclasses import dataclass

from journey.settings import RiskSettings
from journey.state import DAY_MS, UserState

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


@dataclass(frozen=True, slots=True)
class ExitRisk:
    score: int
    band: str
    contributors: tuple[tuple[str, float], ...]


def risk_features(state: UserState, now: int) -> dict[str, float]:
    """Each feature scaled to 0..1, where 1 is the riskiest."""
    struggles = sum(1 for t in state.struggles if now - t <= 7 * DAY_MS)
    recent = sum(1 for t in state.sess if now - t <= 7 * DAY_MS)
    previous = sum(1 for t in state.sess if 7 * DAY_MS < now - t <= 14 * DAY_MS)
    decline = max(0.0, min(1.0, (previous - recent) / previous)) if previous else 0.0
    completion = state.flows_done / state.flows_started if state.flows_started else 0.5
    support = sum(1 for t in state.support if now - t <= 30 * DAY_MS)
    return {
        "struggle_signal_count_7d": min(struggles, 8) / 8,
        "session_frequency_trend": decline,
        "feature_completion_rate": 1.0 - min(1.0, completion),
        "days_since_last_login": min(state.gap, 7.0) / 7.0,
        "support_interaction_count": min(support, 3) / 3,
        "video_engagement_score": 1.0 - state.video if state.video >= 0 else 0.5,
        "application_progress_percentage": 1.0 - state.progress / 100.0,
    }


def band_of(score: int, cfg: RiskSettings) -> str:
    if score >= cfg.high_from:
        return "HIGH"
    if score >= cfg.medium_from:
        return "MEDIUM"
    return "LOW"


def score_exit_risk(state: UserState, now: int, cfg: RiskSettings) -> ExitRisk:
    points = {name: round(WEIGHTS[name] * value, 2) for name, value in risk_features(state, now).items()}
    score = int(round(sum(points.values())))
    top = tuple(sorted(((n, p) for n, p in points.items() if p > 0), key=lambda item: -item[1])[:3])
    return ExitRisk(score=score, band=band_of(score, cfg), contributors=top)
