"""One test per class of the independent field suite's findings (issue "Struggle detection that holds
on real users' data"): what a person watching the session would say, not what a rule happens to do."""

from journey.detection.signals import SignalType
from journey.settings import DetectionSettings
from tests.builders import T0, event, timer
from tests.unit.test_detection import run, types

WEB = {"platform": "Web"}
PHONE = {"platform": "iOS"}


def press(t, target, action="tap", x=100.0, y=200.0, feature="checkout", device=PHONE, **data):
    raw = event(feature=feature, action=action, target=target, x=x, y=y, t=t, **data)
    raw["deviceInfo"] = device
    return raw


def test_web_clicks_count_as_rage():
    clicks = [press(T0 + i * 450, "place_order", action="click", x=300 + i * 3, y=410 - i * 2, device=WEB) for i in range(5)]
    assert SignalType.RAGE_TAP in types(run(*clicks))
    spelled = [press(T0 + i * 450, "place_order", action="Click", device=WEB) for i in range(3)]
    assert types(run(*spelled)) == [SignalType.RAGE_TAP]


def test_touch_spread_on_one_button_is_rage():
    taps = [press(T0, "pay"), press(T0 + 500, "pay", x=141), press(T0 + 1100, "pay", x=141, y=225)]  # 41 px, then 25 px
    assert types(run(*taps)) == [SignalType.RAGE_TAP]
    # with no target id, a finger's spread is judged by the touch radius, a mouse's by the mouse radius
    no_id = [press(T0 + i * 400, None, x=100 + i * 40) for i in range(3)]
    assert types(run(*no_id)) == [SignalType.RAGE_TAP]
    assert run(*[press(T0 + i * 400, None, x=100 + i * 40, device=WEB) for i in range(3)]) == []


def test_legit_repeated_presses_are_not_rage():
    def burst(target, target_type=None, n=7, **data):
        return [press(T0 + i * 300, target, targetType=target_type, **data) for i in range(n)]

    for target, target_type in [
        ("carousel_next", "carousel"),
        ("next_arrow", None),  # a carousel's arrow, typed nothing
        ("qty_plus", "button"),  # a stepper typed button
        ("skip_forward_10s", "button"),
        ("wifi_switch", "UISwitch"),
        ("notifications", "SwitchCompat"),
        ("agree", "input[type=checkbox]"),
        ("7", "button"),  # a keypad key
        ("digit_4", "keypad"),
        ("story_view", "story"),
    ]:
        assert run(*burst(target, target_type)) == [], (target, target_type)
    # presses that each change something are not rage, whatever the control is called
    advancing = [press(T0 + i * 300, "banner", index=i) for i in range(6)]
    assert run(*advancing) == []
    with_content = []
    for i in range(5):
        with_content += [press(T0 + i * 600, "load_items"), event("screen_view", screen=f"page_{i}", t=T0 + i * 600 + 200)]
    assert run(*with_content) == []


def test_brief_exits_are_not_abandonment():
    started = event(feature="signup", action="start", t=T0)
    away = event("app_lifecycle", action="background", t=T0 + 40_000)
    back = event("app_lifecycle", action="foreground", t=T0 + 61_000)  # 21 s to fetch the SMS code
    done = event(feature="signup", action="complete", t=T0 + 90_000)
    later = timer(T0 + 40_000 + DetectionSettings().abandonment_grace_ms + 60_000)
    assert run(started, away, back, done, later) == []


