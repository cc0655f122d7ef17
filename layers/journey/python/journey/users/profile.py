"""Rolling profile features: sessions, activity, completion, video, support, progress, consent."""

from __future__ import annotations

from journey.events.model import EventType, UserEvent
from journey.events.vocabulary import SUCCESSES
from journey.kernel.clock import DAY_MS
from journey.kernel.ids import short_id
from journey.users.state import VIDEOS_CAP, UserState
from journey.video.engagement import record_video_event


def update_profile(event: UserEvent, state: UserState) -> None:
    """Fold one event into the user's profile features (pure state update, no I/O). A timer command
    is not the user's activity: it changes nothing here."""
    kind = event.eventType
    if kind is EventType.TIMER or kind is EventType.COMMAND:
        return
    if kind is EventType.IDENTIFY:
        _update_identity(event, state)
        return
    now = event.timestamp
    session = short_id(event.sessionId)
    if session != state.session:
        if state.last_event_at:
            state.days_between_sessions = round(max(0, now - state.last_event_at) / DAY_MS, 3)
        state.session = session
        state.session_starts.append(now)
    if not state.first_event_at:
        state.first_event_at = now
    if now > state.last_event_at:
        state.last_event_at = now

    _update_identity(event, state)
    data = event.eventData
    if kind is EventType.FEATURE_INTERACTION:
        action = data.action
        if action == "start":
            state.flows_started += 1
        elif action in SUCCESSES:
            state.open_flows.pop(event.feature, None)
            state.flows_done += 1
    elif kind is EventType.VIDEO_ENGAGEMENT:
        if data.completionRate is not None:  # the end of a watch (or a progress report): the running mean
            state.videos_watched += 1
            prior = state.video_completion if state.video_completion >= 0 else 0.0
            state.video_completion = round(prior + (data.completionRate - prior) / state.videos_watched, 4)
        record_video_event(state.videos, event, VIDEOS_CAP)  # per video: views, watch time, replays, skips...
    elif kind is EventType.HELP_REQUEST:
        state.support_contact_times.append(now)
    if data.progress is not None and data.progress > state.progress:
        state.progress = data.progress


def resolves_episode(event: UserEvent) -> bool:
    """A success on a feature resolves the open struggle episode on that feature."""
    return event.eventType is EventType.FEATURE_INTERACTION and event.eventData.action in SUCCESSES


def _update_identity(event: UserEvent, state: UserState) -> None:
    """What any event may say about who the user is: time zone, push endpoint, consent, segment."""
    device, context = event.deviceInfo, event.userContext
    timezone, push_endpoint = device.timezone, device.pushEndpoint
    if timezone:
        state.timezone = timezone
    if push_endpoint:
        state.push_endpoint = push_endpoint
    consent, segment = context.consent, context.userSegment
    if consent is not None:
        state.consent = [consent.inApp, consent.push, consent.messages]
    if segment:
        state.segment = segment
