"""Episodes in which the person IS struggling, each told from their side of the screen.

Every story gets the person to the place where it happens (context, not marked), marks the events a
researcher would point at (u.begin() .. u.end()), lets the person carry on, and returns one sentence
saying what the researcher saw."""

from __future__ import annotations

from .apps import ABANDONABLE, HELP_QUERIES, Button, Flow
from .casebook import MOBILE, Variant, episode
from .device import Device
from .moves import arrive, elsewhere, failing_flow, finish, go, reach, relaunch, step, submit, succeed, walk

# --- helpers ------------------------------------------------------------------------------------


def _after_dead_button(u: Device, button: Button, flow: Flow | None) -> str:
    """What happens after a button ignored the person: it responds late, they reload, or they give up."""
    if flow is None:
        if u.chance(0.5):
            u.wait(2, 6)
            elsewhere(u)
            return ", and they give up on it"
        u.wait(4, 10)
        u.press(button.target, "button", feature=button.feature)
        if button.opens:
            u.wait_ms(300, 900)
            u.view(button.opens, feature=button.feature)
        return ", until a single press a few seconds later finally works"
    if u.chance(0.5):
        u.wait_ms(1500, 6000)
        finish(u, flow, button.screen, pressed=button.target == flow.submit)
        return ", then the app catches up several seconds later"
    u.wait(3, 9)
    u.view(button.screen, feature=flow.feature)  # reload / back-and-in again
    u.wait(3, 10)
    finish(u, flow, button.screen, pressed=False)
    return "; they reload the screen and try again"


def _attempts(u: Device, flow: Flow, n: int, error: str, *, counted: bool, start: int = 1) -> None:
    """n submissions in a row, each refused; between them the person re-reads and re-types."""
    for i in range(n):
        if i:
            u.wait(4, 14)
            u.press(flow.field, "input", feature=flow.feature)
            u.wait(4, 15)
        number = start + i if counted else None
        submit(u, flow, number, press=u.chance(0.7))
        u.wait_ms(600, 3000)
        u.fail(flow.feature, error, attemptCount=number if counted and u.chance(0.4) else None)


def _leave(u: Device, *, web_quietly: bool = False) -> None:
    """The person leaves the app: mobile to the background, a web tab is hidden or closed."""
    if u.p.web:
        if web_quietly:
            if u.chance(0.3):
                u.life("pagehide")
            return
        u.life(u.pick(("background", "session_end")))
        return
    u.life("background")
    if u.chance(0.35):
        u.wait_ms(200, 2000)
        u.life(u.pick(("session_end", "terminate")))


def _spelled(u: Device, n: int) -> str:
    return f"{n} times" if n > 2 else "twice"


# --- rage_tap -----------------------------------------------------------------------------------


@episode(
    "web_clicks", "positive", "rage_tap", 16, platforms=("Web",), who=lambda p: p.pointer == "mouse" and p.press_action == "click"
)
def web_clicks(u: Device, variant: str) -> str:
    button = u.pick(u.app.buttons)
    flow = reach(u, button)
    u.wait(2, 8)
    u.begin()
    n = u.rng.randint(4, 6)
    secs = u.burst(button.target, "button", n, (150, 380), spread="mouse", feature=button.feature)
    u.end()
    outcome = _after_dead_button(u, button, flow)
    return f"Clicks '{button.label}' {n} times in {secs:.1f} s in one spot; nothing happens{outcome}."


@episode("touch_spread", "positive", "rage_tap", 18, who=lambda p: p.touch)
def touch_spread(u: Device, variant: str) -> str:
    button = u.pick(u.app.buttons)
    flow = reach(u, button)
    u.wait(2, 8)
    u.begin()
    n = u.rng.randint(3, 5)
    secs = u.burst(button.target, "button", n, (180, 360), spread="touch", feature=button.feature)
    u.end()
    outcome = _after_dead_button(u, button, flow)
    return (
        f"Jabs '{button.label}' {n} times in {secs:.1f} s, the finger landing 20-50 px apart; the button does not react{outcome}."
    )


