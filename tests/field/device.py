"""A person's phone or browser: it keeps the clock and writes the events their app would send."""

from __future__ import annotations

import math
import random
import uuid
from typing import Any

from .apps import APPS, HELP_PATHS, App
from .world import Person, stable_fraction

DEFAULT = object()  # "spell the targetType the way this person's SDK does"


class Device:
    def __init__(self, person: Person, rng: random.Random, t: int) -> None:
        self.p = person
        self.app: App = APPS[person.app]
        self.rng = rng
        self.t = t
        self.events: list[dict[str, Any]] = []
        self.session = ""
        self.screen: str | None = None
        self.screen_key: str | None = None
        self.item: str | None = None  # the product, title, post, hotel... last shown
        self._last_view = -(10**12)
        self._first_event = True
        self.episode_first: int | None = None
        self.episode_last: int | None = None

    # --- the clock ------------------------------------------------------------------------------
    def wait(self, lo: float, hi: float) -> None:
        """Let lo..hi seconds pass."""
        self.t += round(self.rng.uniform(lo, hi) * 1000)

    def wait_ms(self, lo: int, hi: int) -> None:
        self.t += self.rng.randint(lo, hi)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, options: Any) -> Any:
        return self.rng.choice(tuple(options))

    # --- the episode being watched --------------------------------------------------------------
    def begin(self) -> None:
        """The next event is the first the researcher marks."""
        self.episode_first = len(self.events)

    def end(self) -> None:
        """The last event written is the last the researcher marks."""
        self.episode_last = len(self.events) - 1

    # --- events ---------------------------------------------------------------------------------
    def emit(self, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
        if self.events and self.t <= self.events[-1]["timestamp"]:
            self.t = self.events[-1]["timestamp"] + 1
        context: dict[str, Any] = {"userSegment": self.p.segment}
        if self._first_event:
            context["consent"] = {"inApp": True, "push": True, "messages": True}
            self._first_event = False
        event = {
            "eventId": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "eventType": event_type,
            "userId": self.p.user_id,
            "sessionId": self.session,
            "timestamp": self.t,
            "eventData": {k: v for k, v in data.items() if v is not None},
            "deviceInfo": self.p.device_info,
            "userContext": context,
        }
        self.events.append(event)
        return event

    def new_session(self) -> None:
        self.session = f"s-{self.rng.getrandbits(48):012x}"

    @property
    def item_screens(self) -> tuple[str, ...]:
        return (self.app.detail, "player", "live")

    def screen_for(self, key: str, item: str | None = None) -> str:
        if self.p.web and key in HELP_PATHS["en"]:
            return HELP_PATHS[self.p.lang][key]
        return self.p.screen_name(key, self.app.web_paths, item)

    def view(
        self, key: str, *, item: str | None = None, raw: str | None = None, feature: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        """The app shows a screen (web: page_view, mobile: screen_view); screens change at most about once a second."""
        self.t = max(self.t, self._last_view + 1000 + self.rng.randint(0, 400))
        if key not in self.item_screens:
            item = None
        elif item is None:
            item = self.item or self.pick(self.app.items)
        screen = raw or self.screen_for(key, item)
        data: dict[str, Any] = {"screen": screen, "feature": feature}
        if item and not self.p.web and self.p.item_ids:
            data["itemId"] = item.lower().replace(" ", "-")
        data.update(extra)
        event = self.emit("page_view" if self.p.web else "screen_view", data)
        self.screen, self.screen_key, self._last_view = screen, key, self.t
        self.item = item or self.item
        return event

    def repeat_view(self) -> dict[str, Any]:
        """The same view sent a second time by a second tracker (router and tag manager, auto and manual)."""
        last = next(e for e in reversed(self.events) if e["eventType"] in ("page_view", "screen_view"))
        self.wait_ms(50, 300)
        return self.emit(last["eventType"], dict(last["eventData"]))

    def aim(self, target: str) -> tuple[float, float]:
        """Where a control sits on this person's screen (stable per screen and control)."""
        w, h = self.p.viewport
        fx = stable_fraction(self.p.user_id, str(self.screen), target, "x")
        fy = stable_fraction(self.p.user_id, str(self.screen), target, "y")
        return 40 + fx * (w - 80), 90 + fy * (h - 180)

    def _where(self, x: float, y: float) -> tuple[float, float]:
        w, h = self.p.viewport
        x, y = min(max(x, 2), w - 2), min(max(y, 2), h - 2)
        return (round(x), round(y)) if self.p.web else (round(x, 1), round(y, 1))

    def press(
        self,
        target: str,
        kind: str = "button",
        *,
        feature: str | None = None,
        action: str | None = None,
        at: tuple[float, float] | None = None,
        target_type: Any = DEFAULT,
        **extra: Any,
    ) -> dict[str, Any]:
        """A tap or click on a control."""
        if at is None:
            cx, cy = self.aim(target)
            s = 12 if self.p.touch else 4
            at = (cx + self.rng.uniform(-s, s), cy + self.rng.uniform(-s, s))
        x, y = self._where(*at)
        data = {
            "feature": feature,
            "action": action or self.p.press_action,
            "screen": self.screen,
            "target": self.p.control_id(target, kind),
            "targetType": self.p.kind_name(kind) if target_type is DEFAULT else target_type,
            "x": x,
            "y": y,
            **extra,
        }
        return self.emit("feature_interaction", data)

    def burst(self, target: str, kind: str, n: int, gaps: tuple[int, int], *, spread: str | None = None, **kw: Any) -> float:
        """n presses on one control in quick succession; returns the seconds from first to last.
        spread: "mouse" (all within ~15 px), "touch" (consecutive taps 20-50 px apart), "tight" (a few px)."""
        spread = spread or ("touch" if self.p.touch else "mouse")
        cx, cy = self.aim(target)
        if spread == "touch":  # a finger-sized control: the wide, centred kind
            cx = self.p.viewport[0] / 2 + self.rng.uniform(-15, 15)
        points = spread_points(self.rng, (cx, cy), n, spread)
        first = self.t
        for i, at in enumerate(points):
            if i:
                self.wait_ms(*gaps)
            self.press(target, kind, at=at, **kw)
        return (self.t - first) / 1000

    def flow(self, feature: str, action: str, **extra: Any) -> dict[str, Any]:
        return self.emit("feature_interaction", {"feature": feature, "action": action, "screen": self.screen, **extra})

    def fail(self, feature: str, error_type: str, **extra: Any) -> dict[str, Any]:
        return self.emit("error", {"feature": feature, "errorType": error_type, "screen": self.screen, **extra})

    def life(self, action: str, **extra: Any) -> dict[str, Any]:
        return self.emit("app_lifecycle", {"action": action, **extra})

    def search(self, query: str, feature: str = "search") -> dict[str, Any]:
        return self.emit("search", {"feature": feature, "query": query, "screen": self.screen})

    def ask_for_help(self, action: str, feature: str | None = None) -> dict[str, Any]:
        return self.emit("help_request", {"feature": feature, "action": action, "screen": self.screen})

    def video(self, video_id: str, watched_ms: int, rate: float, feature: str = "playback") -> dict[str, Any]:
        return self.emit(
            "video_engagement",
            {
                "feature": feature,
                "videoId": video_id,
                "duration": watched_ms,
                "completionRate": round(min(max(rate, 0.0), 1.0), 3),
                "screen": self.screen,
            },
        )


def spread_points(rng: random.Random, center: tuple[float, float], n: int, spread: str) -> list[tuple[float, float]]:
    cx, cy = center
    if spread in ("mouse", "tight"):
        r = 5 if spread == "mouse" else 2
        return [(cx + rng.uniform(-r, r), cy + rng.uniform(-r, r)) for _ in range(n)]
    # A finger on a wide button: each tap lands 20-50 px from the last, mostly sideways, inside the button.
    points = [(cx + rng.uniform(-40, 40), cy + rng.uniform(-8, 8))]
    while len(points) < n:
        px, py = points[-1]
        d, a = rng.uniform(22, 48), rng.uniform(-0.5, 0.5) + (math.pi if rng.random() < 0.5 else 0)
        x, y = px + d * math.cos(a), py + d * math.sin(a)
        if abs(x - cx) <= 150 and abs(y - cy) <= 22 and 21 <= math.dist((x, y), (px, py)) <= 49:
            points.append((x, y))
    return points