def test_tab_closed_mid_flow_is_abandonment_at_the_timeout():
    cfg = DetectionSettings()
    from journey.users.state import UserState

    state = UserState(userId="u1")
    assert (
        run(event(feature="checkout", action="start", t=T0), event(feature="checkout", action="step", t=T0 + 30_000), state=state)
        == []
    )
    due = T0 + 30_000 + cfg.flow_timeout_ms
    assert state.deadline == -(-due // 60_000) * 60_000  # nothing more comes from a closed tab; the timer's minute
    assert run(timer(state.deadline - 60_000), state=state) == []  # not yet
    signals = run(timer(state.deadline + 30_000), state=state)
    assert types(signals) == [SignalType.ABANDONMENT] and signals[0].rule == "flow_timed_out"
    assert signals[0].detectedAt - state.last_event_at < cfg.flow_timeout_ms + 120_000  # at the timeout, not the next session


def test_crashes_are_error_patterns():
    for crash in (
        event("app_lifecycle", action="crash", t=T0),
        event("error", feature="player", errorType="fatal_exception", t=T0),
        event("error", feature="feed", errorType="app_not_responding", t=T0),
        event("error", feature="home", errorType="white_screen", t=T0),
        event("error", feature="home", errorType="NullPointer", fatal=True, t=T0),
    ):
        signals = run(crash, event("app_lifecycle", action="session_start", session="s2", t=T0 + 8000))
        assert types(signals) == [SignalType.ERROR_PATTERN], crash
        assert signals[0].rule == "crash"


def test_screen_loops_two_and_three_screens_with_duplicate_views_merged():
    ping_pong = [event("screen_view", screen=("cart", "delivery_options")[i % 2], t=T0 + i * 4500) for i in range(5)]  # 18 s
    assert types(run(*ping_pong)) == [SignalType.SCREEN_LOOP]
    circle = [event("page_view", screen=("/plans", "/compare", "/faq-pricing")[i % 3], t=T0 + i * 12_000) for i in range(6)]
    assert SignalType.SCREEN_LOOP in types(run(*circle))  # slower: 12 s a screen
    doubled = []  # ordinary navigation, each page view sent twice (router and tag manager)
    for i, page in enumerate(("/", "/shoes", "/shoes/runner-2", "/cart")):
        doubled += [event("page_view", screen=page, t=T0 + i * 9000), event("page_view", screen=page, t=T0 + i * 9000 + 120)]
    assert run(*doubled) == []
    browsing = []  # a list and three different products, each read for a while
    for i, product in enumerate(("/p/101", "/p/202", "/p/303")):
        browsing += [
            event("page_view", screen="/list", t=T0 + i * 40_000),
            event("page_view", screen=product, t=T0 + i * 40_000 + 5000),
        ]
    assert run(*browsing) == []


def test_failed_attempts_without_attempt_count_are_repeated_attempts():
    story = []
    for i in range(3):
        story += [
            event(feature="login", action="submit", t=T0 + i * 12_000),
            event("error", feature="login", errorType="invalid_credentials", t=T0 + i * 12_000 + 900),
        ]
    signals = run(*story)
    assert set(types(signals)) == {SignalType.REPEATED_ATTEMPTS}  # not an error pattern: the user's input failed


def test_help_seeking_by_intent_in_five_languages_with_negatives():
    for query in (
        "contact support",
        "forgot password",
        "cant log in",
        "talk to a human",
        "where is my order",
        "Passwort vergessen",
        "mot de passe oublié",
        "esqueci minha senha",
    ):
        assert types(run(event("search", query=query, t=T0))) == [SignalType.HELP_SEEKING], query
    for screen in ("/es/ayuda", "HelpCenterScreen", "support_chat", "Hilfe", "centre-d-aide"):
        assert types(run(event("screen_view", screen=screen, t=T0))) == [SignalType.HELP_SEEKING], screen
    for screen in ("helper_bot", "ChatScreen", "/messages/chat", "Contacts", "helpful-tips-onboarding", "contactless_settings"):
        assert run(event("screen_view", screen=screen, t=T0)) == [], screen
    for query in ("how to train your dragon", "help wanted", "support this creator", "running shoes"):
        assert run(event("search", query=query, t=T0)) == [], query


def test_one_retry_is_not_repeated_attempts():
    assert (
        run(
            event(feature="payment", action="submit", attemptCount=1, t=T0),
            event(feature="payment", action="submit", attemptCount=2, t=T0 + 8000),
            event(feature="payment", action="complete", t=T0 + 9000),
        )
        == []
    )
    once = [
        event(feature="login", action="submit", t=T0),
        event("error", feature="login", errorType="invalid_credentials", t=T0 + 800),
        event(feature="login", action="submit", t=T0 + 9000),
        event(feature="login", action="complete", t=T0 + 9800),
    ]
    assert run(*once) == []


def test_field_review_findings():
    """Cases a reviewer of the simulator's behaviours found: each as a person would judge it."""
    from journey.users.state import UserState

    # a dead Next button inside checkout is rage; a carousel's next arrow outside a flow is not
    state = UserState(userId="u1")
    run(event(feature="checkout", action="start", t=T0), state=state)
    assert types(run(*[press(T0 + 1000 + i * 300, "checkout_next") for i in range(3)], state=state)) == [SignalType.RAGE_TAP]
    assert run(*[press(T0 + i * 300, "next", feature="gallery") for i in range(5)]) == []
    # shopping searches are not help
    for query in ("lumbar support pillow", "arch support insoles", "aide soignante", "roadside assistance"):
        assert run(event("search", query=query, t=T0)) == [], query
    # the signal that killed the app names a crash
    assert types(run(event("error", feature="feed", errorType="EXC_BAD_ACCESS", t=T0))) == [SignalType.ERROR_PATTERN]
    # attempts counted again from 1 are a new run of the task
    runs = [event(feature="upload", action="submit", attemptCount=n, t=T0 + i * 70_000) for i, n in enumerate((1, 2, 3, 1, 2, 3))]
    assert types(run(*runs)) == [SignalType.REPEATED_ATTEMPTS] * 2


def test_field_suite_findings():
    """What the first run on the field suite got wrong, each as a person would judge it."""
    from journey.users.state import UserState

    # a triple tap on text selects it; on a dead label, slower taps are rage
    selecting = [press(T0 + t, "booking_reference", targetType="android.widget.TextView") for t in (0, 222, 400)]
    assert run(*selecting, press(T0 + 1200, "copy")) == []
    dead_label = [press(T0 + t, "follower_count", targetType="p") for t in (0, 364, 683)]
    assert types(run(*dead_label)) == [SignalType.RAGE_TAP]
    assert types(run(*[press(T0 + t, "pay") for t in (0, 150, 300, 450)])) == [SignalType.RAGE_TAP]  # fast, but a fourth press
    # a loop is within one session: relaunching after a crash and coming back round is not going in circles
    relaunches = []
    for n in range(3):
        relaunches += [
            event("screen_view", screen=page, session=f"s{n}", t=T0 + n * 20_000 + k * 3000)
            for k, page in enumerate(("splash", "home"))
        ]
    assert run(*relaunches) == []
    # a hub and its spokes is a circle; leaving it for a new screen is not a second one
    hub = ("account", "payment_methods", "account", "trips", "account", "payment_methods", "home")
    assert types(run(*[event("screen_view", screen=page, t=T0 + k * 6000) for k, page in enumerate(hub)])) == [
        SignalType.SCREEN_LOOP
    ]
    # a help word buried in a longer page name is not a help place
    assert run(event("page_view", screen="/workouts/lower-back-support-mobility", t=T0)) == []
    # a page about supporting a creator is not help
    assert run(event("page_view", screen="/creator-support", t=T0)) == []
    # a refusal of the user's attempt that the app numbers is a failed attempt, whatever it is called
    refused = []
    for n in (1, 2, 3):
        refused += [
            event(feature="booking", action="submit", attemptCount=n, t=T0 + n * 14_000),
            event("error", feature="booking", errorType="fare_unavailable", attemptCount=n, t=T0 + n * 14_000 + 1500),
        ]
    assert set(types(run(*refused))) == {SignalType.REPEATED_ATTEMPTS}
    # failing at a flow and leaving it is one episode: repeated attempts, not abandonment as well
    state = UserState(userId="u1")
    story = [event(feature="login", action="start", t=T0)]
    for i in range(3):
        story += [
            event(feature="login", action="submit", t=T0 + 1000 + i * 10_000),
            event("error", feature="login", errorType="invalid_credentials", t=T0 + 1500 + i * 10_000),
        ]
    story += [
        event("app_lifecycle", action="background", t=T0 + 40_000),
        timer(T0 + 40_000 + 600_000),
    ]
    assert set(types(run(*story, state=state))) == {SignalType.REPEATED_ATTEMPTS}


def test_held_out_findings():
    """What the held-out suite's first run found, as classes."""
    stuck = [press(T0 + i * 600, "freeze_card", targetType="Toggle", isOn=False) for i in range(6)]
    assert types(run(*stuck)) == [SignalType.RAGE_TAP, SignalType.RAGE_TAP]  # a switch that never flips is stuck
    flipping = [press(T0 + i * 600, "freeze_card", targetType="Toggle", isOn=i % 2 == 0) for i in range(6)]
    assert run(*flipping) == []
    pin = [press(T0 + i * 500, "marker_pickup_pin", targetType="Marker") for i in range(4)]
    assert types(run(*pin)) == [SignalType.RAGE_TAP]  # a map pin, not a PIN keypad
    flutter = [press(T0 + i * 400, "match_name", action="onTap", targetType="Text") for i in range(4)]
    assert types(run(*flutter)) == [SignalType.RAGE_TAP]
    android_left = [
        event("error", feature="live_blog", errorType="something_went_wrong", t=T0),
        event("app_lifecycle", action="ON_STOP", t=T0 + 4000),
    ]
    assert types(run(*android_left)) == [SignalType.ERROR_PATTERN]