@episode("dead_element_taps", "positive", "rage_tap", 12)
def dead_element_taps(u: Device, variant: str) -> str:
    decoy = u.pick(u.app.decoys)
    arrive(u, decoy.screen, feature=u.app.browse_feature)
    u.wait(3, 15)
    u.begin()
    n = u.rng.randint(3, 5)
    secs = u.burst(decoy.target, decoy.kind, n, (200, 450), feature=u.app.browse_feature)
    u.end()
    u.wait(2, 8)
    elsewhere(u)
    return f"Taps {decoy.looks_like}, {n} times in {secs:.1f} s; it is not a control and nothing happens."


@episode("untyped_taps", "positive", "rage_tap", 12)
def untyped_taps(u: Device, variant: str) -> str:
    button = u.pick(u.app.buttons)
    flow = reach(u, button)
    u.wait(2, 8)
    u.begin()
    n = u.rng.randint(4, 6) if not u.p.touch else u.rng.randint(3, 5)
    secs = u.burst(button.target, "button", n, (170, 380), feature=button.feature, target_type=None)
    u.end()
    outcome = _after_dead_button(u, button, flow)
    return f"Presses '{button.label}' {n} times in {secs:.1f} s (the app sends no targetType); nothing happens{outcome}."


@episode("odd_spelling_taps", "positive", "rage_tap", 12)
def odd_spelling_taps(u: Device, variant: str) -> str:
    button = u.pick(u.app.buttons)
    flow = reach(u, button)
    u.wait(2, 8)
    action = u.pick(("Click", "CLICK") if u.p.web and not u.p.touch else ("Tap", "TAP"))
    kind = u.pick(
        {
            "iOS": ("Button", "BUTTON", "uibutton"),
            "Android": ("Button", "BUTTON", "android.widget.button"),
            "Web": ("Button", "BUTTON"),
        }[u.p.platform]
    )
    u.begin()
    n = u.rng.randint(4, 6) if not u.p.touch else u.rng.randint(3, 5)
    secs = u.burst(button.target, "button", n, (170, 380), feature=button.feature, action=action, target_type=kind)
    u.end()
    outcome = _after_dead_button(u, button, flow)
    return f"Presses '{button.label}' {n} times in {secs:.1f} s (sent as action '{action}', targetType '{kind}'); nothing happens{outcome}."


# --- repeated_attempts --------------------------------------------------------------------------


@episode("failed_attempts", "positive", "repeated_attempts", 30)
def failed_attempts(u: Device, variant: str) -> str:
    flow = failing_flow(u)
    walk(u, flow, dwell=(5, 25))
    u.wait(3, 12)
    error = u.pick(flow.errors)
    n = u.rng.randint(3, 5)
    u.begin()
    _attempts(u, flow, n, error, counted=False)
    if u.chance(0.4):
        u.wait(8, 25)
        u.press(flow.field, "input", feature=flow.feature)
        u.wait(5, 15)
        submit(u, flow)
        succeed(u, flow)
        u.end()
        return f"{flow.feature}: submits {n} times and gets '{error}' every time, then finally gets through."
    u.end()
    u.wait(3, 10)
    if flow.feature != "login":
        u.flow(flow.feature, "cancel")
    elsewhere(u)
    return f"{flow.feature}: submits {n} times and gets '{error}' every time, then gives up."


@episode("counted_attempts", "positive", "repeated_attempts", 18)
def counted_attempts(u: Device, variant: str) -> str:
    flow = failing_flow(u)
    walk(u, flow, dwell=(5, 25))
    u.wait(3, 12)
    error = u.pick(flow.errors)
    n = u.rng.randint(3, 5)
    u.begin()
    _attempts(u, flow, n, error, counted=True)
    if u.chance(0.4):
        u.wait(8, 25)
        submit(u, flow, n + 1)
        succeed(u, flow)
        u.end()
        return f"{flow.feature}: the app counts attempts 1 to {n}, each refused with '{error}'; attempt {n + 1} works."
    u.end()
    u.wait(3, 10)
    elsewhere(u)
    return f"{flow.feature}: the app counts attempts 1 to {n}, each refused with '{error}'; the person stops trying."


