"""A population of app users with personas and labelled ground truth.

Each user is a generator of *bursts* (a few events a session activity produces) that the demo
engine emits over wall-clock time. Event timestamps follow the user's own simulated clock over
a 14-day window; a burst after a struggle episode waits long enough on the wall clock for the
system to react, and its outcome depends on whether help actually arrived (the engine tells the
generator through ``helped``), so treated-vs-holdout outcomes are measured, not assumed.

Ground truth:
* every struggle episode (user, feature, kind, first and last event time);
* churners (the persona whose activity fades, with more struggle);
* hard negatives that must *not* be flagged: fast legitimate double taps, rapid toggle and
  stepper taps, a single error that the user recovers from, a screen visited twice.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

DAY_MS = 86_400_000
FEATURES = (
    "checkout",
    "payment",
    "search",
    "profile",
    "onboarding",
    "video_lesson",
    "settings",
    "booking",
    "upload",
    "messaging",
)
SCREENS = ("home", "catalog", "cart", "library", "account", "notifications", "explore", "favorites")
TIMEZONES = (
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Australia/Sydney",
    "America/Sao_Paulo",
    "UTC+05:30",
    "UTC-03:00",
)
PLATFORMS = ("iOS", "Android", "Web")
EPISODE_KINDS = (
    "rage_tap",
    "repeated_attempts",
    "error_pattern",
    "error_background",
    "screen_loop",
    "abandonment",
    "help_seeking",
)
HELPED_SUCCESS = 0.75
UNHELPED_SUCCESS = 0.40


@dataclass(frozen=True)
class Episode:
    userId: str
    featureId: str
    kind: str
    start: int
    end: int


@dataclass
class SimUser:
    userId: str
    persona: str  # steady | struggler | churner
    tz: str
    platform: str
    consent: dict
    push_endpoint: str = ""

    @property
    def churner(self) -> bool:
        return self.persona == "churner"


@dataclass
class Burst:
    events: list[dict]
    wait_s: float  # wall-clock seconds before this user's next burst


@dataclass
class GroundTruth:
    episodes: list[Episode] = field(default_factory=list)
    hard_negatives: int = 0


class UserScript:
    """Builds one user's events on their simulated clock."""

    def __init__(self, user: SimUser, rng: random.Random, truth: GroundTruth):
        self.user = user
        self.rng = rng
        self.truth = truth
        self.t = 0
        self.session = ""

    def event(self, event_type: str, data: dict | None = None, dt_ms: int = 0) -> dict:
        self.t += dt_ms
        event = {
            "eventId": str(uuid.UUID(int=self.rng.getrandbits(128))),
            "eventType": event_type,
            "userId": self.user.userId,
            "sessionId": self.session,
            "timestamp": self.t,
            "eventData": data or {},
            "deviceInfo": {"platform": self.user.platform, "appVersion": "4.2.0", "timezone": self.user.tz},
        }
        if self.user.push_endpoint:
            event["deviceInfo"]["pushEndpoint"] = self.user.push_endpoint
        return event

    # --- normal behaviour --------------------------------------------------------------------
    def session_start(self) -> list[dict]:
        self.session = f"s-{self.rng.getrandbits(48):012x}"
        start = self.event("app_lifecycle", {"action": "session_start"})
        start["userContext"] = {"userSegment": "active_user", "consent": self.user.consent}
        return [start, self.event("screen_view", {"screen": "home"}, self.rng.randint(1000, 3000))]

    def browse(self) -> list[dict]:
        screens = self.rng.sample(SCREENS, 2)
        return [self.event("screen_view", {"screen": s}, self.rng.randint(8000, 20000)) for s in screens]

    def flow(self, feature: str) -> list[dict]:
        r = self.rng
        events = [self.event("feature_interaction", {"feature": feature, "action": "start"}, r.randint(8000, 15000))]
        events.append(self.event("screen_view", {"screen": f"{feature}_form", "feature": feature}, r.randint(8000, 15000)))
        events.append(
            self.event(
                "feature_interaction",
                {
                    "feature": feature,
                    "action": "tap",
                    "target": f"{feature}_next",
                    "x": r.randint(20, 300),
                    "y": r.randint(100, 600),
                },
                r.randint(3000, 9000),
            )
        )
        events.append(
            self.event(
                "feature_interaction",
                {"feature": feature, "action": "complete", "progress": r.randint(10, 100)},
                r.randint(3000, 9000),
            )
        )
        return events

    def video(self, completion: float) -> list[dict]:
        return [
            self.event(
                "video_engagement",
                {
                    "feature": "video_lesson",
                    "videoId": f"v{self.rng.randint(1, 40)}",
                    "completionRate": round(completion, 2),
                    "duration": self.rng.randint(30, 600) * 1000,
                },
                self.rng.randint(10000, 30000),
            )
        ]

    def search(self) -> list[dict]:
        query = self.rng.choice(("running shoes", "python course", "weekend deals", "invoice template", "yoga mat"))
        return [self.event("search", {"feature": "search", "query": query}, self.rng.randint(5000, 15000))]

    def session_end(self) -> list[dict]:
        return [self.event("app_lifecycle", {"action": "background"}, self.rng.randint(12000, 30000))]

    # --- hard negatives (must not be flagged) --------------------------------------------------
    def hard_negative(self) -> list[dict]:
        r = self.rng
        kind = r.choice(("double_tap", "toggle", "stepper", "single_error", "revisit"))
        self.truth.hard_negatives += 1
        feature = r.choice(FEATURES)
        x, y = r.randint(20, 300), r.randint(100, 600)
        if kind == "double_tap":
            first = self.event(
                "feature_interaction",
                {"feature": feature, "action": "tap", "target": "like", "x": x, "y": y},
                r.randint(8000, 15000),
            )
            return [
                first,
                self.event(
                    "feature_interaction",
                    {"feature": feature, "action": "tap", "target": "like", "x": x + 2, "y": y + 1},
                    r.randint(120, 250),
                ),
            ]
        if kind in ("toggle", "stepper"):
            taps = [
                self.event(
                    "feature_interaction",
                    {"feature": "settings", "action": "tap", "target": f"{kind}_1", "targetType": kind, "x": x, "y": y},
                    r.randint(8000, 15000),
                )
            ]
            taps += [
                self.event(
                    "feature_interaction",
                    {
                        "feature": "settings",
                        "action": "tap",
                        "target": f"{kind}_1",
                        "targetType": kind,
                        "x": x + r.randint(-3, 3),
                        "y": y,
                    },
                    r.randint(150, 300),
                )
                for _ in range(r.randint(3, 5))
            ]
            return taps
        if kind == "single_error":
            return [
                self.event("error", {"feature": feature, "errorType": "timeout"}, r.randint(8000, 15000)),
                self.event(
                    "feature_interaction",
                    {"feature": feature, "action": "tap", "target": "retry", "x": x, "y": y},
                    r.randint(15000, 25000),
                ),
                self.event("screen_view", {"screen": r.choice(SCREENS)}, r.randint(65000, 90000)),
            ]
        screen = r.choice(SCREENS)
        return [
            self.event("screen_view", {"screen": screen}, r.randint(8000, 12000)),
            self.event("screen_view", {"screen": screen}, r.randint(8000, 12000)),
        ]

    # --- struggle episodes (labelled) ----------------------------------------------------------
    def episode(self, kind: str, feature: str) -> tuple[list[dict], bool]:
        """Events of one struggle episode; the flag says whether it ends the session."""
        r = self.rng
        x, y = r.randint(40, 300), r.randint(100, 600)
        ends_session = False
        if kind == "rage_tap":
            events = [
                self.event(
                    "feature_interaction",
                    {"feature": feature, "action": "tap", "target": f"{feature}_submit", "x": x, "y": y},
                    r.randint(8000, 15000),
                )
            ]
            events += [
                self.event(
                    "feature_interaction",
                    {
                        "feature": feature,
                        "action": "tap",
                        "target": f"{feature}_submit",
                        "x": x + r.randint(-8, 8),
                        "y": y + r.randint(-8, 8),
                    },
                    r.randint(120, 400),
                )
                for _ in range(r.randint(2, 5))
            ]
        elif kind == "repeated_attempts":
            events = [
                self.event(
                    "feature_interaction", {"feature": feature, "action": "submit", "attemptCount": n}, r.randint(4000, 9000)
                )
                for n in range(1, r.randint(3, 5))
            ]
        elif kind == "error_pattern":
            events = [
                self.event(
                    "error",
                    {"feature": feature, "errorType": r.choice(("validation", "network", "server_500"))},
                    r.randint(5000, 15000),
                )
                for _ in range(r.randint(2, 3))
            ]
        elif kind == "error_background":
            events = [
                self.event("error", {"feature": feature, "errorType": "crash_dialog"}, r.randint(8000, 15000)),
                self.event("app_lifecycle", {"action": "background"}, r.randint(1500, 6000)),
            ]
            ends_session = True
        elif kind == "screen_loop":
            events = [
                self.event("screen_view", {"screen": f"{feature}_overview", "feature": feature}, r.randint(3000, 4500))
                for _ in range(r.randint(3, 4))
            ]
        elif kind == "abandonment":
            events = [
                self.event("feature_interaction", {"feature": feature, "action": "start"}, r.randint(8000, 15000)),
                self.event("screen_view", {"screen": f"{feature}_form", "feature": feature}, r.randint(8000, 20000)),
                self.event("app_lifecycle", {"action": "background"}, r.randint(5000, 20000)),
            ]
            ends_session = True
        else:  # help_seeking
            lead = self.event(
                "feature_interaction",
                {"feature": feature, "action": "tap", "target": f"{feature}_info", "x": x, "y": y},
                r.randint(8000, 15000),
            )
            how = r.choice(("help_screen", "help_request", "help_search"))
            if how == "help_screen":
                ask = self.event("screen_view", {"screen": "help_center"}, r.randint(3000, 8000))
            elif how == "help_request":
                ask = self.event("help_request", {"feature": feature, "action": "open_chat"}, r.randint(3000, 8000))
            else:
                ask = self.event("search", {"query": f"how do i use {feature}"}, r.randint(3000, 8000))
            events = [lead, ask]
        self.truth.episodes.append(Episode(self.user.userId, feature, kind, events[0]["timestamp"], events[-1]["timestamp"]))
        return events, ends_session

    def outcome(self, feature: str, helped: bool) -> list[dict]:
        success = self.rng.random() < (HELPED_SUCCESS if helped else UNHELPED_SUCCESS)
        if success:
            return [self.event("feature_interaction", {"feature": feature, "action": "complete"}, self.rng.randint(20000, 40000))]
        return self.browse()


