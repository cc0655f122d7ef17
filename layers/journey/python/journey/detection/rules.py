"""Struggle detection: one small rule a behaviour, each reading and updating its own window of the state.

Rules follow published practice (docs/configuration.md cites each default). ``detect`` runs every
rule on one event and returns the signals, after a per feature-and-type refractory period so one
episode of struggling is one signal, not ten.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from journey.detection.signals import Severity, SignalType, StruggleSignal
from journey.events.model import EventType, UserEvent
from journey.kernel.ids import bounded_key
from journey.settings import DetectionSettings
from journey.users.state import LAST_FIRED_CAP, OPEN_FLOWS_CAP, UserState, evict_oldest

REFRACTORY_MS = 60_000

Finding = tuple[SignalType, str, Severity, dict[str, Any]]
Rule = Callable[[UserEvent, UserState, DetectionSettings], Sequence[Finding]]
NONE: tuple[Finding, ...] = ()  # what a rule returns when it finds nothing (rules run on every event: no generators)


def detect_rage_taps(event: UserEvent, state: UserState, cfg: DetectionSettings) -> Sequence[Finding]:
    data = event.eventData
    if event.eventType is not EventType.FEATURE_INTERACTION or data.action != "tap" or data.x is None or data.y is None:
        return NONE
    target = data.target or event.feature
    target_type = (data.targetType or "").lower()
    if target_type in cfg.rage_tap_excluded_targets:
        state.taps.clear()  # toggles and steppers are tapped repeatedly on purpose
        return NONE
    taps = state.taps
    if taps:
        t0, x0, y0, target0 = taps[-1]
        close = math.hypot(data.x - x0, data.y - y0) <= cfg.rage_tap_radius_px
        quick = 0 <= event.timestamp - t0 <= cfg.rage_tap_interval_ms
        if not (close and quick and target0 == target):
            taps.clear()
    taps.append([event.timestamp, data.x, data.y, target])
    found: Sequence[Finding] = NONE
    if len(taps) >= cfg.rage_tap_count:
        count = len(taps)
        severity = Severity.HIGH if count >= cfg.rage_tap_count + 2 else Severity.MEDIUM
        if count == cfg.rage_tap_count or count == cfg.rage_tap_count + 2:
            found = [(SignalType.RAGE_TAP, event.feature, severity, {"taps": count, "target": target})]
    if len(taps) > cfg.rage_tap_count + 2:
        del taps[0]
    return found


def detect_repeated_attempts(event: UserEvent, state: UserState, cfg: DetectionSettings) -> Sequence[Finding]:
    attempts = event.eventData.attemptCount
    if event.eventType is EventType.FEATURE_INTERACTION and attempts is not None and attempts >= cfg.repeated_attempts_min:
        severity = Severity.HIGH if attempts >= 5 else Severity.MEDIUM if attempts >= 3 else Severity.LOW
        return [(SignalType.REPEATED_ATTEMPTS, event.feature, severity, {"attemptCount": attempts})]
    return NONE


def detect_error_patterns(event: UserEvent, state: UserState, cfg: DetectionSettings) -> Sequence[Finding]:
    if event.eventType is EventType.ERROR:
        feature = bounded_key(event.eventData.feature) if event.eventData.feature else state.current_feature or "unknown"
        errors = [e for e in state.errors if event.timestamp - e[0] <= cfg.error_repeat_window_ms]
        errors.append([event.timestamp, feature, event.eventData.errorType or "error"])
        state.errors = errors[-6:]
        same = [e for e in errors if e[1] == feature]
        if len(same) >= cfg.error_repeat_count:
            return [
                (
                    SignalType.ERROR_PATTERN,
                    feature,
                    Severity.MEDIUM,
                    {"errorsEncountered": [e[2] for e in same][-5:], "rule": "repeated_errors"},
                )
            ]
    elif event.eventType is EventType.APP_LIFECYCLE and event.eventData.action == "background" and state.errors:
        t, feature, error_type = state.errors[-1]
        if 0 <= event.timestamp - t <= cfg.error_then_background_ms:
            state.errors.clear()
            return [
                (
                    SignalType.ERROR_PATTERN,
                    feature,
                    Severity.HIGH,
                    {"errorsEncountered": [error_type], "rule": "error_then_background"},
                )
            ]
    return NONE


def detect_screen_loop(event: UserEvent, state: UserState, cfg: DetectionSettings) -> Sequence[Finding]:
    if event.eventType not in (EventType.SCREEN_VIEW, EventType.PAGE_VIEW):
        return NONE
    screen = bounded_key(event.eventData.screen) if event.eventData.screen else event.feature
    views = [v for v in state.screens if event.timestamp - v[0] <= cfg.screen_loop_window_ms]
    views.append([event.timestamp, screen])
    state.screens = views[-(cfg.screen_loop_visits + 2) :]
    visits = sum(1 for v in views if v[1] == screen)
    if visits >= cfg.screen_loop_visits:
        return [(SignalType.SCREEN_LOOP, event.feature if event.eventData.feature else screen, Severity.LOW, {"visits": visits})]
    return NONE


def _abandoned(state: UserState, feature: str, started: int, now: int, why: str) -> Finding:
    state.open_flows.pop(feature, None)
    return SignalType.ABANDONMENT, feature, Severity.MEDIUM, {"timeSpent": max(0, now - started), "rule": why}


def detect_abandonment(event: UserEvent, state: UserState, cfg: DetectionSettings) -> Sequence[Finding]:
    data = event.eventData
    now = event.timestamp
    if event.eventType is EventType.FEATURE_INTERACTION and data.action == "start":
        found = [
            _abandoned(state, feature, started, now, "flow_timed_out")
            for feature, started in list(state.open_flows.items())
            if feature != event.feature and now - started > cfg.flow_timeout_ms
        ]
        state.open_flows[event.feature] = now
        if len(state.open_flows) > OPEN_FLOWS_CAP:
            del state.open_flows[next(iter(state.open_flows))]
        return found
    if (
        event.eventType is EventType.APP_LIFECYCLE
        and data.action in ("background", "session_end", "terminate")
        and state.open_flows
    ):
        return [
            _abandoned(state, feature, started, now, f"app_{data.action}_mid_flow")
            for feature, started in list(state.open_flows.items())
        ]
    return NONE


def detect_help_seeking(event: UserEvent, state: UserState, cfg: DetectionSettings) -> Sequence[Finding]:
    data = event.eventData
    feature = bounded_key(data.feature) if data.feature and not _is_help(data.feature, cfg) else (state.current_feature or "help")
    if event.eventType is EventType.HELP_REQUEST:
        return [(SignalType.HELP_SEEKING, feature, Severity.MEDIUM, {"rule": "help_request"})]
    if event.eventType in (EventType.SCREEN_VIEW, EventType.PAGE_VIEW) and _is_help(data.screen or data.feature, cfg):
        return [(SignalType.HELP_SEEKING, feature, Severity.LOW, {"rule": "help_screen", "screen": data.screen})]
    if event.eventType is EventType.SEARCH and data.query:
        query = data.query.lower()
        if any(term in query for term in cfg.help_search_terms):
            return [(SignalType.HELP_SEEKING, feature, Severity.LOW, {"rule": "help_search"})]
    return NONE


def detect_client_reported(event: UserEvent, state: UserState, cfg: DetectionSettings) -> Sequence[Finding]:
    """A ``struggle_signal`` event: the app's SDK already saw struggle; take its word, typed."""
    if event.eventType is not EventType.STRUGGLE_SIGNAL:
        return NONE
    try:
        signal_type = SignalType(event.eventData.action or "")
    except ValueError:
        signal_type = SignalType.REPEATED_ATTEMPTS
    return [(signal_type, event.feature, Severity.MEDIUM, {"rule": "client_reported"})]