@episode("failed_twice_gave_up", "positive", "repeated_attempts", 14)
def failed_twice_gave_up(u: Device, variant: str) -> str:
    flow = failing_flow(u)
    walk(u, flow, dwell=(5, 25))
    u.wait(3, 12)
    error = u.pick(flow.errors)
    u.begin()
    _attempts(u, flow, 2, error, counted=u.p.sends_attempts)
    u.wait(5, 15)
    if flow.feature != "login":
        u.flow(flow.feature, "cancel")
    else:
        u.press("continue_as_guest" if u.app.kind != "fintech" else "close", "button", feature="login")
    u.end()
    u.wait_ms(300, 900)
    u.view(u.app.home)
    u.wait(10, 40)
    return f"{flow.feature}: refused twice with '{error}', then the person gives up on it and goes back to the start."


# --- error_pattern ------------------------------------------------------------------------------

_DOING = {
    "shop": ("open_gallery", "product photos"),
    "media": ("play", "playback"),
    "social": ("upload_photo", "compose"),
    "travel": ("open_map", "map"),
    "fintech": ("download_statement", "statements"),
}


@episode(
    "crashes",
    "positive",
    "error_pattern",
    30,
    variants=(
        Variant("lifecycle_crash", MOBILE, share=2),
        Variant("error_crash", share=2),
        Variant("fatal_exception", ("Android",)),
        Variant("app_not_responding", ("Android",)),
        Variant("white_screen", ("Web",)),
    ),
)
def crashes(u: Device, variant: str) -> str:
    control, feature = _DOING[u.app.kind]
    item = u.pick(u.app.items)
    arrive(u, u.app.detail, item=item, feature=u.app.browse_feature)
    u.wait(5, 25)
    u.press(control, "button", feature=feature)
    u.wait_ms(200, 2500)
    u.begin()
    times = 2 if u.chance(0.3) else 1
    for i in range(times):
        if i:
            u.wait(10, 40)
            arrive(u, u.app.detail, item=item, feature=u.app.browse_feature)
            u.wait(3, 10)
            u.press(control, "button", feature=feature)
            u.wait_ms(200, 2500)
        _crash(u, variant, feature)
        if variant == "white_screen" or (u.p.web and variant == "error_crash"):
            u.wait(4, 15)
            if u.chance(0.5):
                u.life("session_start")
            u.view(u.app.detail, item=item)  # the reload
        else:
            u.wait(5, 40)
            relaunch(u)
    u.end()
    u.wait(5, 20)
    how = {
        "lifecycle_crash": "crashes",
        "error_crash": "crashes",
        "fatal_exception": "dies with a fatal exception",
        "app_not_responding": "freezes until Android offers to close it",
        "white_screen": "goes blank (white screen)",
    }[variant]
    return f"The app {how} when they press '{control}'{' — twice in a row' if times == 2 else ''}; they reopen it and carry on."


def _crash(u: Device, variant: str, feature: str) -> None:
    if variant == "lifecycle_crash":
        u.life("crash")
    elif variant == "app_not_responding":
        u.wait(2, 4)
        u.press("screen", "image", feature=feature, target_type=None)  # a tap on the frozen screen
        u.wait(3, 6)
        u.fail(feature, "app_not_responding")
        u.wait(1, 4)
        u.life("terminate")
    elif variant == "white_screen":
        u.fail(feature, "white_screen", fatal=True)
    else:
        u.fail(feature, "crash" if variant == "error_crash" else "fatal_exception", fatal=True)


