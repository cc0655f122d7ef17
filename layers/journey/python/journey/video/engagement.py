"""How a user watched each video: their video events folded, one by one, into a small summary per video.

The summary lives in the user's state (``UserState.videos``: video id -> the summary as a plain list,
in :class:`VideoSummary`'s order), which is billed per KB on every write, so it holds counts and a
few numbers, never lists of points, and only the most recently watched videos are kept (the caller's
cap). docs/video.md defines every rule below in plain words.

Positions are seconds into the video (the playhead); watch time is in the video's own time (a minute
of video watched at 2x is 60,000 ms); event times are epoch ms.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from journey.events.model import EventData, UserEvent
from journey.kernel.clock import MINUTE_MS
from journey.kernel.ids import bounded_key

VIEW_GAP_MS = 30 * MINUTE_MS  # an event this long after the video's previous one begins a new view
RETURN_GAP_MS = 12 * 60 * MINUTE_MS  # a view begun this long after the previous watch is a return ("another day")
SEEK_TOLERANCE_S = 1.0  # a jump of at most this many seconds is neither a replay nor a skip
MAX_POSITION_S = 86_400.0  # a position read from an app's own ``position`` / ``seek_position`` field is at most this

# Canonical actions (journey.events.vocabulary) as the player means them.
PLAYS = frozenset({"play", "start", "resume", "replay"})  # the player starts or goes on playing
ENDS = frozenset({"complete", "stop", "dismiss", "fail"})  # the view is over: played to the end, closed, interrupted
HALTS = ENDS | {"pause"}  # the player is not playing after these
SEEKS = frozenset({"seek", "skip", "replay"})  # the playhead jumps

# The current view's flags (``VideoSummary.viewFlags``).
PLAYING = 1  # the player was playing at the last event: the playhead's advance until the next one was watched
ENDED = 2  # the view is over (an end action, or a whole watch reported in one event)
SKIPPED = 4  # the view jumped forward: the app's completionRate (where the playhead got to) overstates what was watched


class VideoSummary(NamedTuple):
    """One video's engagement, as stored (a plain list in this order; fields are only ever appended)."""

    lastWatchedAt: int  # epoch ms of the video's newest event
    views: int  # times the user watched it (see docs/video.md "Views")
    watchMs: int  # video time played, over all views
    maxCompletion: float  # the largest share of the video one view played (0..1), skipped parts not counted
    replays: int  # backward jumps and replay actions (the seed's segmentsReplayed, counted)
    skips: int  # forward jumps and skip actions (the seed's skipSegments, counted)
    pauses: int  # the seed's pausePoints, counted
    speed: float  # the playback speed last reported (1.0 until one is)
    durationMs: int  # the video's length (0: not reported yet)
    returns: int  # views begun 12 hours or more after the previous watch of it
    replayedAt: float  # seconds into the video the user last went back to (-1: never)
    position: float  # the playhead at the newest event, seconds (-1: unknown)
    viewWatchMs: int  # video time played in the current view
    viewFlags: int  # PLAYING | ENDED | SKIPPED, of the current view


_NEW = (0, 0, 0, 0.0, 0, 0, 0, 1.0, 0, 0, -1.0, -1.0, 0, 0)  # a video never watched; its time is set on creation
(
    _LAST,
    _VIEWS,
    _WATCH,
    _COMPLETION,
    _REPLAYS,
    _SKIPS,
    _PAUSES,
    _SPEED,
    _DURATION,
    _RETURNS,
    _REPLAYED_AT,
    _POSITION,
    _VIEW_WATCH,
    _FLAGS,
) = range(len(VideoSummary._fields))


def summary_of(stored: list[Any]) -> VideoSummary:
    """A stored summary read back (one written before a field was appended reads with its default)."""
    if len(stored) < len(_NEW):
        stored = [*stored, *_NEW[len(stored) :]]
    return VideoSummary._make(stored[: len(_NEW)])


