"""The words events are written in: event types, actions and target types, each with its canonical
spelling and the platform spellings that mean the same (docs/events.md lists them all).

Apps spell the same thing many ways (``click`` on the web, ``tap`` on phones, ``UISwitch`` on iOS,
``SwitchCompat`` on Android, ``input[type=checkbox]`` in a page). Every spelling is folded once, when
an event is read, to one canonical word, so the rules compare canonical words only. A word the
vocabulary does not know is kept as written (lower-cased) and reported (:func:`unknown_terms`), never
silently ignored: it tells the team which spellings to add (``JOURNEY_VOCABULARY__*``) or fix.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# --- event types ------------------------------------------------------------------------------------
EVENT_TYPE_SYNONYMS: dict[str, str] = {
    "pageview": "page_view",
    "page": "page_view",
    "screenview": "screen_view",
    "screen": "screen_view",
    "video": "video_engagement",
    "videoengagement": "video_engagement",
    "interaction": "feature_interaction",
    "featureinteraction": "feature_interaction",
    "struggle": "struggle_signal",
    "strugglesignal": "struggle_signal",
    "exception": "error",
    "apperror": "error",
    "helprequest": "help_request",
    "lifecycle": "app_lifecycle",
    "applifecycle": "app_lifecycle",
    "searchquery": "search",
}

# --- actions ----------------------------------------------------------------------------------------
# canonical action -> its other spellings (compared after :func:`fold`: lower case, separators removed)
ACTIONS: dict[str, tuple[str, ...]] = {
    # presses
    "tap": ("tapped", "touch", "touchup", "press", "pressed", "singletap", "onpress", "ontap", "buttontap", "buttonpress"),
    "click": ("clicked", "mouseclick", "onclick", "leftclick"),
    "double_tap": ("doubletap", "doubleclick", "dblclick"),
    "long_press": ("longpress", "longclick", "hold"),
    "swipe": ("swiped", "fling"),
    "scroll": ("scrolled",),
    "type": ("input", "typing", "textinput", "keypress"),
    "select": ("selected", "choose", "chosen", "pick"),
    # flows
    "start": ("started", "begin", "began", "beginflow", "flowstart", "flowstarted", "begincheckout", "signupstart"),
    "step": ("nextstep", "stepcomplete", "stepcompleted", "checkoutprogress", "addshippinginfo", "addpaymentinfo"),
    "submit": ("submitted", "formsubmit", "submitform", "send"),
    "complete": (
        "completed",
        "success",
        "succeeded",
        "submitsuccess",
        "finish",
        "finished",
        "flowcomplete",
        "flowcompleted",
        "purchase",
        "loginsuccess",
        "paymentsuccess",
        # a video played to its end (journey.video)
        "videocomplete",
        "videocompleted",
        "playbackcomplete",
        "playbackcompleted",
        "videoend",
        "videoended",
    ),
    "cancel": ("cancelled", "canceled", "abort", "aborted", "flowcancel"),
    "fail": ("failed", "failure", "submitfailed", "submitfailure", "rejected"),
    "retry": ("retried", "tryagain"),
    # lifecycle
    "session_start": ("sessionstart", "appopen", "openapp", "appstart"),
    "launch": ("relaunch", "coldstart", "applaunch", "launched", "firstopen", "oncreate"),
    "foreground": (
        "appforeground",
        "enterforeground",
        "willenterforeground",
        "didbecomeactive",
        "scenewillenterforeground",
        "onstart",
        "active",
        "visible",
        "visibilityvisible",
        "pageshow",
    ),
    "background": (
        "appbackground",
        "enterbackground",
        "didenterbackground",
        "scenedidenterbackground",
        "onstop",
        "hidden",
        "visibilityhidden",
        "pagehide",
    ),
    "session_end": ("sessionend", "endsession", "ondestroy"),
    "terminate": ("terminated", "appclose", "quit", "unload", "beforeunload", "willterminate"),
    "crash": ("crashed", "appcrash", "fatal", "fatalerror", "fatalexception", "anr", "appnotresponding", "forceclose"),
    # video (journey.video reads them on video_engagement events: docs/video.md)
    "play": ("played", "playing", "onplay", "videoplay", "videostart", "playbackstart", "playbackstarted", "startplayback"),
    "pause": (
        "paused",
        "onpause",
        "willresignactive",
        "inactive",
        "videopause",
        "playbackpaused",
    ),  # a video paused; an app paused (Android onPause) when the event is a lifecycle one
    "resume": ("resumed", "onresume", "unpause", "videoresume", "playbackresumed"),
    "seek": ("seeked", "seeking", "scrub", "scrubbed", "scrubbing", "videoseek", "seekstart", "seekstarted", "seekcompleted"),
    "skip": ("skipped", "skipforward", "skipahead", "fastforward", "seekforward", "jumpforward"),
    "replay": ("replayed", "rewatch", "rewatched", "watchagain", "rewind", "skipback", "skipbackward", "seekback", "jumpback"),
    "progress": ("videoprogress", "timeupdate", "playbackprogress"),
    "speed_change": ("speedchange", "playbackrate", "ratechange", "playbackspeed", "speedchanged", "ratechanged", "setspeed"),
    "stop": ("stopped", "videostop", "playbackstopped", "videoexit", "closeplayer", "playerclosed"),
    # other common ones, known so they are not reported
    "view": ("viewed", "open", "opened", "show", "shown"),
    "dismiss": ("dismissed",),
    "like": ("liked", "unlike", "favorite", "favourite"),
    "share": ("shared",),
    "add_to_cart": ("addtocart", "addtobasket"),
    "remove": ("removed", "delete", "deleted"),
    "save": ("saved", "bookmark"),
    "refresh": ("pulltorefresh", "reload"),
    "load": ("loaded", "loadmore"),
    "back": ("goback", "navigateback"),
    "toggle": ("switch", "switched", "check", "uncheck"),
    "open_chat": ("openchat", "chat", "livechat"),
    "contact_support": ("contactsupport", "contactus", "callsupport"),
    "engagement": ("userengagement",),
}
PRESSES = frozenset({"tap", "click"})  # presses counted by the rage rule (a double tap or long press is a gesture of its own)
SUCCESSES = frozenset({"complete"})  # a flow (or a feature's task) done
# on app_lifecycle events: the user left the app, the tab or the session; the user is back
LEAVES = frozenset({"background", "pause", "session_end", "terminate"})
RETURNS = frozenset({"foreground", "resume", "session_start", "launch"})
CRASHES = frozenset({"crash"})

# --- target types -----------------------------------------------------------------------------------
TARGET_TYPES: dict[str, tuple[str, ...]] = {
    "button": (
        "btn",
        "imagebutton",
        "materialbutton",
        "appcompatbutton",
        "appcompatimagebutton",
        "floatingactionbutton",
        "fab",
        "cta",
        "iconbutton",
        "barbuttonitem",
        "pressable",
        "touchableopacity",
        "touchablehighlight",
        "elevatedbutton",
        "textbutton",
        "outlinedbutton",
        "inputsubmit",
        "inputbutton",
    ),
    "link": ("a", "anchor", "hyperlink", "navlink"),
    "toggle": ("switch", "switchcompat", "switchmaterial", "materialswitch", "togglebutton"),
    "checkbox": ("checkbox", "appcompatcheckbox", "materialcheckbox", "checkmark", "inputcheckbox"),
    "radio": ("radiobutton", "inputradio"),
    "stepper": ("numberpicker", "quantitystepper", "spinbutton", "inputnumber"),
    "slider": ("seekbar", "appcompatseekbar", "range", "rangeslider", "inputrange"),
    "carousel": (
        "viewpager",
        "viewpager2",
        "horizontalpager",
        "pageviewcontroller",
        "pagecontrol",
        "swiper",
        "slideshow",
        "gallery",
    ),
    "tab": (
        "tabbar",
        "tabbaritem",
        "bottomnavigationbaritem",
        "tabbarbutton",
        "tablayout",
        "tabitem",
        "bottomnavigationview",
        "bottomnavigationitemview",
        "bottomnav",
        "navigationbaritem",
        "navigationbaritemview",
        "navigationrailitem",
        "segmentedcontrol",
    ),
    "keyboard": ("keypad", "key", "numpad", "pinpad", "keyboardkey", "dialpad"),
    "text_field": (
        "outlinedtextfield",
        "textinputedittext",
        "textinputlayout",
        "textformfield",
        "textfield",
        "edittext",
        "textinput",
        "textarea",
        "inputtext",
        "inputemail",
        "inputpassword",
        "inputsearch",
        "inputtel",
    ),
    "input": (),  # an HTML input whose type is not given: a text box or a submit button
    "text_selection": ("selection", "textselection", "selectabletext"),
    "video_control": ("videocontrol", "playercontrol", "mediacontrol", "playbackcontrol"),
    "image": ("imageview", "img", "picture", "photo"),
    "map": ("mapview", "mkmapview", "googlemap"),
    "map_marker": ("marker", "mkannotationview", "annotation", "mapannotation", "mappin"),
    "list_item": (
        "listitem",
        "listtile",
        "cell",
        "tableviewcell",
        "collectionviewcell",
        "row",
        "recyclerview",
        "lazycolumn",
        "li",
        "td",
    ),
    "dropdown": ("select", "spinner", "picker", "menu"),
    "icon": ("svg",),
    "label": ("textview", "span", "text", "div", "p"),
    "card": (),
    "story": ("stories", "storyview"),
}
# Which of these are pressed again and again on purpose (steppers, toggles, carousels, keyboards...)
# is a detection setting: JOURNEY_DETECTION__RAGE_TAP_EXCLUDED_TARGETS.

_PLATFORM_PREFIX = re.compile(
    r"^(?:[a-z][\w]*\.)+(?=[A-Z])"
)  # a Java/Kotlin package: android.widget., com.google.android.gms.maps.
_INPUT_TYPE = re.compile(r"^input\[type=['\"]?(\w+)['\"]?\]$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def fold(word: str) -> str:
    """A spelling's comparison form: accents, case and separators removed (``Switch-Compat`` → ``switchcompat``)."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed.lower() if c.isalnum())


