"""Failures: repeated attempts at one task, error patterns and crashes.

An error is read as one of three things. A **crash** (the app died or froze: a lifecycle ``crash``,
an error typed crash / fatal exception / ANR / white screen, or flagged ``fatal``) is an error pattern
at once, high. An error soon after a **submit** on the same feature whose type is not a system
failure (``invalid_credentials``, ``card_declined``, ``validation``...) is that attempt's failure:
two failed attempts at one task are *repeated attempts*, one failure then success is not. Any other
error is a **system error**: two on one feature within a minute, or one followed by the user leaving
within seconds (Conviva), are an *error pattern*.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from journey.detection.findings import NONE, Finding
from journey.detection.signals import Severity, SignalType
from journey.detection.words import contains_phrase, phrase_set, words
from journey.events.model import EventType, UserEvent
from journey.events.vocabulary import CRASHES, LEAVES, SUCCESSES
from journey.kernel.ids import bounded_key
from journey.settings import DetectionSettings
from journey.users.state import UserState

# the app died: crash reports name it, or the signal that killed it (iOS EXC_BAD_ACCESS, SIGABRT...)
CRASH_NAMES = phrase_set(
    (
        "crash",
        "crashed",
        "fatal",
        "anr",
        "oom",
        "freeze",
        "frozen",
        "hang",
        "unresponsive",
        "sigabrt",
        "sigsegv",
        "sigbus",
        "sigill",
        "sigkill",
        "sigtrap",
        "not responding",
        "white screen",
        "blank screen",
        "out of memory",
        "force close",
        "exc bad access",
        "exc crash",
    )
)
# a network or server failure, not the user's input
SYSTEM_NAMES = phrase_set(
    (
        "timeout",
        "timedout",
        "network",
        "offline",
        "connection",
        "connectivity",
        "server",
        "internal",
        "exception",
        "gateway",
        "dns",
        "ssl",
        "socket",
        "500",
        "502",
        "503",
        "504",
        "5xx",
        "js",
        "script",
        "crash",
        "load",
        "loading",
        "service unavailable",
        "temporarily unavailable",
        "no internet",
    )
)
ATTEMPTS_CAP = 8


def is_crash(event: UserEvent) -> bool:
    data = event.eventData
    if event.eventType is EventType.APP_LIFECYCLE:
        return data.action in CRASHES
    if event.eventType is not EventType.ERROR:
        return False
    extra = data.unknown_fields
    if extra and extra.get("fatal") is True:
        return True
    return _names(data.errorType or "", CRASH_NAMES)


def is_system_error(error_type: str | None) -> bool:
    return _names(error_type or "", SYSTEM_NAMES)


@lru_cache(maxsize=4096)
def _names(error_type: str, names: frozenset[tuple[str, ...]]) -> bool:
    """Whether an error type's words contain one of ``names`` (error types repeat: cached)."""
    return contains_phrase(words(error_type), names, 3)


def error_feature(event: UserEvent, state: UserState) -> str:
    return bounded_key(event.eventData.feature) if event.eventData.feature else state.current_feature or "unknown"


def failed_attempt_of(event: UserEvent, state: UserState, cfg: DetectionSettings) -> str | None:
    """The feature whose latest submit this error is the failure of, or None (not an attempt's failure)."""
    if event.eventType is not EventType.ERROR or is_crash(event):
        return None
    if is_system_error(event.eventData.errorType) and event.eventData.attemptCount is None:
        return None  # a network or server failure, not the user's attempt (unless the app says it answers one)
    now = event.timestamp
    candidates = [event.feature] if event.eventData.feature else list(state.attempts)
    for feature in reversed(candidates):
        entry = state.attempts.get(feature)
        if entry and 0 <= now - entry[0] <= cfg.attempt_failure_window_ms and entry[2] != entry[0]:
            return feature
    return None


def detect_repeated_attempts(event: UserEvent, state: UserState, cfg: DetectionSettings) -> Sequence[Finding]:
    kind = event.eventType
    now = event.timestamp
    attempts = state.attempts
    if kind is EventType.ERROR:
        feature = failed_attempt_of(event, state, cfg)
        if feature is None:
            return NONE
        entry = attempts[feature]
        entry[1] += 1
        entry[2] = entry[0]  # this submit has failed (a second error for it is not a second failure)
        return _found(feature, entry[1], cfg, "failed_submits", state)
    if kind is not EventType.FEATURE_INTERACTION:
        return NONE
    data = event.eventData
    action = data.action
    feature = event.feature
    known = attempts.get(feature)
    if known and now - known[0] > cfg.attempt_memory_ms:
        known = None
    failures = known[1] if known else 0
    reported = failures
    if data.attemptCount is not None:
        if data.attemptCount <= 1:
            failures = reported = 0  # a first attempt: the task begins again
        failures = max(failures, data.attemptCount - 1)  # attempt n: n - 1 before it did not succeed
    if action == "fail":
        failures += 1
    if action in SUCCESSES or action == "cancel":
        attempts.pop(feature, None)
    elif action in ("submit", "retry", "fail") or data.attemptCount is not None:
        failed_at = now if action == "fail" else (known[2] if known else 0)
        attempts.pop(feature, None)
        attempts[feature] = [now, failures, failed_at]
        if len(attempts) > ATTEMPTS_CAP:
            del attempts[next(iter(attempts))]
    if failures > reported:
        return _found(feature, failures, cfg, "attempt_count" if data.attemptCount is not None else "failed_submits", state)
    return NONE


def _found(feature: str, failures: int, cfg: DetectionSettings, rule: str, state: UserState) -> Sequence[Finding]:
    if failures < cfg.repeated_attempts_failures:
        return NONE
    # one episode, one signal: the flow's struggle is reported, its giving up is not a second signal
    state.open_flows.pop(feature, None)
    severity = Severity.HIGH if failures >= cfg.repeated_attempts_failures + 2 else Severity.MEDIUM
    return [(SignalType.REPEATED_ATTEMPTS, feature, severity, {"failedAttempts": failures, "rule": rule})]


def detect_error_patterns(event: UserEvent, state: UserState, cfg: DetectionSettings) -> Sequence[Finding]:
    now = event.timestamp
    if is_crash(event):
        feature = error_feature(event, state)
        state.errors.clear()
        kind = event.eventData.errorType or event.eventData.action or "crash"
        return [(SignalType.ERROR_PATTERN, feature, Severity.HIGH, {"errorsEncountered": [kind], "rule": "crash"})]
    if event.eventType is EventType.ERROR:
        feature = error_feature(event, state)
        counts = failed_attempt_of(event, state, cfg) is None  # an attempt's failure is the attempts rule's
        errors = [e for e in state.errors if now - e[0] <= cfg.error_repeat_window_ms]
        errors.append([now, feature, event.eventData.errorType or "error", int(counts)])
        state.errors = errors[-6:]
        same = [e for e in errors if e[1] == feature and (len(e) < 4 or e[3])]
        if counts and len(same) >= cfg.error_repeat_count:
            return [
                (
                    SignalType.ERROR_PATTERN,
                    feature,
                    Severity.MEDIUM,
                    {"errorsEncountered": [e[2] for e in same][-5:], "rule": "repeated_errors"},
                )
            ]
    elif event.eventType is EventType.APP_LIFECYCLE and event.eventData.action in LEAVES and state.errors:
        t, feature, error_type = state.errors[-1][:3]
        if 0 <= now - t <= cfg.error_then_background_ms:
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
