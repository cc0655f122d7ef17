"""Outcomes: a struggle episode that ended in success, the measure of whether stepping in helped."""

from __future__ import annotations

from dataclasses import dataclass

from journey.settings import PolicySettings


@dataclass(frozen=True, slots=True)
class EpisodeOutcome:
    """A struggle episode resolved by a later success on the same feature, treated or held out."""

    userId: str
    interventionId: str
    signalId: str
    signalType: str
    featureId: str
    heldOut: bool
    resolvedAt: int
    resolutionMs: int


def resolution_window(signal_type: str, policy: PolicySettings) -> int:
    """How long after a decision a success still counts as its outcome (users come back later to
    finish an abandoned flow; other struggles are resolved within minutes or not at all)."""
    if signal_type == "abandonment":
        return policy.abandonment_resolution_window_ms
    if signal_type == "gone_quiet":  # a re-engagement: resolved by the user's coming back at all
        return policy.reengagement_resolution_window_ms
    return policy.resolution_window_ms


@dataclass(frozen=True, slots=True)
class Report:
    """What an app reported of an intervention it was given: shown, dismissed, acted or resolved."""

    userId: str
    interventionId: str
    outcome: str
    reportedAt: int
    requestId: str
