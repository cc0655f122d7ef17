"""A population of app users with personas and labelled ground truth.

Each user is a generator of *bursts* (a few events a session activity produces) that the demo
engine emits over wall-clock time. Event timestamps follow the user's own simulated clock over
a 14-day window; a burst after a struggle episode waits long enough on the wall clock for the
system to react, and its outcome depends on whether help actually arrived (the engine tells the
generator through ``helped``), so treated-vs-holdout outcomes are measured, not assumed.

Users press the way their platform does: ``click`` on the Web, ``tap`` on iOS and Android. Each
speaks one of five languages (en, es, de, fr, pt) when they look for help.

Ground truth (``GroundTruth``):

* every struggle episode: user, feature, kind, variant, first and last event time. Kinds and their
  variants (``EPISODE_VARIANTS``), each detected as ``EXPECTED_SIGNAL[kind]``:

  - ``rage_tap``: quick taps close together (touch), taps on one button landing 20-50 px apart
    (touch), mouse clicks on a dead button (Web), taps or clicks on something that is not a
    control (an image, a label);
  - ``repeated_attempts``: the app's own ``attemptCount`` reaching 3 or more, or submits that fail
    (submit, then ``invalid_credentials``, ``card_declined``...) two or three times in a row;
  - ``error_pattern``: two or three errors on one feature within a minute, or a crash (a lifecycle
    ``crash``, ``fatal_exception``, ``app_not_responding``, ``white_screen``, a fatal-flagged
    exception) then a relaunch in a new session;
  - ``error_background``: an error, then the user leaves the app within seconds;
  - ``screen_loop``: A B A B A within 25 s, or A B C A B C within 90 s;
  - ``abandonment``: a flow started, then the app backgrounded and never resumed, or (Web) the tab
    closed mid-flow, which sends nothing at all;
  - ``help_seeking``: a help screen, a help request or a search asking for help, in the user's
    language;

* churners (the persona whose activity fades, with more struggle);
* hard negatives (``HARD_NEGATIVE_KINDS``) that must *not* be flagged: a fast legitimate double
  tap; toggles (``UISwitch``, ``SwitchCompat``, checkboxes) flicked; steppers (typed, or buttons
  with ids like ``qty_plus``); carousels advanced; keypad digits typed; stories skipped; a single
  error the user recovers from; a screen revisited or its view sent twice; a brief exit mid-flow
  (background 10-60 s, back, complete); one failed submit then success; help false friends
  (a helper bot, a chat screen, contacts, "how to train your dragon").

Detection declares an abandonment after a grace period (180 s away) or a timeout (10 min with
nothing), so its signal comes minutes after the episode's last event (localrt.evaluation). Only
abandonment episodes leave a flow open past their burst: the demo plays a session in slow motion
while its deadline timer runs on the stream's newest clock, hours ahead of a user mid-session, so a
flow left open between two bursts (a brief exit split in two, say) would be declared abandoned.
"""

from __future__ import annotations

import math
import random
import uuid
from collections import Counter
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
LANGUAGES = ("en", "es", "de", "fr", "pt")
LANGUAGE_WEIGHTS = (0.4, 0.15, 0.15, 0.15, 0.15)
EPISODE_KINDS = (
    "rage_tap",
    "repeated_attempts",
    "error_pattern",
    "error_background",
    "screen_loop",
    "abandonment",
    "help_seeking",
)
# How each kind of episode happens; a variant only some platforms can play is listed in PLATFORMS_OF.
EPISODE_VARIANTS: dict[str, tuple[str, ...]] = {
    "rage_tap": ("touch_close", "touch_spread", "web_click", "dead_element"),
    "repeated_attempts": ("attempt_count", "failed_submits"),
    "error_pattern": ("repeated_errors", "crash_relaunch"),
    "error_background": ("error_then_leave",),
    "screen_loop": ("loop_2_screens", "loop_3_screens"),
    "abandonment": ("backgrounded", "tab_closed"),
    "help_seeking": ("help_screen", "help_request", "help_search"),
}
PLATFORMS_OF: dict[str, tuple[str, ...]] = {
    "touch_close": ("iOS", "Android"),
    "touch_spread": ("iOS", "Android"),
    "web_click": ("Web",),
    "tab_closed": ("Web",),
}
# The signal type that finds an episode of each kind.
EXPECTED_SIGNAL: dict[str, str] = {kind: kind for kind in EPISODE_KINDS} | {"error_background": "error_pattern"}
HARD_NEGATIVE_KINDS = (
    "double_tap",
    "toggle",
    "stepper",
    "carousel",
    "keypad",
    "story",
    "single_error",
    "revisit",
    "brief_exit",
    "one_retry",
    "help_false_friend",
)
HELPED_SUCCESS = 0.75
UNHELPED_SUCCESS = 0.40

