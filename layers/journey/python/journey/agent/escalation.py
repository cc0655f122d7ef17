"""Escalations: the hard cases the rules hand to the agent, and what the stream processor keeps of
each one while the agent decides.

A case is hard (``escalation_reason``) when a user the deployment values has a critical struggle,
when one event gives conflicting signals, when a user at HIGH exit risk struggles in a way the
catalog has no answer for, or when the user's recent interventions kept failing. The rules' own
decision is held (its place under the frequency cap kept) and handed to the agent invoker; the
escalation closes when the invoker says who decided (``escalation`` command), or, when no answer
comes, at its deadline, and then the rules' decision stands (the fallback)."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

from journey.detection.signals import Severity, SignalType, StruggleSignal
from journey.interventions.catalog import CatalogEntry
from journey.kernel.clock import DAY_MS
from journey.settings import AgentSettings
from journey.users.state import UserState

ESCALATED = "escalated"  # a decision held for the agent (its ledger status)


class Reason:
    CRITICAL_HIGH_VALUE = "critical_high_value"
    CONFLICTING_SIGNALS = "conflicting_signals"
    HIGH_RISK_UNMATCHED = "high_risk_unmatched"
    REPEATED_FAILED_INTERVENTIONS = "repeated_failed_interventions"


class PendingEscalation(NamedTuple):
    """What the state keeps of an open escalation (``UserState.escalations[escalationId]``, as a list)."""

    signalId: str
    signalType: str
    featureId: str
    severity: str
    ruleIntervention: str  # the rules' choice ("" when the catalog had none: the agent may pick, the rules would not)
    ruleChannel: str
    escalatedAt: int  # epoch ms (the signal's event time)
    expiresAt: int  # epoch ms (arrival clock): no answer by then, the rules decide
    reason: str
    triggerEventId: str
    decided: str  # the interventionId the agent's schedule produced ("" while none)

    @classmethod
    def of(cls, stored: list[Any]) -> PendingEscalation:
        return cls(*stored)


@dataclass(frozen=True, slots=True)
class Escalation:
    """The message the stream processor sends the agent invoker (the escalation queue's body)."""

    escalationId: str
    userId: str
    tenant: str
    signalId: str
    signalType: str
    featureId: str
    severity: str
    reason: str
    ruleIntervention: str
    ruleChannel: str
    escalatedAt: int
    expiresAt: int  # the invoker's hard stop: past it, the invoker closes the escalation as fallback at once
    riskScore: int
    riskBand: str
    segment: str

    def as_message(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_message(cls, body: dict[str, Any]) -> Escalation:
        """Read a queue message's body; raise ``ValueError`` naming what is missing or wrong."""
        missing = [name for name in cls.__dataclass_fields__ if name not in body]
        if missing:
            raise ValueError(f"escalation message lacks {', '.join(missing)}")
        values = {name: body[name] for name in cls.__dataclass_fields__}
        for name in ("escalatedAt", "expiresAt", "riskScore"):
            if not isinstance(values[name], int) or isinstance(values[name], bool):
                raise ValueError(f"escalation message: {name} must be an integer")
        for name, value in values.items():
            if name not in ("escalatedAt", "expiresAt", "riskScore") and not isinstance(value, str):
                raise ValueError(f"escalation message: {name} must be a string")
        return cls(**values)


def escalation_id(signal_id: str) -> str:
    """One escalation per signal, the same id however often the batch is replayed."""
    return "e-" + hashlib.blake2b(signal_id.encode(), digest_size=10).hexdigest()


def recent_failed_sends(state: UserState, now: int) -> int:
    return len([t for t in state.failed_sends if now - t <= 7 * DAY_MS])


def escalation_reason(
    signal: StruggleSignal,
    rules_send: bool,
    catalog_matches: bool,
    state: UserState,
    signal_types_of_event: int,
    cfg: AgentSettings,
) -> str | None:
    """Why the signal is a hard case for the agent, or None when the rules' decision stands.

    ``rules_send``: the rules decided to send (the policy passed and the user is not held out): only
    such decisions are held for the agent, so a held-out user and a suppressed send stay what they
    are. ``catalog_matches``: the catalog has an entry for the signal. ``signal_types_of_event``: how
    many different signal types the signal's event gave."""
    if cfg.mode == "none":
        return None
    if not catalog_matches:
        if cfg.escalate_high_risk_unmatched and state.risk_band == "HIGH":
            return Reason.HIGH_RISK_UNMATCHED
        return None
    if not rules_send:
        return None
    if signal.severity is Severity.CRITICAL and state.segment in cfg.high_value_segments:
        return Reason.CRITICAL_HIGH_VALUE
    if cfg.escalate_conflicting and signal_types_of_event >= 2:
        return Reason.CONFLICTING_SIGNALS
    if cfg.failed_sends_to_escalate and recent_failed_sends(state, signal.detectedAt) >= cfg.failed_sends_to_escalate:
        return Reason.REPEATED_FAILED_INTERVENTIONS
    return None


@dataclass(frozen=True, slots=True)
class EscalationRecord:
    """An escalation's provenance, kept beside the user's decisions (Interventions table, sort key
    ``escalation#<escalationId>``): why it was escalated, who decided in the end (``agent``, or the
    rules as ``fallback`` with the reason), with which model, how long it took, how many tokens."""

    userId: str
    escalationId: str
    signalId: str
    signalType: str
    featureId: str
    severity: str
    reason: str
    ruleIntervention: str
    escalatedAt: int
    status: str = "open"  # open | agent | fallback
    fallbackReason: str = ""
    finalInterventionId: str = ""
    model: str = ""
    latencyMs: int = 0
    inputTokens: int = 0
    outputTokens: int = 0
    closedAt: int = 0

    @classmethod
    def opened(cls, user_id: str, escalation: str, pending: PendingEscalation) -> EscalationRecord:
        return cls(
            userId=user_id,
            escalationId=escalation,
            signalId=pending.signalId,
            signalType=pending.signalType,
            featureId=pending.featureId,
            severity=pending.severity,
            reason=pending.reason,
            ruleIntervention=pending.ruleIntervention,
            escalatedAt=pending.escalatedAt,
        )

    def as_record(self) -> dict[str, Any]:
        return asdict(self)


def catalog_choices(catalog: tuple[CatalogEntry, ...], pending: PendingEscalation) -> list[CatalogEntry]:
    """What the agent may choose for an escalation: one entry per intervention type of the catalog
    that serves the escalation's feature, the entry for the signal's own type where there is one, the
    entries for the signal's type first. The agent may answer a hard case with another of the
    catalog's interventions (an error-recovery message for a rage tap that comes with errors; any of
    them for a struggle the catalog has no answer for), never with one the catalog lacks, nor with a
    re-engagement (for users who have gone quiet, not for one struggling in the app)."""
    fitting = [e for e in catalog if e.feature in ("*", pending.featureId) and e.signalType is not SignalType.GONE_QUIET]
    own = [e for e in fitting if e.signalType.value == pending.signalType]
    chosen: dict[str, CatalogEntry] = {e.interventionType: e for e in reversed(fitting)}
    chosen.update({e.interventionType: e for e in reversed(own)})
    first = [e.interventionType for e in own]
    return sorted(chosen.values(), key=lambda e: (e.interventionType not in first, fitting.index(e)))


def catalog_choice(catalog: tuple[CatalogEntry, ...], pending: PendingEscalation, intervention_type: str) -> CatalogEntry | None:
    return next((e for e in catalog_choices(catalog, pending) if e.interventionType == intervention_type), None)
