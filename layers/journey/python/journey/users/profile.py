"""Rolling profile features: sessions, activity, completion, video, support, progress, consent."""

from __future__ import annotations

from journey.events.model import EventType, UserEvent
from journey.users.state import DAY_MS, UserState, short_id

SUCCESS_ACTIONS = frozenset({"complete", "completed", "success", "succeeded", "submit_success"})


def update_profile(event: UserEvent, state: UserState) -> None:
    """Fold one event into the user's profile features (pure state update, no I/O)."""
    now = event.timestamp
    session = short_id(event.sessionId)
    if session != state.sid:
        if state.last:
            state.gap = round(max(0, now - state.last) / DAY_MS, 3)
        state.sid = session
        state.sess.append(now)
    if not state.first:
        state.first = now
    if now > state.last:
        state.last = now

    device, context, data = event.deviceInfo, event.userContext, event.eventData
    if device.timezone:
        state.tz = device.timezone
    if device.pushEndpoint:
        state.push = device.pushEndpoint
    consent = context.consent
    if consent is not None:
        state.consent = [consent.inApp, consent.push, consent.messages]
    if context.userSegment:
        state.seg = context.userSegment

    kind = event.eventType
    if kind is EventType.FEATURE_INTERACTION:
        action = data.action
        if action == "start":
            state.flows_started += 1
        elif action in SUCCESS_ACTIONS:
            state.flows.pop(event.feature, None)
            state.flows_done += 1
    elif kind is EventType.VIDEO_ENGAGEMENT and data.completionRate is not None:
        state.videos += 1
        prior = state.video if state.video >= 0 else 0.0
        state.video = round(prior + (data.completionRate - prior) / state.videos, 4)
    elif kind is EventType.HELP_REQUEST:
        state.support.append(now)
    if data.progress is not None and data.progress > state.progress:
        state.progress = data.progress


def resolves_episode(event: UserEvent) -> bool:
    """A success on a feature resolves the open struggle episode on that feature."""
    return event.eventType is EventType.FEATURE_INTERACTION and event.eventData.action in SUCCESS_ACTIONS