# --- what users write and see, per language -----------------------------------------------------
HELP_SCREENS: dict[str, tuple[str, ...]] = {
    "en": ("help_center", "HelpCenter", "faq", "contact_support", "/help"),
    "es": ("centro_de_ayuda", "ayuda", "/es/ayuda", "atencion_al_cliente"),
    "de": ("hilfe", "Hilfecenter", "/de/hilfe", "kundenservice"),
    "fr": ("centre_d_aide", "aide", "/fr/aide", "service_client"),
    "pt": ("central_de_ajuda", "ajuda", "/pt/ajuda", "suporte"),
}
HELP_SEARCHES: dict[str, tuple[str, ...]] = {
    "en": ("how do i use {f}", "{f} not working", "forgot password", "talk to a human", "problem with {f}"),
    "es": ("no puedo usar {f}", "olvidé mi contraseña", "{f} no funciona", "hablar con un agente"),
    "de": ("passwort vergessen", "{f} funktioniert nicht", "kann mich nicht anmelden", "problem mit {f}"),
    "fr": ("mot de passe oublié", "je ne peux pas payer", "{f} ne fonctionne pas", "problème avec {f}"),
    "pt": ("esqueci minha senha", "não consigo entrar", "{f} não funciona", "problema com {f}"),
}
# Look like help, are not: (event type, screen or query, feature)
HELP_FALSE_FRIENDS: tuple[tuple[str, str, str | None], ...] = (
    ("screen_view", "HelperBot", "messaging"),
    ("screen_view", "helper_bot", "messaging"),
    ("screen_view", "ChatScreen", "messaging"),
    ("screen_view", "Contacts", "messaging"),
    ("screen_view", "helpful_tips", "onboarding"),
    ("search", "how to train your dragon", "search"),
    ("search", "the help movie", "search"),
    ("search", "help wanted", "search"),
    ("search", "support local artists", "search"),
)
ATTEMPT_ERRORS = ("invalid_credentials", "card_declined", "validation_failed", "invalid_code", "incorrect_password")
CRASHES: dict[str, tuple[tuple[str, str, bool], ...]] = {  # (event type, action or errorType, fatal flag)
    "iOS": (("app_lifecycle", "crash", False), ("error", "fatal_exception", False), ("error", "EXC_BAD_ACCESS", True)),
    "Android": (
        ("app_lifecycle", "crash", False),
        ("error", "app_not_responding", False),
        ("error", "java.lang.NullPointerException", True),
    ),
    "Web": (("error", "white_screen", False), ("error", "fatal_exception", False)),
}
DEAD_ELEMENTS = (("hero_image", "image"), ("price_label", "label"), ("product_photo", "image"), ("terms_text", "label"))
TOGGLE_TYPES = {"iOS": "UISwitch", "Android": "SwitchCompat", "Web": "input[type=checkbox]"}
STEPPER_TYPES = {"iOS": "UIStepper", "Android": "NumberPicker", "Web": "input[type=number]"}
CAROUSEL_TYPES = {"iOS": "UIPageControl", "Android": "ViewPager2", "Web": "carousel"}


@dataclass(frozen=True)
class Episode:
    userId: str
    featureId: str
    kind: str
    start: int
    end: int
    variant: str = ""


@dataclass
class SimUser:
    userId: str
    persona: str  # steady | struggler | churner
    tz: str
    platform: str
    consent: dict
    push_endpoint: str = ""
    lang: str = "en"
    tenant: str = ""  # the app (tenant) the user's events name; "" names none (the deployment's default tenant)
    app_id: str = ""  # the app's own id of the user, where userId is its pseudonym (the demo's apps sign in with it)

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
    negative_kinds: Counter = field(default_factory=Counter)  # hard negatives played, by kind