def session_starts(user: SimUser, rng: random.Random, t0: int, days: int) -> list[int]:
    """Session start times: steady and strugglers spread out, churners fading after the first week."""
    if user.churner:
        early = [t0 + int(rng.uniform(0, 6.5) * DAY_MS) for _ in range(rng.randint(4, 6))]
        late = [t0 + int(rng.uniform(10.5, days - 0.2) * DAY_MS) for _ in range(rng.randint(1, 2))]
        starts = early + late
    else:
        count = rng.randint(4, 7)
        starts = [t0 + int((i + rng.uniform(0.1, 0.9)) * days * DAY_MS / count) for i in range(count)]
    return sorted(starts)


def user_journey(
    user: SimUser, rng: random.Random, truth: GroundTruth, t0: int, days: int, helped: Callable[[str, str], bool]
) -> Iterator[Burst]:
    """Yields the user's bursts in order, across all their sessions."""
    script = UserScript(user, rng, truth)
    episode_rate = {"steady": 0.0, "struggler": 0.9, "churner": 1.1}[user.persona]
    video_completion = (0.1, 0.45) if user.churner else (0.6, 1.0)
    pending: list[str] = []  # features the user left struggling with, retried next session
    for start in session_starts(user, rng, t0, days):
        script.t = start
        yield Burst(script.session_start(), rng.uniform(0.3, 1.0))
        for feature in pending:
            yield Burst(script.outcome(feature, helped(user.userId, feature)), rng.uniform(0.3, 1.0))
        pending = []
        activities = rng.randint(1, 3)
        for _ in range(activities):
            roll = rng.random()
            if roll < 0.35:
                feature = rng.choice(FEATURES)
                yield Burst(script.flow(feature), rng.uniform(0.3, 1.0))
            elif roll < 0.55:
                yield Burst(script.video(rng.uniform(*video_completion)), rng.uniform(0.3, 1.0))
            elif roll < 0.7:
                yield Burst(script.search(), rng.uniform(0.3, 1.0))
            elif roll < 0.85:
                yield Burst(script.hard_negative(), rng.uniform(0.3, 1.0))
            else:
                yield Burst(script.browse(), rng.uniform(0.3, 1.0))
            if rng.random() < episode_rate / activities:
                feature = rng.choice(FEATURES)
                events, ended = script.episode(rng.choice(EPISODE_KINDS), feature)
                if ended:
                    pending.append(feature)
                    yield Burst(events, rng.uniform(3.5, 5.0))
                    break
                yield Burst(events, rng.uniform(3.5, 5.0))  # long enough on the wall clock for help to arrive
                yield Burst(script.outcome(feature, helped(user.userId, feature)), rng.uniform(0.3, 1.0))
        else:
            yield Burst(script.session_end(), 0.0)


