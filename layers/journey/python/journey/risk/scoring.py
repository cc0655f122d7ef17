"""Exit risk as the stream processor scores it: the trained model when one is configured, else the
points model (journey.risk.points), which stays the fallback.

A trained model's score is its calibrated churn probability x 100, so the bands mean what they say
(a HIGH user is one that, of users scored alike, 60% or more went on to leave).

Its contributors are explained on read, not on every score: the processor scores every user of every
batch, and attributing a score to its inputs costs as much again as scoring it, for explanations a
person reads for a handful of users. The state keeps what the explanation needs (the activity history
as it was scored, the time it was scored at and the model's version), so :func:`explain_score` gives
exactly the contributors that score had, whenever it is asked (the insights API). The points model's
contributors cost nothing extra and are kept on the state as before."""

from __future__ import annotations

from journey.risk.features import feature_values
from journey.risk.model import ExitRiskModel
from journey.risk.points import ExitRisk, band_of, score_exit_risk
from journey.settings import RiskSettings
from journey.users.state import UserState

POINTS_MODEL = ""  # what UserState.risk_model holds when the points model scored


def exit_risk(state: UserState, now: int, cfg: RiskSettings, model: ExitRiskModel | None) -> ExitRisk:
    """The user's exit risk at ``now`` (epoch ms). A trained model's score comes without contributors
    (:func:`explain_score` gives them)."""
    if model is None:
        return score_exit_risk(state, now, cfg)
    score = _score(model.probability(feature_values(state.activity, now, model.vocabulary)))
    return ExitRisk(score, band_of(score, cfg), ())


def explain_score(state: UserState, model: ExitRiskModel) -> tuple[tuple[str, float], ...]:
    """The contributors of the score ``model`` gave the user (``state.risk_model`` is its version): the
    three inputs that raised the log-odds most, each with its share of the score's points (per-input
    Saabas contributions, journey.risk.model.ExitRiskModel.explain), from the history as it was scored."""
    probability, raising, total = model.explain_top(feature_values(state.activity, state.risk_scored_at, model.vocabulary))
    return contributors_in_points(raising, total, _score(probability))


def contributors_in_points(raising: list[tuple[str, float]], total: float, score: int) -> tuple[tuple[str, float], ...]:
    """The features that raised the score most, each with its share of the score's points (its log-odds
    contribution over ``total``, the sum of every raising one); none when nothing raised it."""
    if total <= 0:
        return ()
    return tuple((name, round(score * c / total, 2)) for name, c in raising)


def score_into(state: UserState, now: int, cfg: RiskSettings, model: ExitRiskModel | None) -> ExitRisk:
    """Score the user and keep it on their state (score, band, the points model's contributors, what
    scored it and when)."""
    risk = exit_risk(state, now, cfg, model)
    state.risk_score, state.risk_band = risk.score, risk.band
    state.risk_contributors = [[name, points] for name, points in risk.contributors]
    state.risk_model = model.version if model is not None else POINTS_MODEL
    state.risk_scored_at = now
    return risk


def _score(probability: float) -> int:
    return min(100, max(0, round(probability * 100)))
