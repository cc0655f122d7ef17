"""The people in the suite: where they live, what phone or browser they use, and how their app's
analytics SDK spells things (each app is consistent with itself; apps differ from each other)."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .apps import APP_KINDS

START_MS = int(datetime(2026, 11, 2, 8, 0, tzinfo=UTC).timestamp() * 1000)  # the first event
DAY0_MS = int(datetime(2026, 11, 2, tzinfo=UTC).timestamp() * 1000)
DAYS = 5
PLATFORMS = ("iOS", "Android", "Web")
LANGUAGES = ("en", "es", "de", "fr", "pt")

# (IANA zone, its UTC offset in minutes in the first week of November 2026, language, weight)
PLACES = (
    ("Europe/London", 0, "en", 6),
    ("Europe/Dublin", 0, "en", 2),
    ("America/New_York", -300, "en", 7),
    ("America/Chicago", -360, "en", 4),
    ("America/Los_Angeles", -480, "en", 4),
    ("Australia/Sydney", 660, "en", 2),
    ("Asia/Singapore", 480, "en", 2),
    ("Europe/Madrid", 60, "es", 5),
    ("America/Mexico_City", -360, "es", 5),
    ("America/Bogota", -300, "es", 3),
    ("America/Argentina/Buenos_Aires", -180, "es", 2),
    ("Europe/Berlin", 60, "de", 8),
    ("Europe/Vienna", 60, "de", 3),
    ("Europe/Zurich", 60, "de", 2),
    ("Europe/Paris", 60, "fr", 8),
    ("Europe/Brussels", 60, "fr", 3),
    ("America/Toronto", -300, "fr", 2),
    ("America/Sao_Paulo", -180, "pt", 9),
    ("Europe/Lisbon", 0, "pt", 4),
)

# How each SDK names the kind of control that was pressed.
_KINDS = (
    "button",
    "link",
    "tab",
    "cell",
    "toggle",
    "stepper",
    "carousel",
    "image",
    "label",
    "input",
    "keypad",
    "video_control",
    "text",
    "story",
    "heart",
)
CONTROL_KINDS: dict[str, dict[str, tuple[str, ...]]] = {
    "iOS": {
        "uikit": (
            "UIButton",
            "UIButton",
            "UITabBarButton",
            "UICollectionViewCell",
            "UISwitch",
            "UIStepper",
            "UIPageControl",
            "UIImageView",
            "UILabel",
            "UITextField",
            "keypad",
            "video_control",
            "UITextView",
            "StoryView",
            "UIButton",
        ),
        "swiftui": (
            "button",
            "link",
            "tab",
            "cell",
            "toggle",
            "stepper",
            "carousel",
            "image",
            "label",
            "textfield",
            "keypad",
            "video_control",
            "text",
            "story",
            "button",
        ),
    },
    "Android": {
        "views": (
            "android.widget.Button",
            "android.widget.TextView",
            "BottomNavigationItemView",
            "androidx.recyclerview.widget.RecyclerView",
            "SwitchCompat",
            "android.widget.ImageButton",
            "ViewPager",
            "android.widget.ImageView",
            "android.widget.TextView",
            "android.widget.EditText",
            "keyboard",
            "video_control",
            "android.widget.TextView",
            "StoryView",
            "android.widget.ImageButton",
        ),
        "compose": (
            "Button",
            "TextButton",
            "NavigationBarItem",
            "Card",
            "Switch",
            "IconButton",
            "HorizontalPager",
            "Image",
            "Text",
            "TextField",
            "keypad",
            "video_control",
            "Text",
            "story",
            "IconButton",
        ),
    },
    "Web": {
        "semantic": (
            "button",
            "link",
            "tab",
            "link",
            "toggle",
            "button",
            "carousel",
            "image",
            "text",
            "input",
            "keypad",
            "video_control",
            "text",
            "story",
            "button",
        ),
        "css": (
            "button",
            "a",
            "a",
            "a",
            "input[type=checkbox]",
            "button",
            "carousel",
            "img",
            "span",
            "input",
            "keyboard",
            "video_control",
            "p",
            "div",
            "button",
        ),
        "tags": (
            "BUTTON",
            "A",
            "A",
            "A",
            "INPUT",
            "BUTTON",
            "BUTTON",
            "IMG",
            "SPAN",
            "INPUT",
            "BUTTON",
            "BUTTON",
            "P",
            "DIV",
            "BUTTON",
        ),
    },
}

DEVICES = {
    "iOS": ("iPhone15,2", "iPhone14,5", "iPhone16,1", "iPhone13,2", "iPhone15,4", "iPhone12,8", "iPhone17,3"),
    "Android": ("Pixel 7", "Pixel 8a", "SM-S911B", "SM-A546B", "moto g54 5G", "CPH2451", "2201117TY", "SM-G991B"),
    "mouse": (
        "Chrome 130 / Windows 11",
        "Safari 18.1 / macOS 15",
        "Firefox 132 / Windows 10",
        "Edge 130 / Windows 11",
        "Chrome 130 / macOS 14",
    ),
    "touch": ("Mobile Safari 18 / iPhone", "Chrome 130 / Android 14", "Samsung Internet 26 / Android 14"),
}
APP_VERSIONS = {"shop": "8.14.0", "media": "5.3.2", "social": "312.0.1", "travel": "24.44.0", "fintech": "3.91.2"}
SEGMENTS = ("new_user", "active_user", "returning_user", "power_user")
SCREENS = {
    "width": {"iOS": 393, "Android": 412, "touch": 390, "mouse": 1280},
    "height": {"iOS": 852, "Android": 915, "touch": 844, "mouse": 760},
}


def pascal(key: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in key.split("_"))


@dataclass
class Person:
    user_id: str
    platform: str
    app: str
    tz: str
    offset_min: int
    lang: str
    pointer: str  # "touch" or "mouse" (mobile is always touch)
    sdk: str  # which CONTROL_KINDS spelling, or "none": the app never sends targetType
    naming: str  # how screens are named: "Screen", "ViewController", "Fragment" suffixes, or "snake"
    ids: str  # how control ids are spelled: "snake", "camel", "kebab", "btn"
    press_action: str  # "tap", "click", "Click"
    sends_attempts: bool  # the app puts attemptCount on submits
    item_ids: bool  # mobile screen views carry the item shown
    web_session_start: bool  # the web SDK sends session_start
    web_close: str  # what a closing web tab sends: "nothing", "pagehide", "background"
    segment: str
    device_info: dict[str, str] = field(default_factory=dict)

    @property
    def web(self) -> bool:
        return self.platform == "Web"

    @property
    def touch(self) -> bool:
        return self.pointer == "touch"

    @property
    def viewport(self) -> tuple[int, int]:
        key = self.platform if not self.web else self.pointer
        return SCREENS["width"][key], SCREENS["height"][key]

    def kind_name(self, kind: str) -> str | None:
        if self.sdk == "none":
            return None
        return CONTROL_KINDS[self.platform][self.sdk][_KINDS.index(kind)]

    def control_id(self, name: str, kind: str = "button") -> str:
        if self.ids == "camel":
            first, *rest = name.split("_")
            return first + "".join(p[:1].upper() + p[1:] for p in rest)
        if self.ids == "kebab":
            return name.replace("_", "-")
        if self.ids == "btn" and kind == "button":
            return "btn_" + name
        return name

    def screen_name(self, key: str, web_paths: dict[str, str], item: str | None = None) -> str:
        if self.web:
            path = web_paths.get(key, "/" + key.replace("_", "-"))
            if "{item}" in path:
                path = path.replace("{item}", slug(item or "featured"))
            return path if self.lang == "en" else f"/{self.lang}{path}"
        if self.naming == "snake":
            return key
        return pascal(key) + self.naming


def slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-").replace("--", "-")


def stable_fraction(*parts: str) -> float:
    """A number in [0, 1) that depends only on its arguments (where a control sits on a screen)."""
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return int.from_bytes(digest[:6], "big") / 2**48


def cast_people(count: int, seed: int) -> list[Person]:
    """Everyone in the suite: a third on each platform, a fifth on each app kind, shuffled."""
    rng = random.Random(f"{seed}:cast")
    combos = [(PLATFORMS[i % 3], APP_KINDS[(i // 3) % 5]) for i in range(count)]
    rng.shuffle(combos)
    weights = [p[3] for p in PLACES]
    people = []
    for n, (platform, app) in enumerate(combos, 1):
        tz, offset, lang, _ = rng.choices(PLACES, weights)[0]
        pointer = "touch" if platform != "Web" or rng.random() < 0.3 else "mouse"
        sdk = "none" if rng.random() < 0.08 else rng.choice(tuple(CONTROL_KINDS[platform]))
        if platform == "iOS":
            naming = rng.choices(("Screen", "ViewController", "snake"), (5, 2, 3))[0]
            press = "tap"
        elif platform == "Android":
            naming = rng.choices(("snake", "Fragment", "Screen"), (5, 3, 2))[0]
            press = "click" if rng.random() < 0.1 else "tap"
        else:
            naming = "path"
            press = rng.choice(("tap", "click")) if pointer == "touch" else rng.choices(("click", "Click"), (8, 2))[0]
        person = Person(
            user_id=f"fu-{n:04d}-{rng.getrandbits(24):06x}",
            platform=platform,
            app=app,
            tz=tz,
            offset_min=offset,
            lang=lang,
            pointer=pointer,
            sdk=sdk,
            naming=naming,
            ids=rng.choices(("snake", "camel", "kebab", "btn"), (5, 3, 1 if platform == "Web" else 0, 1))[0],
            press_action=press,
            sends_attempts=rng.random() < 0.3,
            item_ids=rng.random() < 0.5,
            web_session_start=rng.random() < 0.6,
            web_close=rng.choices(("nothing", "pagehide", "background"), (4, 3, 3))[0],
            segment=rng.choice(SEGMENTS),
        )
        model = rng.choice(DEVICES[platform if platform != "Web" else pointer])
        version = APP_VERSIONS[app] if platform != "Web" else f"web-2026.10.{rng.randint(20, 30)}"
        person.device_info = {"platform": platform, "appVersion": version, "deviceModel": model, "timezone": tz}
        people.append(person)
    return people
