"""The in-app inbox: what the app should show its signed-in user now, and what became of it.

The inbox is read from the Interventions table the stream processor writes: in-app sends that were
delivered and that the app has not reported on yet. A report (shown, dismissed, acted, resolved)
travels as an ``outcome`` command on the user's stream (DESIGN.md rule 1): the processor records it,
and the intervention leaves the inbox once that is done (seconds). An intervention that is not the
caller's is answered 404, the same as one that does not exist: no oracle for other users' ids."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from journey.app.api_ports import ApiPorts, Caller, Forbidden, InterventionItems, NotFound, Unavailable
from journey.events.commands import outcome_command
from journey.events.identity import normalize_user_id
from journey.events.model import MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS, InterventionOutcome
from journey.interventions.catalog import Channel
from journey.interventions.ledger import Delivery
from journey.interventions.policy import Outcome

SENT = Outcome.SEND.value


class InboxItem(BaseModel):
    interventionId: str
    signalType: str
    featureId: str
    interventionType: str
    message: str
    decidedAt: int = Field(description="epoch ms")
    channel: str
    reported: list[str] = Field(default_factory=list, description="outcomes the app reported of it so far")


class Inbox(BaseModel):
    interventions: list[InboxItem]


class OutcomeReport(BaseModel):
    outcome: InterventionOutcome
    at: int | None = Field(
        None,
        ge=MIN_TIMESTAMP_MS,
        le=MAX_TIMESTAMP_MS,
        description="when it happened (epoch ms); absent: now. A future time is read as now",
    )


class RequestAccepted(BaseModel):
    """The request is on the user's stream; the stream processor carries it out within seconds."""

    requestId: str


def user_pseudonym(caller: Caller, user_id: str, ports: ApiPorts) -> str:
    """The pseudonym of the path's user, within the caller's tenant (a user's token: only their own)."""
    try:
        own = normalize_user_id(user_id)
    except ValueError as exc:
        raise NotFound(f"no such user: {exc}") from exc
    caller.require_self(own)
    return ports.pseudonym_of(caller.tenant, own)


def is_in_app_send(decision: dict[str, Any]) -> bool:
    return decision.get("channel") == Channel.IN_APP.value and decision.get("status") == SENT


def inbox(caller: Caller, user_id: str, ports: ApiPorts, status: Literal["pending", "all"] = "pending") -> Inbox:
    """The user's in-app interventions, newest first: delivered and not yet reported (``pending``), or
    every in-app send (``all``)."""
    items = InterventionItems.of(ports.users.interventions(user_pseudonym(caller, user_id, ports)))
    shown = []
    for decision in items.decisions:
        if not is_in_app_send(decision):
            continue
        reports = [str(report["outcome"]) for report in items.reports.get(decision["interventionId"], [])]
        if status == "pending" and (reports or decision.get("delivery") != Delivery.DELIVERED.value):
            continue
        shown.append(
            InboxItem(
                interventionId=decision["interventionId"],
                signalType=str(decision.get("signalType", "")),
                featureId=str(decision.get("featureId", "")),
                interventionType=str(decision.get("interventionType", "")),
                message=str(decision.get("message", "")),
                decidedAt=int(decision.get("decidedAt", 0)),
                channel=str(decision["channel"]),
                reported=reports,
            )
        )
    shown.sort(key=lambda item: item.decidedAt, reverse=True)
    return Inbox(interventions=shown)


def report_outcome(caller: Caller, intervention_id: str, report: OutcomeReport, ports: ApiPorts) -> RequestAccepted:
    """Append the app's report of one of its user's interventions to the user's stream."""
    if caller.user_id is None:
        raise Forbidden("an outcome is reported with the app user's token")
    user_id = user_pseudonym(caller, caller.user_id, ports)
    decision = ports.users.intervention(user_id, intervention_id)
    if decision is None or decision.get("status") != SENT:
        raise NotFound("the signed-in user has no intervention of that id")
    now = ports.clock_ms()
    at = now if report.at is None else min(report.at, now)
    request_id = ports.new_request_id()
    command = outcome_command(user_id, caller.tenant, intervention_id, report.outcome.value, request_id, caller.principal, at)
    append_command(ports, command)
    return RequestAccepted(requestId=request_id)


def append_command(ports: ApiPorts, command: dict[str, Any]) -> None:
    """A command onto its user's stream, or 503 (nothing appended: the caller sends the request again)."""
    (refusal,) = ports.stream.append_each([command])
    if refusal:
        raise Unavailable(f"the stream did not take the request ({refusal[:200]}); send it again")
