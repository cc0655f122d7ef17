"""Delivering a batch's sends through the interventions ledger: intent first, then the channels.

Every send ends in a known ledger state (DESIGN.md rule 5): ``delivered``; ``undeliverable`` with
the reason (permanent, never sent again); ``failed`` / ``announced`` with the reason (transient: the
user's records are replayed and the send retried); ``unconfirmed`` (unknown: never sent again)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from journey.app.ports import Ports
from journey.errors import TransientError
from journey.interventions.catalog import Channel
from journey.interventions.ledger import Delivery
from journey.interventions.policy import Decision
from journey.users.state import UserState

log = logging.getLogger(__name__)

CRASH_WINDOW = "outcome unknown: found pending on a replay (the sandbox ended between sending and recording); not sent again"


@dataclass
class Sending:
    """What became of a batch's sends: each one's new ledger state, the reason for each that did not
    go through, the transient failures (their users are retried), and the ones a replay found
    already settled (not sent again)."""

    delivery: dict[str, Delivery] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # transient only: retry the user
    skipped: set[str] = field(default_factory=set)
    settled_before: set[str] = field(default_factory=set)  # skipped, and their ledger items need no rewrite
    errors: dict[str, str] = field(default_factory=dict)  # interventionId -> why it did not go through (kept in the ledger)
    unconfirmed: int = 0  # sends a replay found pending: a crash came between publishing and recording
    undeliverable: int = 0  # sends that failed for good in this batch (not counting those settled before)


def deliver(sends: list[Decision], states: dict[str, UserState], ports: Ports) -> Sending:
    """Send what the ledger does not already have, recording the intent (``pending``) first."""
    sending = Sending()
    if not sends:
        return sending
    ledger = ports.store.delivery_states(sends)
    to_deliver = []
    for decision in sends:
        iid = decision.interventionId
        known = ledger.get(iid)
        if known is None or not known.settled:
            to_deliver.append(decision)
            continue
        sending.skipped.add(iid)
        if known is Delivery.PENDING:  # the crash window: it may have gone out
            sending.delivery[iid] = Delivery.UNCONFIRMED
            sending.errors[iid] = CRASH_WINDOW
            sending.unconfirmed += 1
            continue
        sending.delivery[iid] = known
        sending.settled_before.add(iid)  # rewriting it would only lose the reason it was recorded with
    if not to_deliver:
        return sending
    try:
        ports.store.record_intent(to_deliver)
    except TransientError as exc:  # nothing was sent: these users are retried whole
        log.warning("could not record %d sends before delivery, their users will be retried: %s", len(to_deliver), exc)
        sending.failed = {d.interventionId: f"not sent, the intent could not be recorded: {exc}" for d in to_deliver}
        sending.errors.update(sending.failed)
        return sending
    push_endpoints = {d.userId: states[d.userId].push_endpoint for d in to_deliver if d.channel is Channel.PUSH}
    announced_before = frozenset(d.interventionId for d in to_deliver if ledger.get(d.interventionId) is Delivery.ANNOUNCED)
    report = ports.notifier.deliver(to_deliver, push_endpoints, announced_before)
    unknown = 0
    for decision in to_deliver:
        iid = decision.interventionId
        if iid in report.failed:  # transient: sent again when the user's records are replayed
            sending.failed[iid] = sending.errors[iid] = report.failed[iid]
            sending.delivery[iid] = Delivery.ANNOUNCED if iid in report.announced else Delivery.FAILED
        elif iid in report.undeliverable:
            sending.errors[iid] = report.undeliverable[iid]
            sending.delivery[iid] = Delivery.UNDELIVERABLE
            sending.undeliverable += 1
        elif iid in report.unknown:
            sending.errors[iid] = f"outcome unknown, not sent again: {report.unknown[iid]}"
            sending.delivery[iid] = Delivery.UNCONFIRMED
            sending.unconfirmed += 1
            unknown += 1
        else:
            sending.delivery[iid] = Delivery.DELIVERED
    if sending.failed or sending.undeliverable or unknown:
        log.warning(
            "of %d sends, %d failed transiently (their users are retried), %d are undeliverable, %d have an unknown outcome",
            len(to_deliver),
            len(sending.failed),
            sending.undeliverable,
            unknown,
        )
    return sending
