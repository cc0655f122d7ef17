"""One user's new records folded into their state, in stream order (pure): features, signals,
decisions, outcomes, and the commands of the front doors. :mod:`journey.app.stream_batch` runs it
for each user of a batch."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from functools import partial

from journey.agent.escalation import ESCALATED, Escalation, EscalationRecord
from journey.app.commands import apply_command
from journey.app.escalations import expire, fold_agent_command, hold_for_agent
from journey.app.ports import ErasureRequest
from journey.app.quiet import check_silence, resolve_on_return, schedule_after_activity
from journey.detection.rules import REFRACTORY_MS, detect
from journey.detection.signals import StruggleSignal
from journey.events.model import CommandName, EventType
from journey.events.records import Accepted
from journey.interventions.catalog import CatalogEntry
from journey.interventions.outcomes import EpisodeOutcome, Report, resolution_window
from journey.interventions.policy import Decision, Outcome, decide, signal_outcome
from journey.kernel.ids import short_id
from journey.risk.history import NOT_STRUGGLE_SIGNALS, prune, record_event, record_send, record_signal
from journey.risk.model import ExitRiskModel
from journey.risk.scoring import score_into
from journey.settings import Settings
from journey.users.profile import resolves_episode, update_profile
from journey.users.state import UserState

# event types whose action is a vocabulary word (help requests and client-reported signals name their own)
WORDED = frozenset({EventType.FEATURE_INTERACTION, EventType.APP_LIFECYCLE, EventType.VIDEO_ENGAGEMENT})
# what is not the user's activity: the system's commands, and who the user is (a profile update)
NOT_ACTIVITY = frozenset({EventType.TIMER, EventType.COMMAND, EventType.IDENTIFY})
AGENT_COMMANDS = frozenset({CommandName.SCHEDULE, CommandName.ESCALATION})


@dataclass(slots=True)
class UserWork:
    state: UserState
    records: list[Accepted] = field(default_factory=list)
    journal: list[tuple[str, list]] = field(default_factory=list)  # (sequence number, journal entry)
    signals: list[StruggleSignal] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    outcomes: list[EpisodeOutcome] = field(default_factory=list)
    changed: bool = False  # the state moved (events applied, a checkpoint advanced, its clock repaired)
    trigger_arrivals: list[float] = field(default_factory=list)  # when each decision's event reached the stream
    reports: list[Report] = field(default_factory=list)  # what the app reported of its interventions
    erasures: list[ErasureRequest] = field(
        default_factory=list
    )  # the user asked to be erased (carried out before the batch is written)
    refused_erased: int = 0  # events refused because the user is erased
    # tallies as defaultdicts: made for every user of every batch, and a Counter costs ~20 times more to make
    commands: dict[str, int] = field(default_factory=partial(defaultdict, int))
    escalations: list[Escalation] = field(default_factory=list)  # hard cases to hand to the agent invoker
    escalation_records: list[EscalationRecord] = field(default_factory=list)  # escalations opened or closed
    escalation_outcomes: dict[str, int] = field(
        default_factory=partial(defaultdict, int)
    )  # closed_agent, closed_fallback, schedule_refused_...
    silent_rescored: int = 0  # the user's silence passed a threshold: re-scored at the timer's time (journey.app.quiet)
    risk_scored: bool = False  # the user's exit risk was scored (the batch applied something of theirs)


def journal_entry(record: Accepted) -> list:
    """The compact form of an event kept in the user's event journal: ``[eventId, timestamp, eventType,
    feature, action or screen or errorType, session fingerprint, value]`` (value: a video event's
    completion rate, else the progress reported; None when absent)."""
    event = record.event
    data = event.eventData
    kind = event.eventType
    value = data.completionRate if kind is EventType.VIDEO_ENGAGEMENT else data.progress
    # eventType is a str enum: the JSON writer stores its value. The last two fields (the session's
    # fingerprint, as the profile keeps it, and the value) are what journey.risk.history folds.
    return [
        event.eventId,
        event.timestamp,
        kind,
        data.feature,
        data.action or data.screen or data.errorType,
        short_id(event.sessionId),
        value,
    ]


def detection_window_ms(cfg) -> int:
    """How far back any detection rule can look, from the user's newest event: a rule looks back its
    own window from an event at most ``late_event_tolerance_ms`` older than the newest. Entries older
    than that can never be read again, so pruning them (whenever a batch happens to end) cannot
    change what is detected."""
    rule_window = max(
        cfg.error_repeat_window_ms,
        cfg.loop_two_screen_window_ms,
        cfg.loop_three_screen_window_ms,
        cfg.attempt_memory_ms,
        cfg.rage_tap_interval_ms * cfg.rage_tap_count,
        cfg.error_then_background_ms,
        REFRACTORY_MS,
    )
    return rule_window + cfg.late_event_tolerance_ms


def apply_events(
    work: UserWork,
    settings: Settings,
    catalog: tuple[CatalogEntry, ...],
    window_ms: int | None = None,
    model: ExitRiskModel | None = None,
) -> int:
    """Fold a user's new events into their state: features, signals, decisions, outcomes (pure).

    Events are applied in stream order (Kinesis keeps a partition key's order), not re-sorted by
    their client timestamps: the fold then gives the same signals and decisions however a retry
    cuts the stream into batches, which is what makes replays idempotent. An event stamped more
    than ``late_event_tolerance_ms`` before the user's newest is profiled and journaled, but not
    run through detection. Returns how many such late events there were.

    ``window_ms``: :func:`detection_window_ms` of the settings, when the caller has it already.
    ``model``: the trained exit-risk model (None: the points model scores)."""
    state = work.state
    policy = settings.policy
    detection = settings.detection
    tolerance = detection.late_event_tolerance_ms
    journal, signals, decisions = work.journal, work.signals, work.decisions
    late = 0
    active_until = state.last_event_at
    rescored_at = 0  # a silence check re-scored the user at this time (the timer's)
    for record in work.records:
        event = record.event
        kind = event.eventType
        if kind is EventType.COMMAND:
            effect = apply_command(state, event, record.arrival)
            if effect.erasure is not None:  # what this batch gathered of the user goes too: only the tombstone is written
                work.erasures.append(effect.erasure)
                gathered_lists = (journal, signals, decisions, work.outcomes, work.reports, work.trigger_arrivals)
                for gathered in (*gathered_lists, work.escalations, work.escalation_records):
                    gathered.clear()
            elif effect.report is not None:
                work.reports.append(effect.report)
            elif event.command and event.command.name in AGENT_COMMANDS and not state.erased_at:
                fold_agent_command(work, event, settings, catalog)
            work.commands[event.command.name.value if event.command else "?"] += 1
            continue
        if state.erased_at:
            work.refused_erased += 1
            continue
        if event.tenantId and not state.tenant:
            state.tenant = event.tenantId
        if kind is EventType.IDENTIFY:
            update_profile(event, state)
            continue
        arrived_at = int(record.arrival * 1000)
        if state.escalations:  # no answer from the agent in time: the rules decide
            expire(work, arrived_at, settings, catalog)
        is_late = state.last_event_at - event.timestamp > tolerance
        update_profile(event, state)
        if state.open_episodes and kind not in NOT_ACTIVITY:  # back after a re-engagement: its episode is resolved
            returned = resolve_on_return(state, event, settings)
            if returned is not None:
                work.outcomes.append(returned)
        if state.open_episodes and resolves_episode(event):
            episode = state.open_episodes.pop(event.feature, None)
            if episode and event.timestamp - episode[2] <= resolution_window(episode[1], policy):
                signal_id, signal_type, decided_at, iid, held_out = episode
                work.outcomes.append(
                    EpisodeOutcome(
                        userId=state.userId,
                        interventionId=iid,
                        signalId=signal_id,
                        signalType=signal_type,
                        featureId=event.feature,
                        heldOut=bool(held_out),
                        resolvedAt=event.timestamp,
                        resolutionMs=max(0, event.timestamp - decided_at),
                    )
                )
        entry = journal_entry(record)
        journal.append((record.sequence, entry))
        record_event(state.activity, entry[1], kind, entry[3], entry[4], entry[5], entry[6])
        if kind is EventType.TIMER and state.quiet_due:
            silence = check_silence(state, event, arrived_at, settings, catalog, model)
            if silence is not None:
                work.silent_rescored += 1
                rescored_at = silence.rescored_at
                if silence.signal is not None:
                    signals.append(silence.signal)
                if silence.decision is not None:
                    decisions.append(silence.decision)
                    work.trigger_arrivals.append(record.arrival)
        if is_late:
            late += 1
            continue
        found = detect(event, state, detection, arrived_at)
        if found:
            kinds = len({signal.signalType for signal in found})
            for signal in found:
                decision = decide(signal, state, policy, catalog, now=event.timestamp, arrived_at=arrived_at)
                decision, escalated = hold_for_agent(work, signal, decision, kinds, settings, catalog, arrived_at)
                outcome = ESCALATED if escalated else signal_outcome(signal, decision, catalog)
                signals.append(replace(signal, outcome=outcome))
                if decision is not None:
                    decisions.append(decision)
                    work.trigger_arrivals.append(record.arrival)
    if work.records and not state.erased_at:
        # windows are pruned from the user's own newest event, never from a silence check's time: events of
        # theirs still on the way (an offline backlog) then find the detection windows as they left them
        now = state.last_event_at
        _record_signals_and_sends(work)
        prune(state.activity, now)
        state.prune(
            now,
            policy.frequency_window_ms,
            policy.feature_cooldown_ms,
            lambda signal_type: resolution_window(signal_type, policy) + tolerance,  # a late success may still resolve it
            detection_window_ms(detection) if window_ms is None else window_ms,
        )
        score_into(state, max(now, rescored_at), settings.risk, model)  # a silent user is scored at the check's time
        work.risk_scored = True
        if state.last_event_at > active_until:  # active again: silence is counted from the newest event
            schedule_after_activity(state, settings)
    return late


def _record_signals_and_sends(work: UserWork) -> None:
    """The batch's detected signals and its sends (whatever decided them: rules, agent, fallback) into
    the activity history, by the times the Signals and Interventions tables store."""
    activity = work.state.activity
    for signal in work.signals:
        if signal.signalType not in NOT_STRUGGLE_SIGNALS:
            record_signal(activity, signal.detectedAt)
    for decision in work.decisions:
        if decision.outcome is Outcome.SEND:
            record_send(activity, decision.decidedAt)
