"""One batch of stream records through the core loop.

group by user ▸ load state in bulk ▸ (per user, in order) skip what was already applied or is a
producer duplicate, update features, detect, decide ▸ score exit risk ▸ deliver ▸ persist in bulk ▸ analytics.

Exactly-once per user under redelivery: a user's records all live on one shard, in order, so
the state keeps the highest sequence number it has applied and skips anything at or below it, and
drops producer duplicates by event id (:meth:`journey.users.state.UserState.admit`, the one place
the rule is defined).
Sends are keyed by a deterministic intervention id and checked against the ledger before
delivery, so a replayed batch re-decides the same interventions and does not send them again.
A user whose delivery fails transiently is not persisted, and their records are reported as
batch item failures so Kinesis replays them.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from journey.agent.escalation import Escalation
from journey.app.commands import carry_out
from journey.app.delivery import deliver
from journey.app.fold import NOT_ACTIVITY, WORDED, UserWork, apply_events, detection_window_ms
from journey.app.ports import Ports, QuarantineIncomplete, Writes
from journey.detection.signals import StruggleSignal
from journey.errors import TransientError
from journey.events.decoding import Rejection, RejectionCode
from journey.events.model import EventType, at_time
from journey.events.records import Accepted, Quarantined, ReadRecord, quarantine_accepted
from journey.events.vocabulary import unknown_terms
from journey.interventions.catalog import CatalogEntry
from journey.interventions.ledger import Delivery
from journey.interventions.policy import Decision, Outcome
from journey.risk.model import ExitRiskModel
from journey.settings import Settings
from journey.users.state import UserState

log = logging.getLogger(__name__)


@dataclass
class BatchResult:
    received: int = 0
    applied: int = 0
    duplicates: int = 0
    replayed: int = 0
    late: int = 0
    future_dated: int = 0  # events stamped after their arrival beyond the allowed skew: clamped to their arrival
    stale: int = 0  # decisions not acted on: the event was already old when it arrived
    partition_key_mismatch: int = 0  # records whose partition key is not their user id
    unstorable_users: dict[str, str] = field(default_factory=dict)  # userId -> why the store refused their data
    unknown_vocabulary: Counter = field(default_factory=Counter)  # (field, word) -> events using a word the vocabulary lacks
    unconfirmed: int = 0  # sends a replay found pending: a crash came between publishing and recording
    undeliverable: int = 0  # sends a channel refused for good (recorded with the reason, never retried)
    rejected: Counter = field(default_factory=Counter)
    signals: list[StruggleSignal] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    delivered: list[Decision] = field(default_factory=list)
    failed_sequences: set[str] = field(default_factory=set)
    failed_users: set[str] = field(default_factory=set)
    decision_latency_ms: list[float] = field(default_factory=list)
    analytics_failed: bool = False
    commands: Counter = field(default_factory=Counter)  # command name -> commands applied (consent, erase, outcome)
    erased: dict[str, dict[str, int]] = field(default_factory=dict)  # userId -> items removed per store
    refused_erased: int = 0  # events of erased users, refused (not kept: the user asked for their data to go)
    escalated: int = 0  # hard cases handed to the agent invoker
    escalations_unsent: int = 0  # of those, not handed over (the queue failed): the rules decide at their deadline
    escalation_outcomes: Counter = field(default_factory=Counter)  # how escalations closed, agent requests refused
    silent_rescored: int = 0  # users re-scored because their silence passed a threshold (journey.app.quiet)
    risk_scored_by: Counter = field(default_factory=Counter)  # "model" | "points" -> users scored
    risk_model_unavailable: bool = False  # a model version is configured but could not be loaded: the points model scored

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


def process_batch(
    items: list[ReadRecord],
    ports: Ports,
    settings: Settings,
    catalog: tuple[CatalogEntry, ...],
    batch_key: str,
    clock: Callable[[], float] = time.time,
    model: ExitRiskModel | None = None,
) -> BatchResult:
    """Run one batch; return what happened, including the sequence numbers to report as failed.

    ``batch_key`` names the batch ``<shard id>/<sequence range>`` (``journey.lambda_kit.kinesis.batch_key``):
    a batch's records all come from one shard, whose checkpoint in each user's state they advance.
    ``model``: the trained exit-risk model to score with (None: the points model)."""
    result = BatchResult(received=len(items), risk_model_unavailable=bool(settings.risk.model_version) and model is None)
    shard = batch_key.partition("/")[0]
    rejected = [item for item in items if isinstance(item, Quarantined)]
    if rejected:
        _quarantine(rejected, ports, batch_key, result)

    by_user: dict[str, UserWork] = {}
    grouped = _group_by_user(items, settings.clock.max_future_skew_ms, result)
    if not grouped:
        return result

    states = ports.store.load_states(list(grouped))
    now_ms = int(clock() * 1000)
    window_ms = detection_window_ms(settings.detection)
    skew = settings.clock.max_future_skew_ms
    for user_id, records in grouped.items():
        state = states.get(user_id) or UserState(userId=user_id)
        work = by_user[user_id] = UserWork(state=state)
        admitted = state.admit(records, shard)
        result.replayed += admitted.redelivered
        result.duplicates += admitted.duplicates
        work.records = admitted.fresh
        work.changed = admitted.redelivered < len(records)
        if state.last_event_at > now_ms + skew:
            # written before event times were bounded by arrival: one event from the future would
            # otherwise make every later one "late" and switch detection off for this user
            log.warning("user %r: newest event time %d was ahead of the present; reset", user_id, state.last_event_at)
            state.last_event_at = now_ms
            work.changed = True
        result.late += apply_events(work, settings, catalog, window_ms, model)
        # applied: the user's events (a front door's commands are counted apart; the timer's are applied as events)
        result.applied += len(work.records) - work.refused_erased
        result.refused_erased += work.refused_erased
        if work.commands:
            result.applied -= sum(work.commands.values())
            result.commands.update(work.commands)
        if work.escalation_outcomes:
            result.escalation_outcomes.update(work.escalation_outcomes)
        result.silent_rescored += work.silent_rescored
        if work.risk_scored:
            result.risk_scored_by["points" if model is None else "model"] += 1

    decisions = [d for w in by_user.values() for d in w.decisions]
    sends = [d for d in decisions if d.outcome is Outcome.SEND]
    result.stale = sum(1 for d in decisions if d.outcome is Outcome.STALE)
    sending = deliver(sends, {u: w.state for u, w in by_user.items()}, ports)
    result.unconfirmed += sending.unconfirmed
    result.undeliverable += sending.undeliverable
    decided_at = clock()
    result.decision_latency_ms = [
        max(0.0, (decided_at - arrival) * 1000) for w in by_user.values() for arrival in w.trigger_arrivals if arrival
    ]

    failed_users = {d.userId for d in sends if d.interventionId in sending.failed}
    erasures = {user_id: w.erasures for user_id, w in by_user.items() if w.erasures}
    if erasures:
        result.erased, erasures_failed = carry_out(erasures, {u: by_user[u].state for u in erasures}, ports)
        failed_users |= erasures_failed
    writes = Writes(shard=shard, delivery=sending.delivery, delivery_errors=sending.errors)
    for user_id, work in by_user.items():
        if user_id in failed_users:
            result.failed_sequences.update(r.sequence for r in grouped[user_id])
            # keep the ledger true (what reached the user, what only the topic got), so a replay resends nothing twice
            writes.decisions.extend(
                d
                for d in work.decisions
                if d.interventionId in sending.delivery and d.interventionId not in sending.settled_before
            )
            continue
        writes.tenants[user_id] = work.state.tenant or settings.tenancy.default_tenant
        writes.reports.extend(work.reports)
        if work.changed:
            writes.states.append(work.state)
        if work.journal:
            writes.journal[user_id] = work.journal
        writes.signals.extend(work.signals)
        writes.decisions.extend(d for d in work.decisions if d.interventionId not in sending.settled_before)
        writes.outcomes.extend(work.outcomes)
        writes.escalations.extend(work.escalation_records)
    result.failed_users = failed_users
    refused = ports.store.persist(writes)
    if refused:
        _set_aside(refused, grouped, by_user, ports, batch_key, result)
    escalations = []
    for user_id, work in by_user.items():
        if user_id not in failed_users and user_id not in refused:
            result.signals.extend(work.signals)
            result.decisions.extend(work.decisions)
            escalations.extend(work.escalations)
    if escalations:
        _hand_over(escalations, ports, result)
    result.delivered = [
        d
        for d in sends
        if sending.delivery.get(d.interventionId) is Delivery.DELIVERED and d.interventionId not in sending.skipped
    ]

    if ports.analytics is not None:
        try:
            ports.analytics.record(result.signals, result.decisions, _activity_by_feature(by_user), int(decided_at * 1000))
        except Exception as exc:  # noqa: BLE001 - analytics must never stall the core loop
            result.analytics_failed = True
            log.warning("analytics write failed; the batch itself succeeded: %s", exc)
    return result


def _activity_by_feature(by_user: dict[str, UserWork]) -> dict[tuple[str, str], int]:
    """The batch's activity events per (feature, event type), for analytics (a plain loop: every event
    of the batch passes here, and a Counter over a generator costs twice as much)."""
    counts: dict[tuple[str, EventType], int] = {}
    get = counts.get
    for work in by_user.values():
        for record in work.records:
            event = record.event
            kind = event.eventType
            if kind not in NOT_ACTIVITY:
                key = (event.feature, kind)
                counts[key] = get(key, 0) + 1
    return {(feature, kind.value): n for (feature, kind), n in counts.items()}  # an enum's .value costs a Python call


def _hand_over(escalations: list[Escalation], ports: Ports, result: BatchResult) -> None:
    """Give the batch's hard cases to the agent invoker, once their state is written (the escalation
    is open before the agent can answer it). One that cannot be handed over is not retried: the rules
    decide it when its deadline passes (the deadline timer wakes the user), so nothing is lost."""
    result.escalated += len(escalations)
    if ports.escalations is None:
        log.warning("%d escalations and no escalation queue wired: the rules decide them at their deadline", len(escalations))
        result.escalations_unsent += len(escalations)
        return
    unsent = ports.escalations.submit(escalations)
    if unsent:
        log.warning(
            "%d escalations not handed to the agent: the rules decide them at their deadline: %s", len(unsent), unsent[:3]
        )
        result.escalations_unsent += len(unsent)


def _group_by_user(items: list[ReadRecord], skew_ms: int, result: BatchResult) -> dict[str, list[Accepted]]:
    """Accepted records by user, in stream order, each event's time bounded by its arrival: an event
    stamped later than its arrival plus ``skew_ms`` (a phone clock ahead, a forged time) is clamped
    to its arrival time, so it cannot become the user's "now" and make later events look late."""
    grouped: dict[str, list[Accepted]] = {}
    for item in items:
        if type(item) is not Accepted:
            continue
        event = item.event
        arrival_ms = int(item.arrival * 1000)
        if arrival_ms and event.timestamp > arrival_ms + skew_ms:
            if not result.future_dated:  # one line per batch, with the first example: a flood must not flood the logs
                log.warning(
                    "events stamped after their arrival are clamped to it; first: event %r of user %r, %d ms ahead",
                    event.eventId,
                    event.userId,
                    event.timestamp - arrival_ms,
                )
            result.future_dated += 1
            item = item._replace(event=at_time(event, arrival_ms))
        data = event.eventData
        action, target_type = data.action, data.targetType
        if action is not None or target_type is not None:
            for term in unknown_terms(action if event.eventType in WORDED else None, target_type):
                result.unknown_vocabulary[term] += 1
        user_id = event.userId
        if item.partition_key != user_id and item.partition_key:
            if not result.partition_key_mismatch:  # one line per batch, with the first example
                log.warning(
                    "records keyed by something other than their user id; first: partition key %r, user %r",
                    item.partition_key[:80],
                    user_id,
                )
            result.partition_key_mismatch += 1
        user_records = grouped.get(user_id)
        if user_records is None:
            grouped[user_id] = [item]
        else:
            user_records.append(item)
    return grouped


