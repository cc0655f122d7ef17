"""Small things people do all the time, shared by ordinary use and the episodes."""

from __future__ import annotations

from .apps import Button, Flow
from .device import Device


def go(
    u: Device, key: str, *, via: str | None = None, kind: str = "link", item: str | None = None, feature: str | None = None
) -> None:
    """Press something that opens a screen, and the screen appears."""
    if via:
        u.press(via, kind, feature=feature)
        u.wait_ms(250, 900)
    u.view(key, item=item, feature=feature)


def go_tab(u: Device, tab: str) -> None:
    go(u, tab, via=f"tab_{tab}", kind="tab")


def back(u: Device, key: str, *, item: str | None = None, feature: str | None = None) -> None:
    """Back to the previous screen: an in-app back button on iOS, nothing tracked for Android's system back or the browser's."""
    if u.p.platform == "iOS" and u.chance(0.6):
        u.press("nav_back", "button")
        u.wait_ms(250, 700)
    u.view(key, item=item, feature=feature)


def arrive(u: Device, key: str, *, item: str | None = None, feature: str | None = None) -> None:
    """Get to a screen from wherever the person is (a menu, a link, a notification). Without an item,
    an item screen shows whatever the person was last looking at, or something new."""
    if u.screen_key == key and (item is None or item == u.item):
        return
    if item is None and key == u.app.detail:
        item = u.pick(u.app.items)
    go(u, key, via=f"open_{key}", kind=u.pick(("link", "button", "cell")), item=item, feature=feature)


def fill(u: Device, flow: Flow, fields: int, gap: tuple[float, float] = (2.5, 9)) -> None:
    """Fill in fields on the current form: a tap in each, then typing (typing itself is not tracked)."""
    for i in range(fields):
        last_screen = u.screen_key == flow.screens[-1]
        name = (
            flow.field
            if i == 0 and last_screen
            else u.pick(("name_field", "address_field", "phone_field", "date_field", "notes_field"))
        )
        u.press(name, "input", feature=flow.feature)
        u.wait(*gap)


def start_flow(u: Device, flow: Flow, *, item: str | None = None) -> None:
    arrive(u, flow.screens[0], item=item, feature=flow.feature)
    u.wait_ms(300, 1500)
    u.flow(flow.feature, "start")


def step(u: Device, flow: Flow, index: int, *, dwell: tuple[float, float] = (6, 30)) -> None:
    """Finish the current step and move to screens[index]."""
    fill(u, flow, u.rng.randint(1, 3), gap=(dwell[0] / 2, dwell[1] / 2))
    u.press("continue", "button", feature=flow.feature)
    u.wait_ms(300, 1200)
    u.view(flow.screens[index], feature=flow.feature)
    u.wait_ms(100, 400)
    progress = round(100 * index / (len(flow.screens) + 1))
    u.flow(flow.feature, "step", progress=progress if u.chance(0.6) else None, step=flow.screens[index])


def walk(
    u: Device, flow: Flow, upto: int | None = None, *, item: str | None = None, dwell: tuple[float, float] = (6, 30)
) -> None:
    """Start a flow and go through its screens up to screens[upto] (default: the last one)."""
    start_flow(u, flow, item=item)
    last = len(flow.screens) - 1 if upto is None else upto
    for i in range(1, last + 1):
        u.wait(*dwell)
        step(u, flow, i, dwell=dwell)


def submit(u: Device, flow: Flow, attempt: int | None = None, *, press: bool = True) -> None:
    if press:
        u.press(flow.submit, "button", feature=flow.feature)
        u.wait_ms(60, 300)
    u.flow(flow.feature, "submit", attemptCount=attempt)


def succeed(u: Device, flow: Flow) -> None:
    u.wait_ms(700, 3500)
    u.flow(flow.feature, "complete")
    u.wait_ms(300, 900)
    u.view(flow.done, feature=flow.feature)


def refused(u: Device, flow: Flow, error: str | None = None) -> None:
    u.wait_ms(600, 3000)
    u.fail(flow.feature, error or flow.errors[0])


def first_try(u: Device, flow: Flow) -> None:
    """Submit once and it works (with attemptCount 1 where the app sends it)."""
    submit(u, flow, 1 if u.p.sends_attempts else None)
    succeed(u, flow)


# --- sessions ---------------------------------------------------------------------------------
def open_session(u: Device) -> None:
    u.new_session()
    if u.p.web:
        if u.p.web_session_start:
            u.life("session_start")
            u.wait_ms(50, 400)
    else:
        u.life("session_start")
        if u.chance(0.4):
            u.wait_ms(20, 200)
            u.life(u.pick(("launch", "foreground")))
        u.wait_ms(400, 2500)
    u.view(u.app.home)


def close_session(u: Device) -> None:
    """The person is done: the app goes to the background, or the tab is closed."""
    if u.p.web:
        if u.p.web_close != "nothing":
            u.life(u.p.web_close)
        return
    u.life("background")
    if u.chance(0.3):
        u.wait_ms(200, 2000)
        u.life(u.pick(("session_end", "terminate")))


def step_away(u: Device, lo: float, hi: float) -> None:
    """The app goes to the background (tab hidden on the web) and comes back."""
    u.life("background")
    u.wait(lo, hi)
    u.life("foreground")


def relaunch(u: Device) -> None:
    """After a crash: the app starts again, usually as a new session."""
    if not u.p.web or u.chance(0.5):
        u.new_session()
    u.life("session_start")
    if u.chance(0.5):
        u.wait_ms(20, 200)
        u.life("launch")
    u.wait_ms(500, 3000)
    u.view(u.app.home)


# --- shared by the episodes ------------------------------------------------------------------
def elsewhere(u: Device, avoid: tuple[str, ...] = ()) -> None:
    """Move on to some other part of the app, the way people do after giving up on something."""
    tab = u.pick(t for t in u.app.tabs if t != u.screen_key and t not in avoid)
    go_tab(u, tab)
    u.wait(8, 40)


def reach(u: Device, button: Button) -> Flow | None:
    """Get to the screen a button is on; inside a flow that means starting the flow and walking to it."""
    for flow in u.app.flows.values():
        if button.screen in flow.screens:
            walk(u, flow, flow.screens.index(button.screen), dwell=(5, 25))
            return flow
    arrive(u, button.screen, feature=button.feature)
    return None


def finish(u: Device, flow: Flow, from_screen: str, *, pressed: bool) -> None:
    """Carry a flow through to the end from one of its screens (the submit may already have been pressed)."""
    i = flow.screens.index(from_screen)
    if i < len(flow.screens) - 1:
        for j in range(i + 1, len(flow.screens)):
            u.wait(5, 25)
            step(u, flow, j)
        u.wait(3, 12)
        first_try(u, flow)
    else:
        if pressed:
            u.wait_ms(60, 300)
        submit(u, flow, press=not pressed)
        succeed(u, flow)


def failing_flow(u: Device) -> Flow:
    names = [n for n in u.app.flows if n not in ("onboarding", "add_profile")]
    return u.app.flows[u.pick(names)]
