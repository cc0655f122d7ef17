"""Rage taps and clicks: the same control pressed again and again in quick succession, with nothing
happening in between.

What counts: presses (``tap`` and ``click``, whatever the platform spells them) on one target: the
same target id regardless of where the finger landed (fingers spread 20-50 px on one button), or,
for presses without a target id, within a radius that suits the pointer (mouse on the web, a finger
on iOS and Android). What does not: controls pressed repeatedly on purpose (by type: toggles,
steppers, carousels, keyboards...; by the words of their id: ``next``, ``skip_10s``, ``qty_plus``...),
and presses that each do something: a screen or page view, a video event, a flow step between two
presses, or a value on the press itself that changes from one press to the next (a carousel index,
a quantity, a checked state).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise
from typing import Any

from journey.detection.findings import NONE, Finding
from journey.detection.signals import Severity, SignalType
from journey.detection.words import contains_phrase, phrase_set, words
from journey.events.model import EventType, Platform, UserEvent
from journey.events.vocabulary import PRESSES
from journey.kernel.ids import bounded_key
from journey.settings import DetectionSettings
from journey.users.state import UserState

# Fields an app may put on a press to say what it changed: a new value each press means it worked.
STATE_FIELDS = (
    "month",
    "date",
    "week",
    "year",
    "zoom",
    "question",
    "step",
    "level",
    "value",
    "checked",
    "selected",
    "state",
    "index",
    "position",
    "page",
    "quantity",
    "count",
    "isOn",
    "slide",
    "item",
    "itemId",
    "contentId",
    "storyId",
)
# Events that show the app responded (new content, a new screen, progress): the presses before them worked.
RESPONSES = frozenset({EventType.SCREEN_VIEW, EventType.PAGE_VIEW, EventType.VIDEO_ENGAGEMENT, EventType.SEARCH})


def detect_rage_taps(event: UserEvent, state: UserState, cfg: DetectionSettings) -> Sequence[Finding]:
    data = event.eventData
    if event.eventType is not EventType.FEATURE_INTERACTION or data.action not in PRESSES:
        if state.taps and (event.eventType in RESPONSES or event.eventType is EventType.FEATURE_INTERACTION):
            state.taps.clear()  # the app responded: the presses so far did something
        return NONE
    target = bounded_key(data.target) if data.target else ""
    mark = _state_mark(event)
    repeatable = (data.targetType and data.targetType in cfg.rage_tap_excluded_targets) or (
        target and _repeatable(target, cfg.rage_tap_repeatable_words) and not _steps_a_flow(target, event, state, cfg)
    )
    if repeatable and not mark:
        state.taps.clear()  # toggles, steppers, carousels, keypads... are pressed repeatedly on purpose
        return NONE
    # (a repeatable control that reports its value is judged by it: a switch whose value never changes is stuck)
    if not target and (data.x is None or data.y is None):
        return NONE  # neither a target nor a position: nothing says two presses hit the same thing
    taps = state.taps
    if taps:
        last = taps[-1]
        quick = 0 <= event.timestamp - last[0] <= cfg.rage_tap_interval_ms
        changed = len(last) > 4 and (mark or last[4]) and mark != last[4]
        if not quick or changed or not _same_target(event, target, last, cfg):
            taps.clear()
    taps.append([event.timestamp, data.x, data.y, target or event.feature, mark])
    found: Sequence[Finding] = NONE
    count = len(taps)
    gap = cfg.rage_tap_text_gesture_gap_ms if data.targetType in TEXT_TARGETS else cfg.rage_tap_gesture_gap_ms
    if count == cfg.rage_tap_count and _gesture(taps, cfg.rage_tap_count, gap):
        return NONE  # a triple tap that selects text or zooms: rage only if the presses go on
    if count >= cfg.rage_tap_count and (
        count in (cfg.rage_tap_count, cfg.rage_tap_count + 2) or _gesture(taps[:-1], cfg.rage_tap_count, gap)
    ):
        severity = Severity.HIGH if count >= cfg.rage_tap_count + 2 else Severity.MEDIUM
        found = [(SignalType.RAGE_TAP, event.feature, severity, {"taps": count, "target": target or None})]
    if count > cfg.rage_tap_count + 2:
        del taps[0]
    return found


TEXT_TARGETS = frozenset({"label", "text_selection"})


def _gesture(taps: list[list[Any]], count: int, gap_ms: int) -> bool:
    """The first ``count`` presses came as fast as a multi-tap gesture (every gap under ``gap_ms``):
    a triple tap selects a paragraph of text or zooms."""
    first = taps[:count]
    return len(first) == count and all(b[0] - a[0] < gap_ms for a, b in pairwise(first))


def _same_target(event: UserEvent, target: str, last: list[Any], cfg: DetectionSettings) -> bool:
    if target:
        return bool(target == last[3])
    data = event.eventData
    if last[1] is None or last[2] is None or last[3] != event.feature:
        return False
    radius = cfg.rage_tap_radius_px if event.deviceInfo.platform is Platform.WEB else cfg.rage_tap_touch_radius_px
    x, y = data.x or 0.0, data.y or 0.0  # both present: a press without a target needs a position to be counted
    return math.hypot(x - last[1], y - last[2]) <= radius


def _state_mark(event: UserEvent) -> str:
    """What the press says it changed (empty when it says nothing)."""
    extra = event.eventData.unknown_fields
    if not extra and not event.eventData.videoId:
        return ""
    values = [str(extra.get(name)) for name in STATE_FIELDS if extra and extra.get(name) is not None]
    if event.eventData.videoId:
        values.append(event.eventData.videoId)
    return "|".join(values)[:64]


FLOW_STEP_WORDS = frozenset({"next", "continue", "forward"})


def _steps_a_flow(target: str, event: UserEvent, state: UserState, cfg: DetectionSettings) -> bool:
    """A "next" button inside an open flow (checkout, signup) moves the flow on; pressed again and again
    with nothing happening, it is a dead button, not a carousel's arrow."""
    if event.feature not in state.open_flows:
        return False
    return not _repeatable(target, _without_flow_steps(cfg.rage_tap_repeatable_words))


@lru_cache(maxsize=16)
def _without_flow_steps(repeatable_words: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(w for w in repeatable_words if w not in FLOW_STEP_WORDS)


@lru_cache(maxsize=8192)
def _repeatable(target: str, repeatable_words: tuple[str, ...]) -> bool:
    name = words(target)
    if len(name) == 1 and name[0].isdigit() and len(name[0]) == 1:
        return True  # a digit: a key of a keypad (a one-letter "X" is more often a close button)
    phrases = _phrases(repeatable_words)
    return contains_phrase(name, phrases, 3)


@lru_cache(maxsize=16)
def _phrases(repeatable_words: tuple[str, ...]) -> frozenset[tuple[str, ...]]:
    return phrase_set(repeatable_words)
