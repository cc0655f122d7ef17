"""Abandonment: a flow (checkout, signup, booking...) started and not completed.

A flow is open from its ``start`` until it completes (or the user cancels it: a choice, not
abandonment). A user who leaves mid-flow (the app backgrounded, the tab hidden, the session ended)
has ``abandonment_grace_ms`` to come back: fetching an SMS or 3-D Secure code or taking a short call is
not abandoning. Past the grace, or after ``flow_timeout_ms`` with no activity at all (a web tab closed
sends nothing), the open flows are abandoned. The state's ``deadline`` says when that will be, so the
deadline timer (a scheduled function) can append a timer command to the user's stream at that moment:
the signal fires at the timeout, not at the user's next session. An event of the user's that comes
after the deadline declares it too (when the timer has not yet). Deadlines run on the arrival clock
(when records reached the stream), as the timer does: a device clock that is minutes slow neither
shortens the grace period nor times a flow out while the user is in it.
"""

from __future__ import annotations

from collections.abc import Sequence

from journey.detection.findings import NONE, Finding
from journey.detection.signals import Severity, SignalType
from journey.events.model import EventType, UserEvent
from journey.events.vocabulary import LEAVES, SUCCESSES
from journey.settings import DetectionSettings
from journey.users.state import OPEN_FLOWS_CAP, UserState

MINUTE_MS = 60_000


def detect_abandonment(event: UserEvent, state: UserState, cfg: DetectionSettings, clock: int) -> Sequence[Finding]:
    """``clock``: the event's arrival (epoch ms), the clock deadlines run on (a device's own clock may
    be minutes off; the deadline timer compares with the real time)."""
    kind = event.eventType
    if not state.open_flows and not state.deadline and kind is not EventType.FEATURE_INTERACTION:
        return NONE
    found = _declare(state, event.timestamp) if state.deadline and clock >= state.deadline else []
    if kind is EventType.TIMER:
        if found or not state.open_flows:
            state.deadline = 0
        return found  # not the user's activity: nothing else changes
    data = event.eventData
    action = data.action
    feature = event.feature
    flows = state.open_flows
    now = event.timestamp
    if kind is EventType.APP_LIFECYCLE and action in LEAVES:
        if flows and not state.away_since:
            state.away_since = clock
    else:
        state.away_since = 0  # any other event of the user's: they are here
        if kind is EventType.FEATURE_INTERACTION and action == "start":
            found += [
                _abandoned(state, f, now, "flow_timed_out")
                for f, t in list(flows.items())
                if f != feature and now - t > cfg.flow_timeout_ms
            ]
            flows.pop(feature, None)
            flows[feature] = now
            if len(flows) > OPEN_FLOWS_CAP:
                del flows[next(iter(flows))]
        elif kind is EventType.FEATURE_INTERACTION and (action in SUCCESSES or action == "cancel"):
            flows.pop(feature, None)
        elif feature in flows:
            flows[feature] = now  # activity in the flow: it is not stale
    state.deadline = _deadline(state, clock, cfg)
    return found


def _deadline(state: UserState, clock: int, cfg: DetectionSettings) -> int:
    """When the open flows are abandoned if nothing else happens (on the arrival clock), rounded up to
    the minute (the timer runs every minute; the index entry then moves once a minute at most)."""
    if not state.open_flows:
        return 0
    due = state.away_since + cfg.abandonment_grace_ms if state.away_since else clock + cfg.flow_timeout_ms
    return -(-due // MINUTE_MS) * MINUTE_MS


def _declare(state: UserState, now: int) -> list[Finding]:
    rule = "left_mid_flow" if state.away_since else "flow_timed_out"
    found = [_abandoned(state, feature, now, rule) for feature in list(state.open_flows)]
    state.away_since = 0
    return found


def _abandoned(state: UserState, feature: str, now: int, rule: str) -> Finding:
    last_active = state.open_flows.pop(feature, now)
    return SignalType.ABANDONMENT, feature, Severity.MEDIUM, {"idleMs": max(0, now - last_active), "rule": rule}
