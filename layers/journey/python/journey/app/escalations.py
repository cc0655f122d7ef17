"""The stream processor's side of the agent (pure): holding a hard case's decision for the agent,
folding the agent's ``schedule`` and the invoker's ``escalation`` commands through the policy, and
letting the rules decide when no answer comes (DESIGN.md rule 1: the processor stays the one writer;
rule 6: every decision says who made it).

* A hard case (:func:`journey.agent.escalation.escalation_reason`) whose rules' decision was a send
  is recorded ``escalated``: its place under the frequency cap and the feature's cooldown stay taken,
  nothing is sent yet, and an :class:`Escalation` goes to the agent invoker.
* ``schedule`` (the agent asks for an intervention): the escalation must be open and not yet
  answered; the intervention must be the catalog's for the signal; :func:`request_verdict` judges it
  at the user's time, like the rules' decisions. A refusal is recorded as a suppressed decision with
  its reason, and the agent may ask again; a send answers the escalation.
* ``escalation`` (the invoker closes it): ``agent`` keeps what the agent chose (or nothing: the
  reserved place is given back); ``fallback`` sends the rules' own decision, unless the agent's send
  is already through. No answer by the escalation's deadline (on the arrival clock; the deadline
  timer wakes the user) is a fallback too.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from journey.agent.escalation import (
    ESCALATED,
    Escalation,
    EscalationRecord,
    PendingEscalation,
    catalog_choice,
    escalation_id,
    escalation_reason,
)
from journey.detection.signals import Severity, SignalType, StruggleSignal
from journey.events.model import Command, UserEvent
from journey.interventions.catalog import CatalogEntry, Channel
from journey.interventions.policy import Decision, Outcome, decision_id, request_verdict
from journey.settings import Settings
from journey.users.state import COOLDOWNS_CAP, ESCALATIONS_CAP, UserState, evict_oldest

if TYPE_CHECKING:
    from journey.app.fold import UserWork

log = logging.getLogger(__name__)
AGENT = "agent"
FALLBACK = "fallback"


def hold_for_agent(
    work: UserWork,
    signal: StruggleSignal,
    decision: Decision | None,
    signal_types: int,
    settings: Settings,
    catalog: tuple[CatalogEntry, ...],
    arrived_at: int,
) -> tuple[Decision | None, bool]:
    """The rules' decision, held for the agent when the case is hard; returns (the decision to record,
    whether the signal was escalated)."""
    agent = settings.agent
    if agent.mode == "none" or (decision is not None and decision.outcome is Outcome.STALE):
        return decision, False
    state = work.state
    rules_send = decision is not None and decision.outcome is Outcome.SEND
    matches = decision is not None or any(entry.matches(signal) for entry in catalog)
    reason = escalation_reason(signal, rules_send, matches, state, signal_types, agent)
    if reason is None:
        return decision, False
    if decision is None and arrived_at and arrived_at - signal.detectedAt > settings.policy.max_event_age_ms:
        return decision, False  # history: the user has moved on
    eid = escalation_id(signal.signalId)
    if eid in state.escalations:
        return decision, True
    pending = PendingEscalation(
        signalId=signal.signalId,
        signalType=signal.signalType.value,
        featureId=signal.featureId,
        severity=signal.severity.value,
        ruleIntervention=decision.interventionType if decision else "",
        ruleChannel=decision.channel.value if decision and decision.channel else "",
        escalatedAt=signal.detectedAt,
        expiresAt=(arrived_at or signal.detectedAt) + agent.time_budget_ms + agent.answer_grace_ms,
        reason=reason,
        triggerEventId=signal.triggerEventId,
        decided="",
    )
    state.escalations[eid] = list(pending)
    work.escalation_records.append(EscalationRecord.opened(state.userId, eid, pending))
    work.escalations.append(
        Escalation(
            escalationId=eid,
            userId=state.userId,
            tenant=state.tenant or settings.tenancy.default_tenant,
            signalId=pending.signalId,
            signalType=pending.signalType,
            featureId=pending.featureId,
            severity=pending.severity,
            reason=reason,
            ruleIntervention=pending.ruleIntervention,
            ruleChannel=pending.ruleChannel,
            escalatedAt=pending.escalatedAt,
            expiresAt=pending.expiresAt,
            riskScore=state.risk_score,
            riskBand=state.risk_band,
            segment=state.segment,
        )
    )
    if len(state.escalations) > ESCALATIONS_CAP:
        oldest = min(state.escalations, key=lambda key: state.escalations[key][6])
        close(work, oldest, FALLBACK, "displaced", settings, catalog)
    if decision is None:
        return None, True
    return replace(decision, outcome=Outcome.ESCALATED, reason=f"{ESCALATED}:{reason}"), True


def fold_agent_command(work: UserWork, event: UserEvent, settings: Settings, catalog: tuple[CatalogEntry, ...]) -> None:
    """Fold a ``schedule`` or ``escalation`` command (see the module's docstring)."""
    command = event.command
    if command is None or not command.escalationId:
        return
    if command.name.value == "schedule":
        _schedule(work, command, settings, catalog)
    elif command.decider in (AGENT, FALLBACK):
        close(
            work,
            command.escalationId,
            command.decider,
            command.reason or "",
            settings,
            catalog,
            provenance=command,
        )


def expire(work: UserWork, arrival_ms: int, settings: Settings, catalog: tuple[CatalogEntry, ...]) -> None:
    """Let the rules decide the escalations whose answer did not come by their deadline."""
    escalations = work.state.escalations
    if not escalations or not arrival_ms:
        return
    for eid in [eid for eid, stored in escalations.items() if stored[7] <= arrival_ms]:
        close(work, eid, FALLBACK, "no_answer", settings, catalog)


def earliest_expiry(work: UserWork) -> int:
    return min((stored[7] for stored in work.state.escalations.values()), default=0)


def close(
    work: UserWork,
    eid: str,
    decider: str,
    why: str,
    settings: Settings,
    catalog: tuple[CatalogEntry, ...],
    provenance: Command | None = None,
) -> None:
    state = work.state
    stored = state.escalations.pop(eid, None)
    if stored is None:  # closed before (its deadline passed, or a redelivered close)
        work.escalation_outcomes["already_closed"] += 1
        return
    pending = PendingEscalation.of(stored)
    now = max(state.last_event_at, pending.escalatedAt)
    final = pending.decided
    status = AGENT if pending.decided else decider
    if not pending.decided and decider == FALLBACK and pending.ruleIntervention:
        entry = catalog_choice(catalog, pending, pending.ruleIntervention)
        if entry is not None:
            outcome, channel, reason = request_verdict(
                entry, SignalType(pending.signalType), pending.featureId, state, settings.policy, now, reserved=True
            )
            made = _decision(
                pending,
                state.userId,
                entry,
                outcome,
                channel,
                f"fallback:{why}" if outcome is Outcome.SEND else reason,
                f"fallback:rule:{entry.interventionType}",
                now,
                rules_id(pending, entry),
            )
            work.decisions.append(made)
            final = made.interventionId
    elif not pending.decided and pending.ruleIntervention:
        _give_back(state, pending)  # the agent chose nothing: the place the rules' send held is free again
    work.escalation_records.append(
        replace(
            EscalationRecord.opened(state.userId, eid, pending),
            status=status,
            fallbackReason=why if decider == FALLBACK else "",
            finalInterventionId=final,
            model=(provenance.model or "") if provenance else "",
            latencyMs=(provenance.latencyMs or 0) if provenance else 0,
            inputTokens=(provenance.inputTokens or 0) if provenance else 0,
            outputTokens=(provenance.outputTokens or 0) if provenance else 0,
            closedAt=now,
        )
    )
    work.escalation_outcomes[f"closed_{status}"] += 1


def _schedule(work: UserWork, command: Command, settings: Settings, catalog: tuple[CatalogEntry, ...]) -> None:
    state = work.state
    eid = command.escalationId or ""
    stored = state.escalations.get(eid)
    if stored is None or stored[10]:
        work.escalation_outcomes["schedule_refused_" + ("no_open_escalation" if stored is None else "already_decided")] += 1
        return
    pending = PendingEscalation.of(stored)
    now = max(state.last_event_at, pending.escalatedAt)
    requested = command.interventionType or ""
    entry = catalog_choice(catalog, pending, requested)
    channel = next((c for c in Channel if c.value == command.channel), None)
    if entry is None or (command.channel and channel is None):
        problem = "not_in_catalog" if entry is None else f"unknown_channel:{command.channel}"
        template = CatalogEntry(requested or "unknown", SignalType(pending.signalType), "*", (), "")
        work.decisions.append(
            _decision(pending, state.userId, template, Outcome.SUPPRESSED, None, problem, AGENT, now, agent_id(eid, requested))
        )
        return
    reserved = bool(pending.ruleIntervention)
    outcome, chosen, reason = request_verdict(
        entry, SignalType(pending.signalType), pending.featureId, state, settings.policy, now, reserved, channel
    )
    made = _decision(pending, state.userId, entry, outcome, chosen, reason, AGENT, now, agent_id(eid, entry.interventionType))
    work.decisions.append(made)
    if outcome is Outcome.SUPPRESSED:
        return  # the agent may ask for another one
    state.escalations[eid] = list(pending._replace(decided=made.interventionId))
    if not reserved:  # the send takes its place under the cap and starts the feature's cooldown
        state.send_times.append(now)
        state.feature_cooldowns[pending.featureId] = now
        if len(state.feature_cooldowns) > COOLDOWNS_CAP:
            evict_oldest(state.feature_cooldowns, lambda at: at)
    state.open_episodes[pending.featureId] = [
        pending.signalId,
        pending.signalType,
        now,
        made.interventionId,
        int(outcome is Outcome.HELD_OUT),
    ]


def _give_back(state: UserState, pending: PendingEscalation) -> None:
    if pending.escalatedAt in state.send_times:
        state.send_times.remove(pending.escalatedAt)


def rules_id(pending: PendingEscalation, entry: CatalogEntry) -> str:
    """The rules' decision's id: the fallback sends it (its ledger item, ``escalated`` until then)."""
    return decision_id(pending.signalId, entry.interventionType)


def agent_id(eid: str, intervention_type: str) -> str:
    """The id of the agent's decision: one per (escalation, intervention type)."""
    return decision_id(f"{eid}|agent", intervention_type)


def _decision(
    pending: PendingEscalation,
    user_id: str,
    entry: CatalogEntry,
    outcome: Outcome,
    channel: Channel | None,
    reason: str,
    decided_by: str,
    now: int,
    iid: str,
) -> Decision:
    return Decision(
        interventionId=iid,
        userId=user_id,
        signalId=pending.signalId,
        signalType=SignalType(pending.signalType),
        featureId=pending.featureId,
        severity=Severity(pending.severity),
        interventionType=entry.interventionType,
        outcome=outcome,
        channel=channel,
        reason=reason,
        decidedBy=decided_by,
        decidedAt=now,
        message=entry.message.format(feature=pending.featureId) if entry.message else "",
        triggerEventId=pending.triggerEventId,
    )
