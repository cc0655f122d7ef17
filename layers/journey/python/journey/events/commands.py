"""Commands the system itself appends to a user's stream, as events (DESIGN.md rule 1: the stream
processor is the only writer of user state; other front doors send it commands).

* the deadline timer's ``timer`` command. Apps cannot send one: a ``timer`` event whose id is not
  the one the timer derives is refused with the reason;
* the HTTPS API's ``command`` events: a consent change, an erasure, an intervention's outcome
  (:func:`consent_command`, :func:`erase_command`, :func:`outcome_command`). The API never forwards
  an app's own event typed ``command``; a back end writing to the stream directly is trusted with them.
  Their event id is derived from the request id, so a retried request is one command."""

from __future__ import annotations

import hashlib
from typing import Any

COMMAND_SESSION = "command"

TIMER_SESSION = "timer"
TIMER_ACTION = "deadline"


def timer_command_id(user_id: str, deadline: int) -> str:
    """The timer command's event id: the same for the same (user, deadline), whichever run appends it."""
    digest = hashlib.blake2b(f"{user_id}|{deadline}".encode(), digest_size=10).hexdigest()
    return f"timer-{digest}"


def timer_command_problem(event_id: str, user_id: str, session_id: str, timestamp: int) -> str | None:
    """Why an event typed ``timer`` is not the deadline timer's command (None when it is)."""
    if session_id != TIMER_SESSION or event_id != timer_command_id(user_id, timestamp):
        return "eventType 'timer' is the deadline timer's command and cannot be sent by an app (see docs/events.md)"
    return None


def command_event_id(name: str, user_id: str, request_id: str) -> str:
    digest = hashlib.blake2b(f"{name}|{user_id}|{request_id}".encode(), digest_size=12).hexdigest()
    return f"cmd-{name}-{digest}"


def _command(user_id: str, tenant: str, at_ms: int, command: dict[str, Any]) -> dict[str, Any]:
    """A command as a native event (the shape the stream carries)."""
    return {
        "eventId": command_event_id(command["name"], user_id, command["requestId"]),
        "eventType": "command",
        "userId": user_id,
        "sessionId": COMMAND_SESSION,
        "timestamp": at_ms,
        "tenantId": tenant,
        "command": command,
    }


def consent_command(
    user_id: str, tenant: str, consent: dict[str, bool], request_id: str, requested_by: str, at_ms: int
) -> dict[str, Any]:
    """The user's consent per channel (``inApp``, ``push``, ``messages``) is now ``consent``."""
    payload = {"name": "consent", "requestId": request_id, "requestedBy": requested_by, "consent": consent}
    return _command(user_id, tenant, at_ms, payload)


def erase_command(user_id: str, tenant: str, request_id: str, requested_by: str, at_ms: int) -> dict[str, Any]:
    """Erase everything held about the user; refuse their events until consent is given again."""
    return _command(user_id, tenant, at_ms, {"name": "erase", "requestId": request_id, "requestedBy": requested_by})


def outcome_command(
    user_id: str, tenant: str, intervention_id: str, outcome: str, request_id: str, requested_by: str, at_ms: int
) -> dict[str, Any]:
    """The app reports what became of an intervention: shown, dismissed, acted or resolved."""
    payload = {
        "name": "outcome",
        "requestId": request_id,
        "requestedBy": requested_by,
        "interventionId": intervention_id,
        "outcome": outcome,
    }
    return _command(user_id, tenant, at_ms, payload)


def schedule_command(
    user_id: str,
    tenant: str,
    escalation_id: str,
    intervention_type: str,
    channel: str | None,
    rationale: str,
    requested_by: str,
    at_ms: int,
) -> dict[str, Any]:
    """The agent asks for ``intervention_type`` (a catalog entry's) for an open escalation; the stream
    processor folds it through the same policy as the rules' decisions. The same request (escalation,
    type, channel) is one command however often the agent repeats it."""
    payload: dict[str, Any] = {
        "name": "schedule",
        "requestId": f"{escalation_id}|{intervention_type}|{channel or ''}",
        "requestedBy": requested_by,
        "escalationId": escalation_id,
        "interventionType": intervention_type,
        "rationale": rationale[:1000],
    }
    if channel:
        payload["channel"] = channel
    return _command(user_id, tenant, at_ms, payload)


def escalation_command(
    user_id: str,
    tenant: str,
    escalation_id: str,
    decider: str,
    reason: str,
    requested_by: str,
    at_ms: int,
    model: str = "",
    latency_ms: int = 0,
    input_tokens: int = 0,
    output_tokens: int = 0,
) -> dict[str, Any]:
    """The agent invoker closes an escalation: ``decider`` ``agent`` (it chose, through ``schedule``
    commands, or chose nothing) or ``fallback`` (the rules' decision stands: ``reason`` says why), with
    the call's provenance. One per escalation (its id is derived from the escalation's)."""
    payload: dict[str, Any] = {
        "name": "escalation",
        "requestId": escalation_id,
        "requestedBy": requested_by,
        "escalationId": escalation_id,
        "decider": decider,
        "reason": reason[:256],
        "latencyMs": max(0, int(latency_ms)),
        "inputTokens": max(0, int(input_tokens)),
        "outputTokens": max(0, int(output_tokens)),
    }
    if model:
        payload["model"] = model[:256]
    return _command(user_id, tenant, at_ms, payload)


def command_problem(event_type: str, command: object) -> str | None:
    """Why an event's command payload does not fit its type (None when it does)."""
    if event_type == "command" and command is None:
        return "eventType 'command' needs a 'command' object (name, requestId, ...); see docs/api.md"
    if event_type != "command" and command is not None:
        return "only events typed 'command' carry a 'command' object"
    return None
