"""The ports the pipeline talks through. Adapters in ``journey.adapters`` implement them on AWS;
tests and the benchmark use in-memory fakes built on the same protocols."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from journey.policy import Decision
from journey.records import Quarantined
from journey.signals import StruggleSignal
from journey.state import UserState


class TransientError(Exception):
    """A dependency failed in a way a retry may fix (throttling, timeouts, 5xx)."""


@dataclass
class EpisodeOutcome:
    """A struggle episode that ended in success: the measure of whether stepping in helped."""

    userId: str
    interventionId: str
    signalId: str
    signalType: str
    featureId: str
    heldOut: bool
    resolvedAt: int
    resolutionMs: int


@dataclass
class Writes:
    """Everything one batch persists, written in bulk."""

    states: list[UserState] = field(default_factory=list)
    # userId -> (sequence number the user's state had applied before this batch, compact events)
    journal: dict[str, tuple[str, list[list]]] = field(default_factory=dict)
    signals: list[StruggleSignal] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    outcomes: list[EpisodeOutcome] = field(default_factory=list)


class JourneyStore(Protocol):
    def load_states(self, user_ids: list[str]) -> dict[str, UserState]: ...

    def delivered(self, decisions: list[Decision]) -> set[str]:
        """Ids of the given interventions already recorded as delivered (a redelivered batch)."""

    def persist(self, writes: Writes) -> None: ...


class Notifier(Protocol):
    def deliver(self, decisions: list[Decision], push_endpoints: dict[str, str]) -> dict[str, str]:
        """Send each decision; return interventionId -> error for the ones that failed transiently."""


class QuarantineStore(Protocol):
    def keep(self, batch_key: str, rejected: list[Quarantined]) -> None: ...


class AnalyticsSink(Protocol):
    def record(self, signals: list[StruggleSignal], decisions: list[Decision], feature_counts: dict, at_ms: int) -> int:
        """Write the batch's analytics; return the number of API calls made."""