def record_video_event(videos: dict[str, list[Any]], event: UserEvent, cap: int) -> None:
    """Fold one ``video_engagement`` event into the summary of its video (pure: no I/O, no clock).

    An event without a ``videoId`` says nothing about a video and changes nothing. An event older than
    its video's newest one (a client clock or a network that reorders) is counted (a pause, a replay, a
    skip, a completion) but never begins a view, nor moves the video's time, playhead or speed. Past
    ``cap`` videos, the least recently watched goes (ties: the first watched)."""
    data = event.eventData
    if not data.videoId:
        return
    key = bounded_key(data.videoId)
    t = event.timestamp
    action = data.action or ""
    stored = videos.get(key)
    late = False
    if stored is None:
        stored = videos[key] = [t, *_NEW[1:]]
        new_view = True
    else:
        late = t < stored[_LAST]
        ended = stored[_FLAGS] & ENDED
        new_view = not late and (t - stored[_LAST] > VIEW_GAP_MS or bool(ended and (action in PLAYS or not action)))
    if new_view:
        if stored[_VIEWS] and t - stored[_LAST] >= RETURN_GAP_MS:
            stored[_RETURNS] += 1
        stored[_VIEWS] += 1
        stored[_VIEW_WATCH] = 0
        stored[_FLAGS] = 0
        stored[_POSITION] = -1.0
    if not late:
        stored[_LAST] = t
        if data.playbackSpeed is not None:
            stored[_SPEED] = round(data.playbackSpeed, 2)
    if data.duration:
        stored[_DURATION] = int(data.duration)
    _follow_playhead(stored, action, _seconds(data.videoPosition, data, "position"), _seek_target(data), late)
    if action == "pause":
        stored[_PAUSES] += 1
    _complete(stored, action, data.completionRate, late)
    if len(videos) > cap:
        del videos[min(videos, key=lambda name: videos[name][_LAST])]


def _follow_playhead(stored: list[Any], action: str, position: float | None, seek_to: float | None, late: bool) -> None:
    """Watch time from the playhead's advance while playing; replays and skips from its jumps (else from
    the action's word); the playing state from the action."""
    known = stored[_POSITION] if not late and stored[_POSITION] >= 0 else None
    flags = stored[_FLAGS]
    start, target = position, seek_to  # where the playhead was at the event, where it jumped to
    if seek_to is None and action in SEEKS and position is not None:
        start, target = None, position  # a seek that says only where it landed: it left from the known playhead
    if known is not None and start is not None and flags & PLAYING and start > known:
        played = start - known
        if stored[_DURATION]:
            played = min(played, stored[_DURATION] / 1000)
        _watched(stored, round(played * 1000))
    origin = start if start is not None else known
    jump = target - origin if target is not None and origin is not None else None
    if (jump is not None and jump < -SEEK_TOLERANCE_S) or (jump is None and action == "replay"):
        stored[_REPLAYS] += 1
        if target is not None:
            stored[_REPLAYED_AT] = round(target, 1)
    elif (jump is not None and jump > SEEK_TOLERANCE_S) or (jump is None and action == "skip"):
        stored[_SKIPS] += 1
        flags |= SKIPPED
    if not late:
        playhead = target if target is not None else start
        if playhead is not None:
            stored[_POSITION] = round(playhead, 1)
        if action in HALTS:
            flags &= ~PLAYING
        elif action in PLAYS or action == "progress":
            flags |= PLAYING
        if action in ENDS:
            flags |= ENDED
    stored[_FLAGS] = flags


def _complete(stored: list[Any], action: str, rate: float | None, late: bool) -> None:
    """The view's completion: the share of the video played, never more than where the playhead got to.

    The app's ``completionRate`` is where the playhead got to; without a forward skip in the view the
    video was played up to there (a whole watch reported in one event: its watch time is the rate times
    the length). A ``complete`` without a rate got to the end."""
    if rate is None and action == "complete":
        rate = 1.0
    flags = stored[_FLAGS]
    if rate is not None and not action and not late:
        stored[_FLAGS] = flags = flags & ~PLAYING | ENDED  # a whole watch in one event
    length = stored[_DURATION]
    if rate is not None and not flags & SKIPPED and length and not late:  # a late report may be an earlier view's
        reached = round(rate * length)
        if reached > stored[_VIEW_WATCH]:
            _watched(stored, reached - stored[_VIEW_WATCH])
    if length and stored[_VIEW_WATCH]:
        reach = rate if rate is not None else stored[_POSITION] * 1000 / length if stored[_POSITION] >= 0 else 1.0
        completion = min(1.0, stored[_VIEW_WATCH] / length, reach)
    elif rate is not None and not flags & SKIPPED:
        completion = rate
    else:
        return
    if completion > stored[_COMPLETION]:
        stored[_COMPLETION] = round(completion, 3)


def _watched(stored: list[Any], ms: int) -> None:
    stored[_WATCH] += ms
    stored[_VIEW_WATCH] += ms


def _seconds(value: float | None, data: EventData, fallback: str) -> float | None:
    """A position in seconds: the canonical field, else the app's own numeric field of that name (the
    Segment video spec's ``position`` and ``seek_position``), when within bounds."""
    if value is not None:
        return value
    extra = data.unknown_fields
    if not extra:
        return None
    raw = extra.get(fallback)
    if isinstance(raw, int | float) and not isinstance(raw, bool) and 0 <= raw <= MAX_POSITION_S:
        return float(raw)
    return None


def _seek_target(data: EventData) -> float | None:
    return _seconds(data.seekTo, data, "seek_position")
