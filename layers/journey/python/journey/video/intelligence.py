"""What a user's video watching says: an interest score, comprehension indicators, readiness signals.

Every indicator and signal is a named rule over one video's summary (:class:`VideoSummary`) that a
product person can check by hand; docs/video.md lists them with their thresholds. The interest score
is a weighted sum of three shares, and a user's overall score a recency-weighted mean of their
videos'. Exit risk reads the overall score (``journey.risk.features``), the agent reads
:func:`engagement_overview` and :func:`video_insight`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from journey.kernel.clock import DAY_MS
from journey.video.engagement import ENDED, PLAYING, VIEW_GAP_MS, VideoSummary, summary_of

# --- thresholds (docs/video.md) ----------------------------------------------------------------------
REWATCH_REPLAYS = 2  # rewatched_section: went back this many times or more
SKIP_COMPLETION = 0.9  # skipped_ahead: skipped, and no view played this share
FAST_SPEED = 1.5  # watched_at_speed: at this speed or faster...
FAST_COMPLETION = 0.8  # ...and a view played this share
PAUSES_PER_VIEW = 3  # paused_often: this many pauses per view or more
FOCUS_COMPLETION = 0.9  # completed_with_focus: a view played this share, with fewer than REWATCH_REPLAYS replays
EARLY_COMPLETION = 0.25  # abandoned_early: no view played this share, and the last one is over

# --- the interest score: weights of its three parts (they add up to 1) ---------------------------------
COMPLETION_WEIGHT = 0.6  # the largest share of the video one view played
DEPTH_WEIGHT = 0.2  # all the time played against the video's length (1 at the length or more)
REPEAT_WEIGHT = 0.2  # views beyond the first (1 at 3 views)
REPEAT_VIEWS = 2  # views beyond the first that make the repeat part whole
HALF_LIFE_DAYS = 7  # a video last watched this many days before another counts half as much in the overall score
_HALF_LIFE_MS = HALF_LIFE_DAYS * DAY_MS
_FIELDS = len(VideoSummary._fields)
# where overall_interest finds what it reads in a stored summary
_AT, _VIEWS, _WATCH, _COMPLETION, _DURATION = map(
    VideoSummary._fields.index, ("lastWatchedAt", "views", "watchMs", "maxCompletion", "durationMs")
)


class VideoInsight(NamedTuple):
    interestScore: float  # 0..1
    comprehensionIndicators: tuple[str, ...]
    readinessSignals: tuple[str, ...]


def comprehension_indicators(summary: VideoSummary) -> tuple[str, ...]:
    """How well the video seems to have landed (each name is a rule of docs/video.md)."""
    found: list[str] = []
    if summary.replays >= REWATCH_REPLAYS:
        found.append("rewatched_section")  # went back over it again and again: may not have understood a part
    if summary.skips and summary.maxCompletion < SKIP_COMPLETION:
        found.append("skipped_ahead")  # jumped ahead without playing it through: skimming, or not what they needed
    if summary.speed >= FAST_SPEED and summary.maxCompletion >= FAST_COMPLETION:
        found.append("watched_at_speed")  # sped up and still played it through: likely familiar already
    if summary.views and summary.pauses >= PAUSES_PER_VIEW * summary.views:
        found.append("paused_often")  # stopped again and again: following along step by step, or finding it hard
    return tuple(found)


def readiness_signals(summary: VideoSummary, now_ms: int | None = None) -> tuple[str, ...]:
    """Whether the user seems ready for what comes next (each name is a rule of docs/video.md). A view
    not over yet (not ended, and heard from within 30 minutes of ``now_ms``; without ``now_ms``: still
    playing) is not abandoned."""
    found: list[str] = []
    if summary.maxCompletion >= FOCUS_COMPLETION and summary.replays < REWATCH_REPLAYS:
        found.append("completed_with_focus")  # played through without going over it again and again: ready
    if summary.returns:
        found.append("returned_to_video")  # came back to it on another day: interested
    if summary.maxCompletion < EARLY_COMPLETION and not _in_progress(summary, now_ms):
        found.append("abandoned_early")  # left before a quarter of it: not engaged
    return tuple(found)


def interest_score(summary: VideoSummary) -> float:
    """0.6 x completion + 0.2 x depth + 0.2 x repeat (docs/video.md "Interest score")."""
    return round(_interest(summary.maxCompletion, summary.watchMs, summary.durationMs, summary.views), 3)


def _interest(completion: float, watch_ms: int, duration_ms: int, views: int) -> float:
    completion = min(1.0, completion)
    depth = min(1.0, watch_ms / duration_ms) if duration_ms else completion
    repeat = min(max(views - 1, 0), REPEAT_VIEWS) / REPEAT_VIEWS
    return COMPLETION_WEIGHT * completion + DEPTH_WEIGHT * depth + REPEAT_WEIGHT * repeat


def video_insight(summary: VideoSummary, now_ms: int | None = None) -> VideoInsight:
    """The seed's intelligenceMetrics of one video."""
    return VideoInsight(interest_score(summary), comprehension_indicators(summary), readiness_signals(summary, now_ms))


