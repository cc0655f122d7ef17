"""Screen loops: going in circles, between two screens (cart, delivery options, cart, delivery
options, cart) or three (A, B, C, A, B, C), within a window that fits real dwell times.

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
from journey.detection.words import words
from journey.events.model import EventType, UserEvent
from journey.events.vocabulary import PRESSES
from journey.kernel.ids import bounded_key
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
    if event.eventType is EventType.FEATURE_INTERACTION:
        if state.screens and is_tab_press(event):
            state.screens.clear()  # a tab bar takes the user to a section on purpose: a fresh start, not a step of a circle
        return NONE
    if event.eventType not in VIEWS:
        return NONE
    screen = screen_name(event)
    views = state.screens
    if views and views[-1][1] == screen:
        views[-1][0] = event.timestamp  # the same screen again (a duplicate view, a reload): not a step; its latest view counts
        return NONE
    views.append([event.timestamp, screen])
    keep = max(cfg.loop_two_screen_views, cfg.loop_three_screen_views)
    if len(views) > keep:
        del views[: len(views) - keep]
    for period, count, window in (
        (2, cfg.loop_two_screen_views, cfg.loop_two_screen_window_ms),
        (3, cfg.loop_three_screen_views, cfg.loop_three_screen_window_ms),
    ):
        if len(views) >= count and _circles(views[-count:], period) and views[-1][0] - views[-count][0] <= window:
            feature = bounded_key(event.eventData.feature) if event.eventData.feature else screen
            circle = [v[1] for v in views[-period:]]
            return [
                (
                    SignalType.SCREEN_LOOP,
                    feature,
                    Severity.MEDIUM,
                    {"screens": circle, "views": count, "rule": f"loop_{period}_screens"},
                )
            ]
    return NONE


def is_tab_press(event: UserEvent) -> bool:
    data = event.eventData
    if data.action not in PRESSES:
        return False
    return data.targetType == "tab" or (bool(data.target) and "tab" in words(data.target or ""))


def _circles(views: list[list[Any]], period: int) -> bool:
    """The views repeat a cycle of ``period`` distinct screens."""
    names = [v[1] for v in views]
    cycle = names[:period]
    return len(set(cycle)) == period and all(name == cycle[i % period] for i, name in enumerate(names))
