"""Struggle detection: one small rule a behaviour, each reading and updating its own window of the state.

The rules live one module a behaviour (presses, failures, navigation, flows, help) and follow
published practice (docs/detection.md gives each rule, its defaults and their sources). ``detect``
runs the rules an event can trigger and returns the signals, after a per feature-and-type refractory
period so one episode of struggling is one signal, not ten.
"""

from __future__ import annotations

from collections.abc import Sequence

from journey.detection.failures import detect_error_patterns, detect_repeated_attempts
from journey.detection.findings import NONE, Finding, Rule
from journey.detection.flows import detect_abandonment
from journey.detection.help import detect_help_seeking, lexicon_of
from journey.detection.navigation import detect_screen_loop
from journey.detection.presses import detect_rage_taps
from journey.detection.signals import Severity, SignalType, StruggleSignal
from journey.events.model import EventType, UserEvent
from journey.settings import DetectionSettings
from journey.users.state import LAST_FIRED_CAP, UserState, evict_oldest

REFRACTORY_MS = 60_000


def detect_client_reported(event: UserEvent, state: UserState, cfg: DetectionSettings) -> Sequence[Finding]:
    """A ``struggle_signal`` event: the app's SDK already saw struggle; take its word, typed."""
    if event.eventType is not EventType.STRUGGLE_SIGNAL:
        return NONE
    try:
        signal_type = SignalType(event.eventData.action or "")
    except ValueError:
        signal_type = SignalType.REPEATED_ATTEMPTS
    return [(signal_type, event.feature, Severity.MEDIUM, {"rule": "client_reported"})]


# Each rule and the event types it reads; ``detect`` runs only the rules an event can trigger.
RULES: tuple[tuple[Rule, frozenset[EventType]], ...] = (
    (
        detect_rage_taps,
        frozenset(
            {
                EventType.FEATURE_INTERACTION,
                EventType.SCREEN_VIEW,
                EventType.PAGE_VIEW,
                EventType.VIDEO_ENGAGEMENT,
                EventType.SEARCH,
            }
        ),
    ),
    # errors before attempts: the error rule asks whether an error is an attempt's failure before the attempts rule counts it
    (detect_error_patterns, frozenset({EventType.ERROR, EventType.APP_LIFECYCLE})),
    (detect_repeated_attempts, frozenset({EventType.FEATURE_INTERACTION, EventType.ERROR})),
    (detect_screen_loop, frozenset({EventType.SCREEN_VIEW, EventType.PAGE_VIEW})),
    (detect_help_seeking, frozenset({EventType.HELP_REQUEST, EventType.SCREEN_VIEW, EventType.PAGE_VIEW, EventType.SEARCH})),
    (detect_client_reported, frozenset({EventType.STRUGGLE_SIGNAL})),
)
RULES_FOR: dict[EventType, tuple[Rule, ...]] = {kind: tuple(rule for rule, kinds in RULES if kind in kinds) for kind in EventType}


def grade(base: Severity, feature: str, recent: int, cfg: DetectionSettings) -> Severity:
    """Raise a rule's base severity for a critical feature and for struggle that keeps recurring."""
    steps = (1 if feature in cfg.critical_features else 0) + (1 if recent >= 2 else 0)
    return base.raised(steps)


def detect(event: UserEvent, state: UserState, cfg: DetectionSettings, arrived_at: int = 0) -> list[StruggleSignal]:
    """Run every rule on one event; update the state's windows; return the new signals.

    ``arrived_at``: when the event's record reached the stream (epoch ms; 0: unknown, the event's own
    time stands in). Deadlines run on that clock, the one the deadline timer keeps: a phone whose
    clock is slow must not make a flow fall due before its time (DESIGN.md rule 2)."""
    findings = [finding for rule in RULES_FOR[event.eventType] for finding in rule(event, state, cfg)]
    # abandonment last: a rule before it may have closed a flow (repeated attempts report its struggle)
    findings += detect_abandonment(event, state, cfg, arrived_at or event.timestamp)
    found: list[StruggleSignal] = []
    for signal_type, feature, base, context in findings:
        recent = sum(1 for t in state.struggle_times if event.timestamp - t <= cfg.severity_recent_window_ms)
        severity = grade(base, feature, recent, cfg)
        key = f"{feature}|{signal_type.value}"
        last = state.last_fired.get(key)
        if last is not None and 0 <= event.timestamp - last[0] < REFRACTORY_MS and severity.rank <= last[1]:
            continue  # the same episode, no worse than already reported
        state.last_fired[key] = [event.timestamp, severity.rank]
        if len(state.last_fired) > LAST_FIRED_CAP:
            evict_oldest(state.last_fired, lambda fired: fired[0])
        found.append(
            StruggleSignal(
                userId=event.userId,
                featureId=feature,
                signalType=signal_type,
                severity=severity,
                detectedAt=event.timestamp,
                triggerEventId=event.eventId,
                rule=context.pop("rule", signal_type.value),
                context=context,
            )
        )
        state.struggle_times.append(event.timestamp)
    if event.eventData.feature:
        current = event.feature
        if current != state.current_feature and not lexicon_of(cfg).names_help_place(current):
            state.current_feature = current
    return found
