"""Privacy requests: consent per channel, erasure, and the export of everything held about a user.

Consent and erasure travel as commands on the user's stream (DESIGN.md rule 1): the stream processor
folds a consent change into the user's state (a grant also lifts an erasure's tombstone), and carries
an erasure out (every table, the quarantine, the identity mapping, then an audit record without
personal data), within seconds. The export only reads: identity, state, journal, signals,
interventions with their outcomes and reports, and the quarantined records of the user."""

from __future__ import annotations

import dataclasses
from typing import Any

from pydantic import BaseModel, Field

from journey.app.api_ports import ApiPorts, Caller, InterventionItems, NotFound
from journey.app.inbox import RequestAccepted, append_command, user_pseudonym
from journey.events.commands import consent_command, erase_command
from journey.events.model import Consent


class ConsentChange(BaseModel):
    """The user's consent per channel, as a whole (what is left out is not consented)."""

    inApp: bool = Field(description="in-app messages")
    push: bool = Field(description="mobile push notifications")
    messages: bool = Field(description="email and other messages (the SNS topic's subscribers)")


class UserExport(BaseModel):
    """Everything held about one user, as stored (ids pseudonymous; the identity maps back)."""

    userId: str = Field(description="the app's user id, as asked")
    pseudonym: str = Field(description="the id every table, the stream and the quarantine know the user by")
    tenant: str
    exportedAt: int
    identity: dict[str, Any] | None
    state: dict[str, Any] | None = Field(description="the user's rolling state, decoded")
    stateAttributes: dict[str, Any] | None = Field(description="the attributes stored beside the state")
    journal: list[list[Any]] = Field(description="[eventId, timestamp, eventType, feature, detail], in stream order")
    signals: list[dict[str, Any]]
    interventions: list[dict[str, Any]]
    outcomes: list[dict[str, Any]]
    reports: list[dict[str, Any]]
    quarantined: list[dict[str, Any]]


def change_consent(caller: Caller, user_id: str, change: ConsentChange, ports: ApiPorts) -> RequestAccepted:
    user = user_pseudonym(caller, user_id, ports)
    consent = Consent(inApp=change.inApp, push=change.push, messages=change.messages).model_dump()
    request_id = ports.new_request_id()
    append_command(ports, consent_command(user, caller.tenant, consent, request_id, caller.principal, ports.clock_ms()))
    return RequestAccepted(requestId=request_id)


def request_erasure(caller: Caller, user_id: str, ports: ApiPorts) -> RequestAccepted:
    """Erase the user (the audit record, keyed by the returned request id, says when it is done)."""
    user = user_pseudonym(caller, user_id, ports)
    request_id = ports.new_request_id()
    append_command(ports, erase_command(user, caller.tenant, request_id, caller.principal, ports.clock_ms()))
    return RequestAccepted(requestId=request_id)


def export_user(caller: Caller, user_id: str, ports: ApiPorts) -> UserExport:
    user = user_pseudonym(caller, user_id, ports)
    reads = ports.users
    state = reads.state(user)
    items = InterventionItems.of(reads.interventions(user))
    export = UserExport(
        userId=user_id,
        pseudonym=user,
        tenant=caller.tenant,
        exportedAt=ports.clock_ms(),
        identity=ports.identities.identity(user),
        state=dataclasses.asdict(state) if state is not None else None,
        stateAttributes=reads.state_item(user),
        journal=reads.journal(user),
        signals=reads.signals(user),
        interventions=items.decisions,
        outcomes=list(items.outcomes.values()),
        reports=[report for reports in items.reports.values() for report in reports],
        quarantined=ports.quarantine.records_of(user),
    )
    held = (export.identity, export.state, export.journal, export.signals, export.interventions, export.quarantined)
    if not any(held):
        raise NotFound("nothing is held about this user")
    return export
