"""The ports the use cases talk through. ``journey.adapters.aws`` implements them on AWS; tests and
the benchmark wire the same adapters to in-memory clients."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from journey.agent.escalation import Escalation, EscalationRecord
from journey.detection.signals import StruggleSignal
from journey.errors import TransientError
from journey.events.records import Quarantined
from journey.interventions.ledger import Delivery
from journey.interventions.outcomes import EpisodeOutcome, Report
from journey.interventions.policy import Decision
from journey.users.state import UserState


@dataclass
class DeliveryReport:
    """What became of each send a Notifier was given, with the reason for each that did not go
    through; a send in none of ``failed``, ``undeliverable`` and ``unknown`` went through."""

    failed: dict[str, str] = field(default_factory=dict)  # interventionId -> transient error: send again
    undeliverable: dict[str, str] = field(default_factory=dict)  # interventionId -> permanent error: never again
    unknown: dict[str, str] = field(default_factory=dict)  # interventionId -> error after which it may have gone out
    announced: set[str] = field(default_factory=set)  # interventionIds the topic has (now or before)


@dataclass
class Writes:
    """Everything one batch persists, written in bulk."""

    states: list[UserState] = field(default_factory=list)
    shard: str = ""  # the shard the batch came from (journal items are keyed by it)
    # userId -> the user's new events as (sequence number, compact journal entry), in stream order
    journal: dict[str, list[tuple[str, list]]] = field(default_factory=dict)
    signals: list[StruggleSignal] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    outcomes: list[EpisodeOutcome] = field(default_factory=list)
    delivery: dict[str, Delivery] = field(default_factory=dict)  # interventionId -> ledger state, for sends
    delivery_errors: dict[str, str] = field(default_factory=dict)  # interventionId -> why it did not go through
    reports: list[Report] = field(default_factory=list)  # what apps reported of their interventions
    tenants: dict[str, str] = field(default_factory=dict)  # userId -> tenant, for every user with items here
    escalations: list[EscalationRecord] = field(default_factory=list)  # escalations opened or closed (provenance)


class JourneyStore(Protocol):
    def load_states(self, user_ids: list[str]) -> dict[str, UserState]: ...

    def delivery_states(self, decisions: list[Decision]) -> dict[str, Delivery]:
        """The ledger state of the given sends that have an entry (a redelivered batch)."""

    def record_intent(self, decisions: list[Decision]) -> None:
        """Write each send's ledger entry as ``pending`` before anything is published."""

    def persist(self, writes: Writes) -> dict[str, str]:
        """Write everything; return the users whose items the store refused for what their data is
        (userId -> reason), none of whose items are written. Transient failures raise."""


@dataclass(frozen=True, slots=True)
class ErasureRequest:
    """An erase command as the stream processor received it (DESIGN.md rule 1: it carries it out)."""

    user_id: str
    tenant: str
    request_id: str
    requested_by: str
    requested_at: int  # epoch ms, the command's time


class Eraser(Protocol):
    def erase(self, request: ErasureRequest, tombstone: UserState) -> dict[str, int]:
        """Write the user's ``tombstone`` state first (their events are refused from then on), then
        remove every item of the user from every table, every quarantined record of theirs (all
        versions), and their identity mapping last; then write the audit record (who, when, what was
        removed: counts per store, no personal data). Return the counts. Idempotent (a replay finds
        less to remove and writes the same audit record). Transient failures raise."""


class Notifier(Protocol):
    def deliver(
        self, decisions: list[Decision], push_endpoints: dict[str, str], announced: frozenset[str] = frozenset()
    ) -> DeliveryReport:
        """Send each decision (the topic announcement is skipped for ids in ``announced``); report what
        became of each one and which announcements the topic has. Never raises for one message's
        error: an error the channel returns is reported for the messages it concerns."""


class QuarantineIncomplete(TransientError):
    """Some rejected records could not be kept, transiently: ``kept`` were newly kept (count them),
    ``failed`` were not (report them as failed, so Kinesis redelivers them)."""

    def __init__(self, message: str, kept: list[Quarantined], failed: list[Quarantined]):
        super().__init__(message)
        self.kept = kept
        self.failed = failed


class QuarantineStore(Protocol):
    def keep(self, batch_key: str, rejected: list[Quarantined]) -> list[Quarantined]:
        """Keep each rejected record once, with its reason, under a key derived from the record alone;
        return the records newly kept (a redelivered record, kept before, is not returned, so it is
        counted once). A transient failure raises :class:`QuarantineIncomplete` (a ``TransientError``)."""


class AnalyticsSink(Protocol):
    def record(self, signals: list[StruggleSignal], decisions: list[Decision], feature_counts: dict, at_ms: int) -> int:
        """Write the batch's analytics; return the number of API calls made."""


class EscalationQueue(Protocol):
    def submit(self, escalations: list[Escalation]) -> list[str]:
        """Hand each escalation to the agent invoker; return the ids of those that could not be (never
        raises: the rules decide those at their deadline)."""


@dataclass
class Ports:
    """Everything the stream batch use case talks to, wired by the adapters' factories."""

    store: JourneyStore
    notifier: Notifier
    quarantine: QuarantineStore
    analytics: AnalyticsSink | None = None
    eraser: Eraser | None = None  # None: an erase command fails its user's records (the deployment wires one)
    escalations: EscalationQueue | None = None  # None: hard cases wait for their deadline, then the rules decide


@dataclass(frozen=True, slots=True)
class DueUser:
    """A user whose state says something is due: ``due_at`` is the deadline (epoch ms) as indexed."""

    user_id: str
    due_at: int


class DueUsers(Protocol):
    def due(self, now_ms: int, limit: int) -> list[DueUser]:
        """Users whose deadline is at or before ``now_ms``, at most ``limit`` of them (the longest
        overdue first within each part of the index), each once. Transient failures raise."""


class CommandStream(Protocol):
    def append(self, events: list[dict]) -> list[str]:
        """Append each command event to its user's stream (partition key = ``userId``), retrying the
        records the stream refused; return the user ids whose command could still not be appended."""


@dataclass
class TimerPorts:
    """What the deadline timer talks to, wired by the adapters' factories."""

    due_users: DueUsers
    commands: CommandStream
