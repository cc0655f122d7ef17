"""Screen loops: going in circles, between two screens (cart, delivery options, cart, delivery
options, cart) or round three (A, B, C, A, B, C, or a hub and its spokes: account, payment
methods, account, trips, account, payment methods), within a window that fits real dwell times.

A screen is its name without query string, fragment, trailing slash or case (``/Cart?step=2`` is
``/cart``). Consecutive views of one screen are one view: a page view sent twice, by the router and
by a tag manager, or a reload, is not a step of a circle. Browsing different items is not a loop:
``/product/12`` and ``/product/34`` are different screens.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from journey.detection.findings import NONE, Finding
from journey.detection.signals import Severity, SignalType
from journey.events.model import EventType, UserEvent
from journey.kernel.ids import bounded_key, short_id
from journey.settings import DetectionSettings
from journey.users.state import UserState

VIEWS = frozenset({EventType.SCREEN_VIEW, EventType.PAGE_VIEW})


def screen_name(event: UserEvent) -> str:
    name = event.eventData.screen or event.eventData.feature or "unknown"
    name = name.split("?", 1)[0].split("#", 1)[0].strip().lower()
    if len(name) > 1:
        name = name.rstrip("/")
    return bounded_key(name or "/")


def detect_screen_loop(event: UserEvent, state: UserState, cfg: DetectionSettings) -> Sequence[Finding]:
    if event.eventType not in VIEWS:
        return NONE
    screen = screen_name(event)
    views = state.screens
    session = "@" + short_id(event.sessionId)
    if views and views[0][1] != session:
        views.clear()  # a loop is within one session: relaunching after a crash is not going in circles
    if not views:
        views.append([event.timestamp, session])  # the first entry names the session
    views[0][0] = event.timestamp  # (and carries the newest time, so pruning never drops it before the views)
    if views[-1][1] == screen:
        views[-1][0] = event.timestamp  # the same screen again (a duplicate view, a reload): not a step; its latest view counts
        return NONE
    views.append([event.timestamp, screen])
    keep = max(cfg.loop_two_screen_views, cfg.loop_three_screen_views) + 1
    if len(views) > keep:
        del views[1 : len(views) - keep + 1]
    for size, count, window in (
        (2, cfg.loop_two_screen_views, cfg.loop_two_screen_window_ms),
        (3, cfg.loop_three_screen_views, cfg.loop_three_screen_window_ms),
    ):
        recent = views[1:][-count:]
        if len(recent) == count and recent[-1][0] - recent[0][0] <= window and _circles(recent, size):
            feature = bounded_key(event.eventData.feature) if event.eventData.feature else screen
            circle = sorted({v[1] for v in recent})
            return [
                (
                    SignalType.SCREEN_LOOP,
                    feature,
                    Severity.MEDIUM,
                    {"screens": circle, "views": count, "rule": f"loop_{size}_screens"},
                )
            ]
    return NONE


def _circles(views: list[list[Any]], size: int) -> bool:
    """The views go round ``size`` screens, each seen at least twice (A B A B A; A B C A B C; a hub and
    its spokes, A B A C A B): someone looking for something and not finding it."""
    names = [v[1] for v in views]
    seen = {name: names.count(name) for name in set(names)}
    # coming back to a screen closes a circle; moving on to a new one (leaving the loop) does not
    return len(seen) == size and sorted(seen.values())[-2] >= 2 and seen[names[-1]] >= 2