@episode("repeated_errors", "positive", "error_pattern", 18)
def repeated_errors(u: Device, variant: str) -> str:
    fault = u.pick(u.app.faults)
    arrive(u, fault.screen, feature=fault.feature)
    u.wait_ms(600, 3000)
    u.begin()
    n = u.rng.randint(3, 4)
    for i in range(n):
        if i:
            u.wait(3, 9)
            u.press("retry" if u.chance(0.6) else "pull_to_refresh", "button", feature=fault.feature)
        u.wait_ms(800, 5000)
        u.fail(fault.feature, fault.error)
    secs = (u.t - u.events[u.episode_first or 0]["timestamp"]) / 1000
    if u.chance(0.5):
        u.wait(4, 10)
        u.press("retry", "button", feature=fault.feature)
        u.wait_ms(800, 3000)
        u.view(fault.screen, feature=fault.feature)
        u.end()
        return f"{fault.what} fails with '{fault.error}' {n} times in {secs:.0f} s while they keep retrying; then it loads."
    u.end()
    u.wait(3, 10)
    elsewhere(u, avoid=(fault.screen,))
    return f"{fault.what} fails with '{fault.error}' {n} times in {secs:.0f} s while they keep retrying; they give up on it."


@episode("error_then_exit", "positive", "error_pattern", 16, ends="session")
def error_then_exit(u: Device, variant: str) -> str:
    fault = u.pick(u.app.faults)
    arrive(u, fault.screen, feature=fault.feature)
    u.wait(3, 20)
    if u.chance(0.5):
        u.press("pull_to_refresh" if not u.p.web else "reload", "button", feature=fault.feature)
        u.wait_ms(500, 4000)
    u.begin()
    u.fail(fault.feature, fault.error)
    u.wait(2, 9)
    before = u.t
    _leave(u, web_quietly=u.p.web and u.chance(0.4))
    u.end()
    return f"{fault.what} fails with '{fault.error}' and they leave the app about {(before - u.events[u.episode_first or 0]['timestamp']) / 1000:.0f} s later."


# --- abandonment --------------------------------------------------------------------------------


def _walk_then_stop(u: Device) -> tuple[Flow, str]:
    flow = u.app.flows[u.pick(n for n in u.app.flows if n in ABANDONABLE)]
    arrive(u, flow.screens[0], feature=flow.feature)
    u.wait(2, 10)
    u.begin()
    u.flow(flow.feature, "start")
    upto = u.rng.randint(1, len(flow.screens) - 1) if len(flow.screens) > 1 else 0
    for i in range(1, upto + 1):
        u.wait(6, 40)
        step(u, flow, i)
    u.wait(10, 90)  # reads the screen (the price, the form, the document list) ...
    return flow, flow.screens[upto]


@episode("abandoned_flows", "positive", "abandonment", 36, ends="day")
def abandoned_flows(u: Device, variant: str) -> str:
    flow, reached = _walk_then_stop(u)
    _leave(u)
    u.end()
    return f"Starts {flow.feature}, gets as far as {reached}, then leaves the app and does not come back that day."


@episode("tab_closed", "positive", "abandonment", 24, platforms=("Web",), ends="day")
def tab_closed(u: Device, variant: str) -> str:
    flow, reached = _walk_then_stop(u)
    if u.chance(0.3):
        u.life("pagehide")
    u.end()
    return f"Starts {flow.feature} in the browser, reaches {reached}, and closes the tab; nothing more from them for hours."


# --- screen_loop --------------------------------------------------------------------------------


