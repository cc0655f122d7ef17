"""The agent's tools as use cases: what each of the three action groups answers, over ports (the
InterventionEngine's here, the reading tools in ``journey.app.agent_reads``), and any tool run by name.

Every tool acts on one user (the user of the escalation the agent was called for) and reads what the
stream processor wrote; the one tool that acts, ``schedule_intervention``, appends a ``schedule``
command to the user's stream (DESIGN.md rule 1), which the stream processor folds through the same
policy as the rules' own decisions. Its check here is advisory (the agent learns at once why a
request would be refused); the processor's, when it folds the command, is the one that counts.

A tool answers a JSON-able dict, or raises: :class:`ToolRefused` (a refusal with its reason:
``no_open_escalation``, ``frequency_cap``, ...), ``journey.agent.tools.ToolArgumentsError`` (what the
model sent does not fit the tool) or a ``TransientError`` (``stream_refused``: ask again).
``journey.lambda_kit.bedrock`` answers each, in one place, for both deployments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from journey.agent.escalation import PendingEscalation, catalog_choices
from journey.agent.tools import ScheduleArguments, ToolArgumentsError, UserArguments, parse_arguments, tool_name
from journey.app.agent_reads import (
    AGENT,
    AgentToolPorts,
    StreamRefused,
    ToolRefused,
    get_feature_hotspots,
    get_intervention_history,
    get_open_signals,
    get_video_engagement,
    get_video_summary,
    tenant_of,
    user_state,
)
from journey.detection.signals import SignalType
from journey.events.commands import schedule_command
from journey.interventions.catalog import CatalogEntry, Channel
from journey.interventions.policy import Outcome, request_verdict
from journey.users.state import UserState

__all__ = ["RUNNERS", "AgentToolPorts", "StreamRefused", "ToolRefused", "check_schedule", "policy_gate", "run_tool"]


# --- dispatch ----------------------------------------------------------------------------------------


def run_tool(name: str, raw: dict[str, Any], ports: AgentToolPorts, session_user: str = "") -> dict[str, Any]:
    """Validate what the model sent for the tool ``name`` (``<target>___<tool>`` accepted) and run it.
    ``session_user``: the escalation's user, when the invocation carries it (the invoker sets it):
    a tool asked about anyone else is refused (``user_mismatch``)."""
    arguments = parse_arguments(name, raw)
    same_user(arguments, session_user)
    return RUNNERS[tool_name(name)](arguments, ports)


def same_user(arguments: object, session_user: str) -> None:
    """Every tool acts on one user: the escalation's, when the invocation says which it is."""
    if session_user and str(getattr(arguments, "userId", "")) != session_user:
        raise ToolRefused("user_mismatch", "the tools act only on the user of the escalation in this session")


# --- InterventionEngine ------------------------------------------------------------------------------


def open_escalation(state: UserState, escalation_id: str | None = None) -> tuple[str, PendingEscalation]:
    """The escalation the agent acts on: ``escalation_id``'s, or the user's newest undecided one."""
    if escalation_id is not None:
        stored = state.escalations.get(escalation_id)
        if stored is None:
            raise ToolRefused("no_open_escalation", f"the user has no open escalation {escalation_id!r}")
        pending = PendingEscalation.of(stored)
        if pending.decided:
            raise ToolRefused("escalation_already_decided", f"{escalation_id} was answered with {pending.decided}")
        return escalation_id, pending
    undecided = [(eid, PendingEscalation.of(s)) for eid, s in state.escalations.items() if not PendingEscalation.of(s).decided]
    if not undecided:
        raise ToolRefused("no_open_escalation", "the agent acts only on an open escalation, and this user has none")
    return max(undecided, key=lambda item: item[1].escalatedAt)


def judged_at(state: UserState, pending: PendingEscalation) -> int:
    """The time the policy judges a request at: the user's own time, as the stream processor judges the
    command when it folds it (``journey.app.escalations``), so the advice here is its verdict."""
    return max(state.last_event_at, pending.escalatedAt)


def catalog_entries(catalog: tuple[CatalogEntry, ...], pending: PendingEscalation) -> list[CatalogEntry]:
    """What the agent may choose for the escalation (:func:`journey.agent.escalation.catalog_choices`)."""
    return catalog_choices(catalog, pending)