def variants_for(kind: str, platform: str) -> tuple[str, ...]:
    """The variants of an episode kind a user on ``platform`` can play."""
    return tuple(v for v in EPISODE_VARIANTS[kind] if platform in PLATFORMS_OF.get(v, PLATFORMS))


class UserScript:
    """Builds one user's events on their simulated clock."""

    def __init__(self, user: SimUser, rng: random.Random, truth: GroundTruth):
        self.user = user
        self.rng = rng
        self.truth = truth
        self.t = 0
        self.session = ""
        self.web = user.platform == "Web"
        self.press_action = "click" if self.web else "tap"

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
        if self.user.tenant:
            event["tenantId"] = self.user.tenant
        return event

    def press(
        self,
        feature: str,
        target: str | None,
        x: float | None,
        y: float | None,
        dt_ms: int,
        target_type: str | None = None,
        **extra,
    ) -> dict:
        """A tap (iOS, Android) or a click (Web) on ``target`` (None: the app names no target)."""
        data: dict = {"feature": feature, "action": self.press_action}
        if target is not None:
            data["target"] = target
        if target_type is not None:
            data["targetType"] = target_type
        if x is not None and y is not None:
            data["x"], data["y"] = round(x), round(y)
        data.update(extra)
        return self.event("feature_interaction", data, dt_ms)

    def leave(self, dt_ms: int) -> dict:
        """The app to the background (a hidden tab on the Web)."""
        return self.event("app_lifecycle", {"action": "visibility_hidden" if self.web else "background"}, dt_ms)

    def come_back(self, dt_ms: int) -> dict:
        return self.event("app_lifecycle", {"action": "visible" if self.web else "foreground"}, dt_ms)

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
        events.append(self.press(feature, f"{feature}_next", r.randint(20, 300), r.randint(100, 600), r.randint(3000, 9000)))
        events.append(
            self.event(
                "feature_interaction",
                {"feature": feature, "action": "complete", "progress": r.randint(10, 100)},
                r.randint(3000, 9000),
            )
        )
        return events

    def video(self, completion: float) -> list[dict]:
        """One watch of a video: play, maybe a speed change, pauses and jumps, then its end (``complete``,
        else ``stop``) where the playhead got to, ``completion`` of the way (the end's completionRate).
        Churners skip ahead half the time; the others now and then speed up, go back over a part (once
        or twice), or skip an intro. The end is the one event of the watch drawn from the user's own
        generator, as it always was; the watch before it is drawn from a generator seeded with the end's
        id, so the user's other draws, events and times are as they were without it."""
        start = self.t
        end = self.event(
            "video_engagement",
            {
                "feature": "video_lesson",
                "videoId": f"v{self.rng.randint(1, 40)}",
                "completionRate": round(completion, 2),
                "duration": self.rng.randint(30, 600) * 1000,
            },
            self.rng.randint(10000, 30000),
        )
        return [*self._watch(end, start, completion), end]

    def _watch(self, end: dict, start: int, completion: float) -> list[dict]:
        """The events of a watch before its ``end``, spread over the time between ``start`` and the end's;
        fills in the end's action, position and speed."""
        w = random.Random(end["eventId"])
        data = end["eventData"]
        length = data["duration"] / 1000
        leave = round(min(completion, 1.0) * length, 1)  # where the playhead is at the end
        speed = w.choice((1.5, 2.0)) if not self.user.churner and w.random() < 0.2 else 1.0
        jumps: list[tuple[float, float]] = []  # (from, to) positions of the playhead, in order
        if self.user.churner:
            if w.random() < 0.5 and leave > 10:  # skims: jumps ahead, then gives up
                a = round(leave * w.uniform(0.1, 0.4), 1)
                jumps.append((a, round(a + (leave - a) * w.uniform(0.4, 0.9), 1)))
        elif w.random() < 0.3 and leave > 40:  # goes back over a part, once or twice
            for x in sorted(round(leave * w.uniform(0.3, 0.9), 1) for _ in range(2 if w.random() < 0.3 else 1)):
                jumps.append((x, round(max(0.0, x - w.uniform(10, 30)), 1)))
        elif w.random() < 0.1 and leave > 60:  # skips the intro
            a = round(w.uniform(3, 10), 1)
            jumps.append((a, round(a + w.uniform(10, 30), 1)))
        # the stretches played, and the pauses along them
        stretches = list(zip([0.0, *(to for _, to in jumps)], [*(at for at, _ in jumps), leave], strict=True))
        paused: list[tuple[int, float]] = []  # (stretch, position)
        for _ in range(w.randint(0, 1 if self.user.churner else 2)):
            i = w.randrange(len(stretches))
            lo, hi = stretches[i]
            if hi > lo:
                paused.append((i, round(w.uniform(lo, hi), 1)))
        paused.sort()
        steps: list[dict] = [{"action": "play", "videoPosition": 0.0}]
        if speed != 1.0:
            steps.append({"action": "speed_change", "videoPosition": 0.0, "playbackSpeed": speed})
        for i, _ in enumerate(stretches):
            for _, at in (p for p in paused if p[0] == i):
                steps += [{"action": "pause", "videoPosition": at}, {"action": "resume", "videoPosition": at}]
            if i < len(jumps):
                steps.append({"action": "seek", "videoPosition": jumps[i][0], "seekTo": jumps[i][1]})
        data.update({"action": "complete" if completion >= 0.95 else "stop", "videoPosition": leave})
        if speed != 1.0:
            data["playbackSpeed"] = speed
        base = {"feature": data["feature"], "videoId": data["videoId"], "duration": data["duration"]}
        span = end["timestamp"] - start
        return [
            {
                **end,
                "eventId": str(uuid.UUID(int=w.getrandbits(128))),
                "timestamp": start + span * (k + 1) // (len(steps) + 1),
                "eventData": {**base, **step},
                "deviceInfo": dict(end["deviceInfo"]),
            }
            for k, step in enumerate(steps)
        ]

    def search(self) -> list[dict]:
        query = self.rng.choice(("running shoes", "python course", "weekend deals", "invoice template", "yoga mat"))
        return [self.event("search", {"feature": "search", "query": query}, self.rng.randint(5000, 15000))]

    def session_end(self) -> list[dict]:
        return [self.event("app_lifecycle", {"action": "background"}, self.rng.randint(12000, 30000))]

    # --- hard negatives (must not be flagged) --------------------------------------------------
    def hard_negative(self, kind: str | None = None) -> list[dict]:
        r = self.rng
        kind = kind or r.choice(HARD_NEGATIVE_KINDS)
        self.truth.hard_negatives += 1
        self.truth.negative_kinds[kind] += 1
        return getattr(self, f"_negative_{kind}")(r.choice(FEATURES), r.randint(20, 300), r.randint(100, 600))

    def _repeat(
        self, feature: str, target: str | None, x: int, y: int, count: int, gap: tuple[int, int], jitter: int = 3, **kw
    ) -> list[dict]:
        """``count`` quick presses of one control (the first after a pause)."""
        r = self.rng
        events = [self.press(feature, target, x, y, r.randint(8000, 15000), **kw)]
        for _ in range(count - 1):
            events.append(
                self.press(feature, target, x + r.randint(-jitter, jitter), y + r.randint(-jitter, jitter), r.randint(*gap), **kw)
            )
        return events

    def _negative_double_tap(self, feature: str, x: int, y: int) -> list[dict]:
        return self._repeat(feature, "like", x, y, 2, (120, 250), jitter=2)

    def _negative_toggle(self, feature: str, x: int, y: int) -> list[dict]:
        """A switch flicked on and off (UISwitch on iOS, SwitchCompat on Android, a checkbox on the Web)."""
        r = self.rng
        target = r.choice(("dark_mode", "push_alerts", "wifi_only_downloads", "autoplay"))
        kind = r.choice((TOGGLE_TYPES[self.user.platform], "toggle"))
        return self._repeat("settings", target, x, y, r.randint(4, 6), (150, 400), target_type=kind)

    def _negative_stepper(self, feature: str, x: int, y: int) -> list[dict]:
        """A quantity stepped up: a typed stepper, or plain buttons named like one (qty_plus)."""
        r = self.rng
        feature = r.choice(("checkout", "booking"))
        if r.random() < 0.5:
            kind = r.choice((STEPPER_TYPES[self.user.platform], "stepper"))
            return self._repeat(
                feature, r.choice(("guests", "tickets", "nights")), x, y, r.randint(4, 6), (150, 350), target_type=kind
            )
        target = r.choice(("qty_plus", "qty_minus", "increase_quantity", "guests_plus"))
        return self._repeat(feature, target, x, y, r.randint(4, 6), (150, 350), target_type="button")

    def _negative_carousel(self, feature: str, x: int, y: int) -> list[dict]:
        """Slides advanced one after another: a typed carousel, a "next" arrow, or a banner that says its index."""
        r = self.rng
        feature = r.choice(("onboarding", "catalog", "explore"))
        count = r.randint(4, 7)
        how = r.randrange(3)
        if how == 0:
            return self._repeat(feature, "promo_banner", x, y, count, (300, 800), target_type=CAROUSEL_TYPES[self.user.platform])
        if how == 1:
            target = r.choice(("carousel_next", "gallery_next", "next_slide"))
            return self._repeat(feature, target, x, y, count, (300, 800), target_type="button")
        events = []
        for index in range(count):
            gap = r.randint(8000, 15000) if index == 0 else r.randint(300, 800)
            events.append(self.press(feature, "hero_banner", x + r.randint(-3, 3), y, gap, index=index + 1))
        return events

    def _negative_keypad(self, feature: str, x: int, y: int) -> list[dict]:
        """A PIN or an amount typed on the app's own keypad (repeated digits included: 1999, 1000)."""
        r = self.rng
        digits = r.choice(("1999", "1000", "0800", "2255", "5000", "7777"))
        kind = r.choice(("keypad", "pinpad", None))
        feature = r.choice(("payment", "profile", "onboarding"))
        events = []
        for i, digit in enumerate(digits):
            gap = r.randint(8000, 15000) if i == 0 else r.randint(150, 400)
            events.append(
                self.press(feature, digit, 60 + 90 * (int(digit) % 3), 400 + 60 * (int(digit) // 3), gap, target_type=kind)
            )
        return events

    def _negative_story(self, feature: str, x: int, y: int) -> list[dict]:
        """Stories skipped through: a typed story viewer, a skip button, or taps on the screen's edge that
        each show the next story (the app says which)."""
        r = self.rng
        count = r.randint(4, 8)
        how = r.randrange(3)
        if how == 0:
            return self._repeat("explore", "story_viewer", 330, 400, count, (300, 900), jitter=20, target_type="story")
        if how == 1:
            return self._repeat(
                "explore", r.choice(("story_skip", "next_story")), 340, 60, count, (300, 900), target_type="button"
            )
        events = []
        for i in range(count):
            gap = r.randint(8000, 15000) if i == 0 else r.randint(300, 900)
            events.append(
                self.press("explore", None, 330 + r.randint(-15, 15), 400 + r.randint(-40, 40), gap, storyId=f"st-{i + 1}")
            )
        return events

    def _negative_single_error(self, feature: str, x: int, y: int) -> list[dict]:
        r = self.rng
        return [
            self.event("error", {"feature": feature, "errorType": "timeout"}, r.randint(8000, 15000)),
            self.press(feature, "retry", x, y, r.randint(15000, 25000)),
            self.event("screen_view", {"screen": r.choice(SCREENS)}, r.randint(65000, 90000)),
        ]

    def _negative_revisit(self, feature: str, x: int, y: int) -> list[dict]:
        """A screen seen again after a while, or its view sent twice (router and tag manager) or reloaded."""
        r = self.rng
        screen = r.choice(SCREENS)
        if r.random() < 0.5:
            return [
                self.event("screen_view", {"screen": screen}, r.randint(8000, 12000)),
                self.event("screen_view", {"screen": screen}, r.randint(8000, 12000)),
            ]
        events = [self.event("screen_view", {"screen": screen}, r.randint(8000, 12000))]
        events += [self.event("screen_view", {"screen": screen}, r.randint(50, 3000)) for _ in range(r.randint(1, 3))]
        return events

    def _negative_brief_exit(self, feature: str, x: int, y: int) -> list[dict]:
        """Mid-flow, the user steps out for 10-60 s (an SMS code, a message), comes back and finishes."""
        r = self.rng
        return [
            self.event("feature_interaction", {"feature": feature, "action": "start"}, r.randint(8000, 15000)),
            self.event("screen_view", {"screen": f"{feature}_form", "feature": feature}, r.randint(5000, 12000)),
            self.leave(r.randint(3000, 10000)),
            self.come_back(r.randint(10_000, 60_000)),
            self.event("feature_interaction", {"feature": feature, "action": "submit"}, r.randint(3000, 9000)),
            self.event("feature_interaction", {"feature": feature, "action": "complete"}, r.randint(1000, 3000)),
        ]

    def _negative_one_retry(self, feature: str, x: int, y: int) -> list[dict]:
        """One submit fails (a typo), the second goes through."""
        r = self.rng
        counted = r.random() < 0.3
        first = {"feature": feature, "action": "submit"} | ({"attemptCount": 1} if counted else {})
        second = {"feature": feature, "action": "submit"} | ({"attemptCount": 2} if counted else {})
        return [
            self.event("feature_interaction", first, r.randint(8000, 15000)),
            self.event("error", {"feature": feature, "errorType": r.choice(ATTEMPT_ERRORS)}, r.randint(600, 3000)),
            self.event("feature_interaction", second, r.randint(5000, 15000)),
            self.event("feature_interaction", {"feature": feature, "action": "complete"}, r.randint(800, 3000)),
        ]

    def _negative_help_false_friend(self, feature: str, x: int, y: int) -> list[dict]:
        """Screens and searches that contain help-like words and are not help."""
        r = self.rng
        kind, text, own = r.choice(HELP_FALSE_FRIENDS)
        if kind == "search":
            return [self.event("search", {"feature": own, "query": text}, r.randint(5000, 15000))]
        return [self.event("screen_view", {"screen": text, "feature": own}, r.randint(5000, 15000))]

    # --- struggle episodes (labelled) ----------------------------------------------------------
    def episode(self, kind: str, feature: str, variant: str | None = None) -> tuple[list[dict], bool]:
        """Events of one struggle episode; the flag says whether it ends the session (the user is gone)."""
        variant = variant or self.rng.choice(variants_for(kind, self.user.platform))
        if variant not in EPISODE_VARIANTS[kind]:
            raise ValueError(f"{kind} has no variant {variant!r}")
        events, ends_session = getattr(self, f"_episode_{variant}")(feature)
        label = f"{variant}.{self.user.lang}" if kind == "help_seeking" else variant
        self.truth.episodes.append(
            Episode(self.user.userId, feature, kind, events[0]["timestamp"], events[-1]["timestamp"], label)
        )
        return events, ends_session

    # rage taps and clicks
    def _rage(
        self, feature: str, target: str | None, count: int, gap: tuple[int, int], step: Callable[[], tuple[float, float]], **kw
    ) -> list[dict]:
        r = self.rng
        x, y = r.randint(60, 300), r.randint(120, 600)
        events = [self.press(feature, target, x, y, r.randint(8000, 15000), **kw)]
        for _ in range(count - 1):
            dx, dy = step()
            x, y = x + dx, y + dy
            events.append(self.press(feature, target, x, y, r.randint(*gap), **kw))
        return events

    def _episode_touch_close(self, feature: str) -> tuple[list[dict], bool]:
        r = self.rng
        step = lambda: (r.randint(-8, 8), r.randint(-8, 8))  # noqa: E731
        return self._rage(feature, f"{feature}_submit", r.randint(3, 6), (200, 450), step), False

    def _episode_touch_spread(self, feature: str) -> tuple[list[dict], bool]:
        """A finger jabbing one button, landing 20-50 px from the last tap each time (the app names the target)."""
        r = self.rng

        def step() -> tuple[float, float]:
            angle, distance = r.uniform(0, 2 * math.pi), r.uniform(20, 50)
            return distance * math.cos(angle), distance * math.sin(angle)

        target = r.choice((f"{feature}_submit", f"{feature}_continue", "confirm_button"))
        return self._rage(feature, target, r.randint(3, 5), (180, 380), step, target_type="button"), False

    def _episode_web_click(self, feature: str) -> tuple[list[dict], bool]:
        """A mouse clicking a button that does nothing, in one spot; some pages name no target."""
        r = self.rng
        step = lambda: (r.randint(-4, 4), r.randint(-4, 4))  # noqa: E731
        target = r.choice((f"{feature}_submit", "place_order", f"{feature}_continue")) if r.random() < 0.7 else None
        return self._rage(feature, target, r.randint(4, 6), (150, 380), step), False

    def _episode_dead_element(self, feature: str) -> tuple[list[dict], bool]:
        """Taps (clicks) on something that looks pressable and is not: an image, a label."""
        r = self.rng
        jitter = 4 if self.web else 12
        step = lambda: (r.randint(-jitter, jitter), r.randint(-jitter, jitter))  # noqa: E731
        if r.random() < 0.7:
            target, kind = r.choice(DEAD_ELEMENTS)
            return self._rage(feature, f"{feature}_{target}", r.randint(3, 5), (300, 520), step, target_type=kind), False
        return self._rage(feature, None, r.randint(3, 5), (300, 520), step), False

    # repeated attempts
    def _episode_attempt_count(self, feature: str) -> tuple[list[dict], bool]:
        r = self.rng
        events = [
            self.event("feature_interaction", {"feature": feature, "action": "submit", "attemptCount": n}, r.randint(4000, 9000))
            for n in range(1, r.randint(4, 5))
        ]
        return events, False

    def _episode_failed_submits(self, feature: str) -> tuple[list[dict], bool]:
        """Submit, refused (a wrong password, a declined card), re-type, submit again: two or three times."""
        r = self.rng
        error = r.choice(ATTEMPT_ERRORS)
        events = []
        for _ in range(r.randint(2, 3)):
            events.append(self.event("feature_interaction", {"feature": feature, "action": "submit"}, r.randint(4000, 14000)))
            events.append(self.event("error", {"feature": feature, "errorType": error}, r.randint(600, 3000)))
        return events, False

    # errors
    def _episode_repeated_errors(self, feature: str) -> tuple[list[dict], bool]:
        r = self.rng
        events = [
            self.event(
                "error",
                {"feature": feature, "errorType": r.choice(("validation", "network", "server_500"))},
                r.randint(5000, 15000),
            )
            for _ in range(r.randint(2, 3))
        ]
        return events, False

    def _episode_crash_relaunch(self, feature: str) -> tuple[list[dict], bool]:
        """The app dies in the middle of a feature; the user opens it again (a new session)."""
        r = self.rng
        lead = self.press(feature, f"{feature}_open", r.randint(40, 300), r.randint(100, 600), r.randint(8000, 15000))
        event_type, name, fatal = r.choice(CRASHES[self.user.platform])
        if event_type == "app_lifecycle":
            crash = self.event("app_lifecycle", {"action": name}, r.randint(1000, 8000))  # the feature is the one in use
        else:
            data = {"feature": feature, "errorType": name} | ({"fatal": True} if fatal else {})
            crash = self.event("error", data, r.randint(1000, 8000))
        self.t += r.randint(5000, 40_000)  # the user opens the app again
        return [lead, crash, *self.session_start()], False

    def _episode_error_then_leave(self, feature: str) -> tuple[list[dict], bool]:
        r = self.rng
        return [
            self.event(
                "error",
                {"feature": feature, "errorType": r.choice(("network", "server_500", "upload_failed"))},
                r.randint(8000, 15000),
            ),
            self.leave(r.randint(1500, 6000)),
        ], True

    # screen loops
    def _episode_loop_2_screens(self, feature: str) -> tuple[list[dict], bool]:
        """Back and forth between two screens, looking for something: A B A B A within 25 s."""
        r = self.rng
        pair = (f"{feature}_summary", f"{feature}_options")
        return [
            self.event(
                "screen_view",
                {"screen": pair[i % 2], "feature": feature},
                r.randint(8000, 15000) if i == 0 else r.randint(2500, 5500),
            )
            for i in range(r.randint(5, 6))
        ], False

    def _episode_loop_3_screens(self, feature: str) -> tuple[list[dict], bool]:
        """Round in circles through three screens: A B C A B C within 90 s."""
        r = self.rng
        circle = (f"{feature}_summary", f"{feature}_details", f"{feature}_options")
        return [
            self.event(
                "screen_view",
                {"screen": circle[i % 3], "feature": feature},
                r.randint(8000, 15000) if i == 0 else r.randint(6000, 15000),
            )
            for i in range(6)
        ], False

    # abandonment
    def _flow_begun(self, feature: str) -> list[dict]:
        r = self.rng
        return [
            self.event("feature_interaction", {"feature": feature, "action": "start"}, r.randint(8000, 15000)),
            self.event("screen_view", {"screen": f"{feature}_form", "feature": feature}, r.randint(8000, 20000)),
        ]

    def _episode_backgrounded(self, feature: str) -> tuple[list[dict], bool]:
        """Mid-flow, the app goes to the background (the tab is hidden) and the user never comes back to it."""
        return [*self._flow_begun(feature), self.leave(self.rng.randint(5000, 20000))], True

    def _episode_tab_closed(self, feature: str) -> tuple[list[dict], bool]:
        """Mid-flow, the user closes the browser tab: nothing more is sent."""
        r = self.rng
        events = self._flow_begun(feature)
        events.append(self.press(feature, f"{feature}_field", r.randint(40, 300), r.randint(100, 600), r.randint(3000, 15000)))
        return events, True

    # help seeking
    def _help_lead(self, feature: str) -> dict:
        r = self.rng
        return self.press(feature, f"{feature}_info", r.randint(40, 300), r.randint(100, 600), r.randint(8000, 15000))

    def _episode_help_screen(self, feature: str) -> tuple[list[dict], bool]:
        lead = self._help_lead(feature)
        screen = self.rng.choice(HELP_SCREENS[self.user.lang])
        return [lead, self.event("screen_view", {"screen": screen}, self.rng.randint(3000, 8000))], False

    def _episode_help_request(self, feature: str) -> tuple[list[dict], bool]:
        lead = self._help_lead(feature)
        action = self.rng.choice(("open_chat", "contact_support"))
        return [lead, self.event("help_request", {"feature": feature, "action": action}, self.rng.randint(3000, 8000))], False

    def _episode_help_search(self, feature: str) -> tuple[list[dict], bool]:
        lead = self._help_lead(feature)
        query = self.rng.choice(HELP_SEARCHES[self.user.lang]).format(f=feature.replace("_", " "))
        return [lead, self.event("search", {"query": query}, self.rng.randint(3000, 8000))], False

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


CHECKIN_SHARE = 0.6  # of the days without a full session, those with a brief check-in (open the app, leave)
CHURNER_FADES_AT = 6.5  # days: a churner's check-ins stop here (their full sessions thin out, journey above)


def checkin_starts(user: SimUser, t0: int, days: int, full: list[int]) -> list[int]:
    """Brief check-ins on most days without a full session: retained users open the app nearly every
    day, churners do until they fade. They draw on their own random stream (seeded by the user id), so
    everything else a user does is as it was without them."""
    rng = random.Random(f"checkin|{user.userId}")
    busy = {(t - t0) // DAY_MS for t in full}
    last_day = CHURNER_FADES_AT if user.churner else days
    starts = []
    for day in range(days):
        at = t0 + int((day + rng.uniform(0.3, 0.9)) * DAY_MS)
        if day not in busy and rng.random() < CHECKIN_SHARE and (at - t0) / DAY_MS < last_day:
            starts.append(at)
    return starts


def user_journey(
    user: SimUser, rng: random.Random, truth: GroundTruth, t0: int, days: int, helped: Callable[[str, str], bool]
) -> Iterator[Burst]:
    """Yields the user's bursts in order, across all their sessions."""
    script = UserScript(user, rng, truth)
    episode_rate = {"steady": 0.0, "struggler": 0.9, "churner": 1.1}[user.persona]
    video_completion = (0.1, 0.45) if user.churner else (0.6, 1.0)
    pending: list[str] = []  # features the user left struggling with, retried next session
    full = session_starts(user, rng, t0, days)
    checkins = checkin_starts(user, t0, days, full)
    glance = UserScript(user, random.Random(f"glance|{user.userId}"), truth)
    for start in sorted([*full, *checkins]):
        if start in checkins:
            glance.t = start
            yield Burst([glance.session_start()[0], *glance.session_end()], glance.rng.uniform(0.3, 1.0))
            continue
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
    languages = random.Random(seed + 1)  # its own stream: the rest of the population is as it was
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
                lang=languages.choices(LANGUAGES, LANGUAGE_WEIGHTS)[0],
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
