"""One user's new records folded into their state, in stream order (pure): features, signals,
decisions, outcomes, and the commands of the front doors. :mod:`journey.app.stream_batch` runs it
for each user of a batch."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from journey.agent.escalation import ESCALATED, Escalation, EscalationRecord
from journey.app.commands import apply_command
from journey.app.escalations import expire, fold_agent_command, hold_for_agent
from journey.app.ports import ErasureRequest
from journey.detection.rules import REFRACTORY_MS, detect
from journey.detection.signals import StruggleSignal
from journey.events.model import CommandName, EventType
from journey.events.records import Accepted
from journey.interventions.catalog import CatalogEntry
from journey.interventions.outcomes import EpisodeOutcome, Report, resolution_window
from journey.interventions.policy import Decision, decide, signal_outcome
from journey.risk.points import score_exit_risk
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
    commands: Counter = field(default_factory=Counter)
    escalations: list[Escalation] = field(default_factory=list)  # hard cases to hand to the agent invoker
    escalation_records: list[EscalationRecord] = field(default_factory=list)  # escalations opened or closed
    escalation_outcomes: Counter = field(default_factory=Counter)  # closed_agent, closed_fallback, schedule_refused_...


def journal_entry(record: Accepted) -> list:
    """The compact form of an event kept in the user's event journal."""
    event = record.event
    data = event.eventData
    # eventType is a str enum: the JSON writer stores its value
    return [event.eventId, event.timestamp, event.eventType, data.feature, data.action or data.screen or data.errorType]


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


def apply_events(work: UserWork, settings: Settings, catalog: tuple[CatalogEntry, ...], window_ms: int | None = None) -> int:
    """Fold a user's new events into their state: features, signals, decisions, outcomes (pure).

    Events are applied in stream order (Kinesis keeps a partition key's order), not re-sorted by
    their client timestamps: the fold then gives the same signals and decisions however a retry
    cuts the stream into batches, which is what makes replays idempotent. An event stamped more
    than ``late_event_tolerance_ms`` before the user's newest is profiled and journaled, but not
    run through detection. Returns how many such late events there were.

    ``window_ms``: :func:`detection_window_ms` of the settings, when the caller has it already."""
    state = work.state
    policy = settings.policy
    detection = settings.detection
    tolerance = detection.late_event_tolerance_ms
    journal, signals, decisions = work.journal, work.signals, work.decisions
    late = 0
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
        journal.append((record.sequence, journal_entry(record)))
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
        now = state.last_event_at
        state.prune(
            now,
            policy.frequency_window_ms,
            policy.feature_cooldown_ms,
            lambda signal_type: resolution_window(signal_type, policy) + tolerance,  # a late success may still resolve it
            detection_window_ms(detection) if window_ms is None else window_ms,
        )
        risk = score_exit_risk(state, now, settings.risk)
        state.risk_score, state.risk_band = risk.score, risk.band
        state.risk_contributors = [[name, points] for name, points in risk.contributors]
    return late
