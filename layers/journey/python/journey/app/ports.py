"""The ports the use cases talk through. ``journey.adapters.aws`` implements them on AWS; tests and
the benchmark wire the same adapters to in-memory clients."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from journey.detection.signals import StruggleSignal
from journey.events.records import Quarantined
from journey.interventions.ledger import Delivery
from journey.interventions.outcomes import EpisodeOutcome
from journey.interventions.policy import Decision
from journey.users.state import UserState


@dataclass
class DeliveryReport:
    failed: dict[str, str] = field(default_factory=dict)  # interventionId -> transient error
    announced: set[str] = field(default_factory=set)  # interventionIds the topic has (now or before)


@dataclass
class Writes:
    """Everything one batch persists, written in bulk."""

    states: list[UserState] = field(default_factory=list)
    # userId -> (sequence number the user's state had applied before this batch, compact events)
    journal: dict[str, tuple[str, list[list]]] = field(default_factory=dict)
    signals: list[StruggleSignal] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    outcomes: list[EpisodeOutcome] = field(default_factory=list)
    delivery: dict[str, Delivery] = field(default_factory=dict)  # interventionId -> ledger state, for sends
    delivery_errors: dict[str, str] = field(default_factory=dict)  # interventionId -> why it did not go through


class JourneyStore(Protocol):
    def load_states(self, user_ids: list[str]) -> dict[str, UserState]: ...

    def delivery_states(self, decisions: list[Decision]) -> dict[str, Delivery]:
        """The ledger state of the given sends that have an entry (a redelivered batch)."""

    def record_intent(self, decisions: list[Decision]) -> None:
        """Write each send's ledger entry as ``pending`` before anything is published."""

    def persist(self, writes: Writes) -> None: ...


class Notifier(Protocol):
    def deliver(
        self, decisions: list[Decision], push_endpoints: dict[str, str], announced: frozenset[str] = frozenset()
    ) -> DeliveryReport:
        """Send each decision (the topic announcement is skipped for ids in ``announced``); report the
        transient failures and which announcements the topic has."""


class QuarantineStore(Protocol):
    def keep(self, batch_key: str, rejected: list[Quarantined]) -> None: ...


class AnalyticsSink(Protocol):
    def record(self, signals: list[StruggleSignal], decisions: list[Decision], feature_counts: dict, at_ms: int) -> int:
        """Write the batch's analytics; return the number of API calls made."""


@dataclass
class Ports:
    """Everything the stream batch use case talks to, wired by the adapters' factories."""

    store: JourneyStore
    notifier: Notifier
    quarantine: QuarantineStore
    analytics: AnalyticsSink | None = None
