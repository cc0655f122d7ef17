"""Commands from the front doors, folded into the user's state by the stream processor (DESIGN.md
rule 1: it is the one writer; the HTTPS API appends commands to the user's stream): a consent change,
an app's report on an intervention, an erasure."""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields

from journey.app.ports import ErasureRequest, Ports
from journey.errors import TransientError
from journey.events.model import CommandName, UserEvent
from journey.interventions.outcomes import Report
from journey.users.state import UserState

log = logging.getLogger(__name__)
# what an erased user's tombstone keeps: the exactly-once bookkeeping (a replay must still be skipped) and the tenant
TOMBSTONE_KEEPS = frozenset({"userId", "shard_checkpoints", "applied_sequence", "recent_event_ids", "tenant"})


@dataclass(frozen=True, slots=True)
class CommandEffect:
    """What a command asks of the batch beyond the state: a report to store, an erasure to carry out."""

    report: Report | None = None
    erasure: ErasureRequest | None = None


NOTHING = CommandEffect()


def apply_command(state: UserState, event: UserEvent, arrival: float) -> CommandEffect:
    """Fold one command into the state (pure)."""
    command = event.command
    if command is None:  # decoding refuses a command event without its payload
        return NOTHING
    if command.name is CommandName.CONSENT and command.consent is not None:
        consent = command.consent
        state.consent = [consent.inApp, consent.push, consent.messages]
        if state.erased_at and any(state.consent):
            state.erased_at = 0  # consent given again: the tombstone is lifted, the user starts afresh
        return NOTHING
    if command.name is CommandName.OUTCOME and command.interventionId and command.outcome is not None:
        if state.erased_at:
            return NOTHING
        report = Report(state.userId, command.interventionId, command.outcome.value, event.timestamp, command.requestId)
        return CommandEffect(report=report)
    if command.name is CommandName.ERASE:
        erasure = ErasureRequest(
            user_id=state.userId,
            tenant=state.tenant or event.tenantId or "",
            request_id=command.requestId,
            requested_by=command.requestedBy,
            requested_at=event.timestamp,
        )
        entomb(state, max(1, int(arrival * 1000) or event.timestamp))
        return CommandEffect(erasure=erasure)
    return NOTHING


def entomb(state: UserState, at_ms: int) -> None:
    """Reset the state to a tombstone: nothing of the user but what keeps replays exactly-once, no
    consent, and the time of the erasure (their events are refused until consent is given again)."""
    fresh = UserState(userId=state.userId)
    for f in fields(UserState):
        if f.name not in TOMBSTONE_KEEPS:
            setattr(state, f.name, getattr(fresh, f.name))
    state.consent = [False, False, False]
    state.erased_at = at_ms


def carry_out(
    erasures: dict[str, list[ErasureRequest]], tombstones: dict[str, UserState], ports: Ports
) -> tuple[dict[str, dict[str, int]], set[str]]:
    """Carry out a batch's erasures, before anything of the batch is written (the tombstone state is
    written with the rest). Returns what was removed per user, and the users whose erasure failed
    transiently (their records are retried: the command is folded again, the erasure done again)."""
    erased: dict[str, dict[str, int]] = {}
    failed: set[str] = set()
    if ports.eraser is None:
        raise RuntimeError("an erase command arrived and no eraser is wired (journey.adapters.aws.factories)")
    for user_id, requests in erasures.items():
        try:
            for request in requests:  # each request carried out and audited (a second one finds nothing left)
                erased[user_id] = ports.eraser.erase(request, tombstones[user_id])
        except TransientError as exc:
            log.warning("user %r: erasure interrupted, their records will be retried: %s", user_id, exc)
            failed.add(user_id)
    return erased, failed