def overall_interest(videos: dict[str, list[Any]], now_ms: int) -> float | None:
    """The user's interest across their videos: each video's score weighted by its recency (a video
    last watched ``HALF_LIFE_DAYS`` before ``now_ms`` counts half); None without videos. Exit risk
    reads it for every user with videos at the end of every batch, so it reads the stored lists as
    they are."""
    total = weights = 0.0
    for stored in videos.values():
        summary: Sequence[Any] = stored if len(stored) >= _FIELDS else summary_of(stored)
        weight = 0.5 ** (max(0, now_ms - summary[_AT]) / _HALF_LIFE_MS)
        total += weight * _interest(summary[_COMPLETION], summary[_WATCH], summary[_DURATION], summary[_VIEWS])
        weights += weight
    return round(total / weights, 3) if weights else None


def engagement_overview(videos: dict[str, list[Any]], now_ms: int) -> dict[str, Any]:
    """A user's video engagement, JSON-able: per video (newest first) what they did and what it says,
    and overall the recency-weighted interest score with the indicators and signals any video shows
    (each once, in the order of the newest video showing it)."""
    entries = []
    indicators: dict[str, None] = {}
    signals: dict[str, None] = {}
    for video_id, stored in sorted(videos.items(), key=lambda item: -item[1][_AT]):
        summary = summary_of(stored)
        insight = video_insight(summary, now_ms)
        indicators.update(dict.fromkeys(insight.comprehensionIndicators))
        signals.update(dict.fromkeys(insight.readinessSignals))
        entries.append(
            {
                "videoId": video_id,
                "engagement": engagement_data(summary),
                "intelligence": {
                    "interestScore": insight.interestScore,
                    "comprehensionIndicators": list(insight.comprehensionIndicators),
                    "readinessSignals": list(insight.readinessSignals),
                },
            }
        )
    return {
        "videoCount": len(entries),
        "interestScore": overall_interest(videos, now_ms),
        "comprehensionIndicators": list(indicators),
        "readinessSignals": list(signals),
        "videos": entries,
    }


def engagement_data(summary: VideoSummary) -> dict[str, Any]:
    """The seed's engagementData of one video: what the user did (the view-tracking fields left out)."""
    return {
        "lastWatchedAt": summary.lastWatchedAt,
        "views": summary.views,
        "watchMs": summary.watchMs,
        "maxCompletion": summary.maxCompletion,
        "replays": summary.replays,
        "skips": summary.skips,
        "pauses": summary.pauses,
        "playbackSpeed": summary.speed,
        "durationMs": summary.durationMs,
        "returns": summary.returns,
        "replayedAt": summary.replayedAt if summary.replayedAt >= 0 else None,
    }


def _in_progress(summary: VideoSummary, now_ms: int | None) -> bool:
    """The last view is not over: not ended, and heard from within 30 minutes of ``now_ms`` (without
    ``now_ms``: still playing)."""
    if summary.viewFlags & ENDED:
        return False
    if now_ms is None:
        return bool(summary.viewFlags & PLAYING)
    return now_ms - summary.lastWatchedAt <= VIEW_GAP_MS