@episode(
    "screen_loops",
    "positive",
    "screen_loop",
    60,
    variants=(Variant("ping_pong", share=2), Variant("three_screen_circle"), Variant("slow_circle")),
)
def screen_loops(u: Device, variant: str) -> str:
    if variant == "ping_pong":
        route: tuple[str, ...] = u.pick(u.app.pairs)
        views = u.rng.randint(5, 8)
        gaps = (2.0, min(4.5, 26 / (views - 1)))
    else:
        route = u.pick(u.app.circles)
        views = 3 * (u.rng.randint(2, 3) if variant == "slow_circle" else 2) + (1 if u.chance(0.5) else 0)
        gaps = (5, 15) if variant == "slow_circle" else (2.0, 5.0)
    if u.screen_key in route:
        elsewhere(u, avoid=route)
    u.wait(5, 20)
    u.begin()
    for i in range(views):
        key = route[i % len(route)]
        if i:
            u.wait(*gaps)
            going_back = views > 1 and len(route) == 2 and i % 2 == 0
            if going_back and u.p.platform == "iOS":
                u.press("nav_back", "button")
                u.wait_ms(250, 700)
            elif not going_back and u.chance(0.6):
                u.press(f"open_{key}", "link")
                u.wait_ms(250, 700)
        u.view(key)
    u.end()
    secs = (u.t - u.events[u.episode_first or 0]["timestamp"]) / 1000
    u.wait(3, 12)
    elsewhere(u, avoid=route)
    circuit = " → ".join(route)
    return f"Goes round {circuit} ({views} screen views in {secs:.0f} s) without finding what they are after."


# --- help_seeking -------------------------------------------------------------------------------

# Where a person usually is when a question of each kind comes up.
_TOPIC_CONTEXT = {
    "login": {"*": "login"},
    "order": {"shop": "order_detail", "travel": "trip_detail"},
    "refund": {"shop": "orders", "travel": "trips", "media": "billing", "fintech": "transactions"},
    "cancel": {"media": "subscription", "travel": "manage_booking"},
}


@episode(
    "help_seeking",
    "positive",
    "help_seeking",
    66,
    by_language=True,
    variants=(Variant("help_search"), Variant("help_pages"), Variant("help_request"), Variant("support_chat")),
)
def help_seeking(u: Device, variant: str) -> str:
    topic = u.pick(u.app.help_topics)
    query = u.pick(HELP_QUERIES[u.p.lang][topic])
    places = _TOPIC_CONTEXT.get(topic, {})
    context = places.get(u.app.kind, places.get("*"))
    if context:
        arrive(u, context)
        u.wait(10, 40)
    feature = context or u.app.browse_feature
    u.begin()
    if variant == "help_search":
        in_help = u.chance(0.5)
        if in_help:
            go(u, "help_center", via="help", kind="link", feature="help")
        else:
            arrive(u, "search", feature="search")
        u.wait(2, 8)
        u.press("search_field", "input", feature="help" if in_help else "search")
        u.wait(3, 9)
        u.search(query, feature="help" if in_help else "search")
        u.wait_ms(600, 1500)
        u.view("faq_article", feature="help")
        u.wait(20, 60)
        told = f"Searches '{query}' and reads the help article that comes up"
    elif variant == "help_pages":
        go(u, "help_center", via="help", kind="link", feature="help")
        u.wait(8, 25)
        go(u, "faq_article", via="faq_item", kind="cell", feature="help")
        u.wait(20, 60)
        go(u, "contact_support", via="still_need_help", kind="link", feature="help")
        u.wait(10, 30)
        told = f"Opens the help centre ({u.screen_for('help_center')}), reads an FAQ, then opens the contact page"
    elif variant == "help_request":
        go(u, "help_center", via="help", kind="link", feature="help")
        u.wait(8, 25)
        go(u, "contact_support", via="contact_us", kind="link", feature="help")
        u.wait(5, 20)
        how = u.pick(("contact_support", "call_support", "email_support"))
        u.ask_for_help(how, feature)
        u.wait(10, 30)
        told = f"Goes to the help centre and asks for support ({how})"
    else:
        go(u, "help_center", via="help", kind="link", feature="help")
        u.wait(5, 20)
        u.ask_for_help("open_chat", feature)
        u.wait_ms(400, 1500)
        u.view("support_chat", feature="help")
        for _ in range(u.rng.randint(2, 3)):
            u.wait(15, 60)
            u.press("send_message", "button", feature="support_chat")
        told = "Opens a chat with support and writes to an agent"
    u.end()
    u.wait(10, 30)
    elsewhere(u)
    lang = {"en": "English", "es": "Spanish", "de": "German", "fr": "French", "pt": "Portuguese"}[u.p.lang]
    return f"{told} ({lang}-speaking user; topic: {topic})."