def _is_help(name: str | None, cfg: DetectionSettings) -> bool:
    return bool(name) and _names_help(name, cfg.help_screens)


@lru_cache(maxsize=8192)
def _names_help(name: str, tokens: tuple[str, ...]) -> bool:
    lowered = name.lower()
    return any(token in lowered for token in tokens)


# Each rule and the event types it reads; ``detect`` runs only the rules an event can trigger.
RULES: tuple[tuple[Rule, frozenset[EventType]], ...] = (
    (detect_rage_taps, frozenset({EventType.FEATURE_INTERACTION})),
    (detect_repeated_attempts, frozenset({EventType.FEATURE_INTERACTION})),
    (detect_error_patterns, frozenset({EventType.ERROR, EventType.APP_LIFECYCLE})),
    (detect_screen_loop, frozenset({EventType.SCREEN_VIEW, EventType.PAGE_VIEW})),
    (detect_abandonment, frozenset({EventType.FEATURE_INTERACTION, EventType.APP_LIFECYCLE})),
    (detect_help_seeking, frozenset({EventType.HELP_REQUEST, EventType.SCREEN_VIEW, EventType.PAGE_VIEW, EventType.SEARCH})),
    (detect_client_reported, frozenset({EventType.STRUGGLE_SIGNAL})),
)
RULES_FOR: dict[EventType, tuple[Rule, ...]] = {kind: tuple(rule for rule, kinds in RULES if kind in kinds) for kind in EventType}


def grade(base: Severity, feature: str, recent: int, cfg: DetectionSettings) -> Severity:
    """Raise a rule's base severity for a critical feature and for struggle that keeps recurring."""
    steps = (1 if feature in cfg.critical_features else 0) + (1 if recent >= 2 else 0)
    return base.raised(steps)


def detect(event: UserEvent, state: UserState, cfg: DetectionSettings) -> list[StruggleSignal]:
    """Run every rule on one event; update the state's windows; return the new signals."""
    found: list[StruggleSignal] = []
    for rule in RULES_FOR[event.eventType]:
        for signal_type, feature, base, context in rule(event, state, cfg):
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
        if current != state.current_feature and not _is_help(current, cfg):
            state.current_feature = current
    return found