def list_allowed_interventions(args: UserArguments, ports: AgentToolPorts) -> dict[str, Any]:
    """The catalog's entries for the user's open escalation, each with the channels the policy allows
    now and, for the others, why not; with the escalation and the rules' own choice."""
    state = user_state(ports, args.userId)
    escalation_id, pending = open_escalation(state)
    now, policy = judged_at(state, pending), ports.settings.policy
    signal_type = SignalType(pending.signalType)
    interventions = []
    for entry in catalog_entries(ports.catalog, pending):
        allowed: list[str] = []
        refused: dict[str, str] = {}
        for channel in entry.channels:
            outcome, _, reason = request_verdict(
                entry,
                signal_type,
                pending.featureId,
                state,
                policy,
                now,
                reserved=bool(pending.ruleIntervention),
                channel=channel,
            )
            if outcome is Outcome.SEND:
                allowed.append(channel.value)
            else:
                refused[channel.value] = reason
        interventions.append(
            {
                "interventionType": entry.interventionType,
                "message": entry.message.format(feature=pending.featureId),
                "allowedChannels": allowed,
                "refusedChannels": refused,
            }
        )
    return {
        "userId": args.userId,
        "escalationId": escalation_id,
        "escalation": {
            "reason": pending.reason,
            "signalType": pending.signalType,
            "featureId": pending.featureId,
            "severity": pending.severity,
            "escalatedAt": pending.escalatedAt,
            "expiresAt": pending.expiresAt,
        },
        "rulesChoice": {"interventionType": pending.ruleIntervention, "channel": pending.ruleChannel or None}
        if pending.ruleIntervention
        else None,
        "interventions": interventions,
    }


@dataclass(frozen=True, slots=True)
class ScheduleCheck:
    """A request the policy would let through now: what to append, and the channel it would go by."""

    state: UserState
    entry: CatalogEntry
    channel: Channel


def check_schedule(args: ScheduleArguments, ports: AgentToolPorts) -> ScheduleCheck:
    """The policy gate of a ``schedule_intervention`` request, appending nothing: the escalation must be
    open and undecided, the type one of the catalog's for its signal, and the policy must say send
    (else :class:`ToolRefused` with the policy's reason: ``frequency_cap``, ``no_push_consent``,
    ``quiet_hours``, ``holdout``, ...)."""
    state = user_state(ports, args.userId)
    _, pending = open_escalation(state, args.escalationId)
    entries = catalog_entries(ports.catalog, pending)
    entry = next((e for e in entries if e.interventionType == args.interventionType), None)
    if entry is None:
        allowed = ", ".join(e.interventionType for e in entries) or "none"
        raise ToolRefused(f"not_in_catalog: {args.interventionType}; allowed: {allowed}")
    outcome, channel, reason = request_verdict(
        entry,
        SignalType(pending.signalType),
        pending.featureId,
        state,
        ports.settings.policy,
        judged_at(state, pending),
        reserved=bool(pending.ruleIntervention),
        channel=Channel(args.channel) if args.channel else None,
    )
    if outcome is not Outcome.SEND or channel is None:
        raise ToolRefused(reason)
    return ScheduleCheck(state, entry, channel)


def schedule_intervention(args: ScheduleArguments, ports: AgentToolPorts) -> dict[str, Any]:
    """Ask for one intervention for the open escalation: a ``schedule`` command on the user's stream."""
    checked = check_schedule(args, ports)
    command = schedule_command(
        args.userId,
        tenant_of(checked.state, ports),
        args.escalationId,
        args.interventionType,
        args.channel,
        args.rationale,
        requested_by=AGENT,
        at_ms=ports.clock_ms(),
    )
    if ports.commands.append([command]):
        raise StreamRefused("stream_refused: the user's stream did not take the request; ask again")
    return {
        "status": "accepted",
        "escalationId": args.escalationId,
        "interventionType": args.interventionType,
        "channel": checked.channel.value,
        "note": "the stream processor applies it through the policy",
    }


def policy_gate(name: str, raw: dict[str, Any], ports: AgentToolPorts, session_user: str = "") -> tuple[bool, str]:
    """Whether a tool call may be made (a harness's before-tool-call hook): every tool may, but a
    ``schedule_intervention`` the policy would refuse may not; returns (allowed, the reason when not).
    Appends nothing; a call it lets through is checked again by the tool, and by the processor."""
    if tool_name(name) != "schedule_intervention":
        return True, ""
    try:
        arguments = parse_arguments(name, raw)
        same_user(arguments, session_user)
        if isinstance(arguments, ScheduleArguments):
            check_schedule(arguments, ports)
    except (ToolRefused, ToolArgumentsError) as refused:
        return False, str(refused)
    return True, ""


RUNNERS: dict[str, Callable[[Any, AgentToolPorts], dict[str, Any]]] = {
    "get_open_signals": get_open_signals,
    "get_feature_hotspots": get_feature_hotspots,
    "get_video_engagement": get_video_engagement,
    "get_video_summary": get_video_summary,
    "list_allowed_interventions": list_allowed_interventions,
    "schedule_intervention": schedule_intervention,
    "get_intervention_history": get_intervention_history,
}