def make_population(count: int, seed: int, push_share: float = 0.6) -> list[SimUser]:
    rng = random.Random(seed)
    users = []
    for i in range(count):
        roll = rng.random()
        persona = "churner" if roll < 0.2 else "struggler" if roll < 0.55 else "steady"
        push = rng.random() < push_share
        users.append(
            SimUser(
                userId=f"u-{i:05d}",
                persona=persona,
                tz=rng.choice(TIMEZONES),
                platform=rng.choice(PLATFORMS),
                consent={"inApp": rng.random() < 0.95, "push": push, "messages": rng.random() < 0.5},
            )
        )
    return users


def timeline(users: list[SimUser], seed: int, t0: int, days: int, seconds: float) -> list[dict]:
    """Every user's events, in the order the demo's engine would emit them over ``seconds`` of wall
    clock (no feedback from the system: nobody is helped). For the benchmark, chaos and load runs."""
    truth = GroundTruth()
    timed = []
    for i, user in enumerate(users):
        rng = random.Random(seed * 7919 + i)
        wall = None
        for burst in user_journey(user, rng, truth, t0, days, lambda u, f: False):
            first = burst.events[0]
            start_wall = (first["timestamp"] - t0) / (days * DAY_MS) * seconds
            if first["eventType"] == "app_lifecycle" and first["eventData"].get("action") == "session_start":
                wall = start_wall if wall is None else max(wall, start_wall)
            for event in burst.events:
                timed.append((wall, i, event))
            wall += burst.wait_s
    timed.sort(key=lambda item: (item[0], item[1]))
    return [event for _, _, event in timed]
