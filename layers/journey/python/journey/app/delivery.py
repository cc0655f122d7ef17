"""Delivering a batch's sends through the interventions ledger: intent first, then the channels."""

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


@dataclass
class Sending:
    """What became of a batch's sends: each one's new ledger state, the transient failures, and the
    ones a replay found already settled (not sent again)."""

    delivery: dict[str, Delivery] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: set[str] = field(default_factory=set)
    errors: dict[str, str] = field(default_factory=dict)  # interventionId -> why it did not go through (kept in the ledger)
    unconfirmed: int = 0  # sends a replay found pending: a crash came between publishing and recording


def deliver(sends: list[Decision], states: dict[str, UserState], ports: Ports) -> Sending:
    """Send what the ledger does not already have, recording the intent (``pending``) first."""
    sending = Sending()
    if not sends:
        return sending
    ledger = ports.store.delivery_states(sends)
    to_deliver = []
    for decision in sends:
        known = ledger.get(decision.interventionId)
        if known is not None and known.settled:
            confirmed = known is Delivery.DELIVERED
            sending.delivery[decision.interventionId] = Delivery.DELIVERED if confirmed else Delivery.UNCONFIRMED
            sending.skipped.add(decision.interventionId)
            if not confirmed:
                sending.unconfirmed += 1
        else:
            to_deliver.append(decision)
    if not to_deliver:
        return sending
    try:
        ports.store.record_intent(to_deliver)
    except TransientError as exc:  # nothing was sent: these users are retried whole
        log.warning("could not record %d sends before delivery, their users will be retried: %s", len(to_deliver), exc)
        sending.failed = {d.interventionId: str(exc) for d in to_deliver}
        return sending
    push_endpoints = {d.userId: states[d.userId].push_endpoint for d in to_deliver if d.channel is Channel.PUSH}
    announced_before = frozenset(d.interventionId for d in to_deliver if ledger.get(d.interventionId) is Delivery.ANNOUNCED)
    report = ports.notifier.deliver(to_deliver, push_endpoints, announced_before)
    sending.failed = report.failed
    sending.errors.update(report.failed)
    for decision in to_deliver:
        iid = decision.interventionId
        if iid not in report.failed:
            sending.delivery[iid] = Delivery.DELIVERED
        else:
            sending.delivery[iid] = Delivery.ANNOUNCED if iid in report.announced else Delivery.FAILED
    return sending
