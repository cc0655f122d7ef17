"""The ports the pipeline talks through. Adapters in ``journey.adapters`` implement them on AWS;
tests and the benchmark use in-memory fakes built on the same protocols."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from journey.detection.signals import StruggleSignal
from journey.events.records import Quarantined
from journey.interventions.policy import Decision
from journey.users.state import UserState


class TransientError(Exception):
    """A dependency failed in a way a retry may fix (throttling, timeouts, 5xx)."""


class Delivery(str, Enum):
    """Where a send stands in the interventions ledger (the ``delivery`` attribute of its item).

    The ledger entry is written as ``pending`` *before* anything is published. A replay (Kinesis
    redelivers after a crash or a timeout) reads it first: ``delivered`` and ``pending`` are not sent
    again (``pending`` means the outcome is unknown: a crash between publishing and recording, so at
    most once, counted as unconfirmed); ``failed`` is sent again; ``announced`` (the topic got it,
    push failed) retries the push only."""

    PENDING = "pending"
    FAILED = "failed"
    ANNOUNCED = "announced"
    DELIVERED = "delivered"
    UNCONFIRMED = "unconfirmed"

    @property
    def settled(self) -> bool:
        """Nothing more will be sent for it."""
        return self in (Delivery.DELIVERED, Delivery.PENDING, Delivery.UNCONFIRMED)


@dataclass
class DeliveryReport:
    failed: dict[str, str] = field(default_factory=dict)  # interventionId -> transient error
    announced: set[str] = field(default_factory=set)  # interventionIds the topic has (now or before)


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
    delivery: dict[str, Delivery] = field(default_factory=dict)  # interventionId -> ledger state, for sends


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