def _quarantine(rejected: list[Quarantined], ports: Ports, batch_key: str, result: BatchResult) -> None:
    """Keep rejected records with their reasons; count the ones not kept before (a redelivery is not
    counted twice). What the quarantine could not keep is reported failed, so Kinesis retries it."""
    try:
        kept = ports.quarantine.keep(batch_key, rejected)
    except QuarantineIncomplete as exc:  # some were kept: count them; retry only the rest
        log.warning("quarantine incomplete, %d of %d rejected records will be retried: %s", len(exc.failed), len(rejected), exc)
        result.rejected.update(item.rejection.code.value for item in exc.kept)
        result.failed_sequences.update(item.sequence for item in exc.failed)
        return
    except TransientError as exc:
        log.warning("quarantine unavailable, %d rejected records will be retried: %s", len(rejected), exc)
        result.failed_sequences.update(item.sequence for item in rejected)
        return
    result.rejected.update(item.rejection.code.value for item in kept)


def _set_aside(
    refused: dict[str, str],
    grouped: dict[str, list[Accepted]],
    by_user: dict[str, UserWork],
    ports: Ports,
    batch_key: str,
    result: BatchResult,
) -> None:
    """Quarantine the records of the users the store refused (nothing of theirs was written), with
    the reason, so the batch goes through for everyone else; they can be redriven after a fix."""
    result.unstorable_users = refused
    for user_id, reason in refused.items():
        log.error("user %r: the store refused their data, %d records quarantined: %s", user_id, len(grouped[user_id]), reason)
        result.applied -= len(by_user[user_id].records)
    records = [
        quarantine_accepted(record, Rejection(RejectionCode.UNSTORABLE, refused[user_id]))
        for user_id in refused
        for record in grouped[user_id]
        if record.event.eventType
        is not EventType.TIMER  # the timer's commands are not the user's data: redriving them means nothing
    ]
    _quarantine(records, ports, batch_key, result)