def _index(words: dict[str, tuple[str, ...]]) -> dict[str, str]:
    index = {}
    for canonical, synonyms in words.items():
        for spelling in (canonical, *synonyms):
            index[fold(spelling)] = canonical
    return index


_ACTION_INDEX = _index(ACTIONS)
_TARGET_INDEX = _index(TARGET_TYPES)
_EVENT_TYPE_INDEX = {**{fold(k): v for k, v in EVENT_TYPE_SYNONYMS.items()}}
KNOWN_ACTIONS = frozenset(ACTIONS)
KNOWN_TARGET_TYPES = frozenset(TARGET_TYPES)


def snake(word: str) -> str:
    """The written form of an unknown word: ``SomeThing Else`` → ``some_thing_else``."""
    spaced = _CAMEL.sub("_", word.strip())
    return "_".join(part for part in re.split(r"[^0-9a-zA-Z]+", spaced.lower()) if part)[:64]


@lru_cache(maxsize=4096)
def canonical_action(word: str) -> str:
    """``Click`` → ``click``, ``TouchUp`` → ``tap``, ``app_background`` → ``background``; unknown: snake case."""
    return _ACTION_INDEX.get(fold(word)) or snake(word) or word


@lru_cache(maxsize=4096)
def canonical_target_type(word: str) -> str:
    """``UISwitch`` / ``SwitchCompat`` / ``input[type=checkbox]`` → ``toggle`` / ``toggle`` / ``checkbox``."""
    raw = word.strip()
    match = _INPUT_TYPE.match(raw.lower())
    if match:
        raw = "input" + match.group(1)
    raw = _PLATFORM_PREFIX.sub("", raw)
    key = fold(raw)
    found = _TARGET_INDEX.get(key)
    if found is None and key.startswith("ui") and len(key) > 2:
        found = _TARGET_INDEX.get(key[2:])  # UIKit: UISwitch, UIStepper, UISlider, UIButton
    if found is None and key.startswith("mdc"):
        found = _TARGET_INDEX.get(key[3:])
    return found or snake(raw) or word


@lru_cache(maxsize=256)
def canonical_event_type(word: str) -> str:
    """``screenView`` / ``Screen_View`` → ``screen_view``; an unknown type is returned as written."""
    canonical = snake(word)
    return _EVENT_TYPE_INDEX.get(fold(word), canonical)


def unknown_terms(action: str | None, target_type: str | None) -> tuple[tuple[str, str], ...]:
    """The words of an event the vocabulary does not know, as (field, word) pairs."""
    found: tuple[tuple[str, str], ...] = ()
    if action is not None and action not in KNOWN_ACTIONS:
        found += (("action", action),)
    if target_type is not None and target_type not in KNOWN_TARGET_TYPES:
        found += (("targetType", target_type),)
    return found
