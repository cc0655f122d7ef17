"""Ambiguous episodes: a researcher watching the replay could not say whether the person is having
trouble. They are labelled so a scorer can leave them out."""

from __future__ import annotations

from .apps import ABANDONABLE, CANCEL_WORD
from .casebook import episode
from .device import Device
from .moves import arrive, elsewhere, failing_flow, finish, go, reach, refused, step, submit, succeed, walk


@episode("two_quick_presses", "ambiguous", "rage_tap", 8)
def two_quick_presses(u: Device, variant: str) -> str:
    button = u.pick(u.app.buttons)
    flow = reach(u, button)
    u.wait(3, 15)
    u.begin()
    u.burst(button.target, "button", 2, (150, 400), feature=button.feature)
    u.end()
    if flow:
        finish(u, flow, button.screen, pressed=button.target == flow.submit)
    elif button.opens:
        u.wait_ms(500, 1500)
        u.view(button.opens, feature=button.feature)
    return (
        f"Presses '{button.label}' twice in quick succession — impatience, or just a double-click habit? The app then moves on."
    )


@episode("flow_resumed_later", "ambiguous", "abandonment", 8)
def flow_resumed_later(u: Device, variant: str) -> str:
    flow = u.app.flows[u.pick(n for n in u.app.flows if n in ABANDONABLE)]
    arrive(u, flow.screens[0], feature=flow.feature)
    u.wait(2, 8)
    u.begin()
    u.flow(flow.feature, "start")
    middle = max(1, len(flow.screens) // 2)
    for i in range(1, middle + 1):
        u.wait(6, 30)
        step(u, flow, i)
    u.wait(5, 30)
    u.life("background")
    away = u.rng.uniform(30, 45)
    u.t += int(away * 60_000)
    if u.chance(0.5):
        u.life("foreground")
    else:  # after half an hour away many SDKs count a new session; the app restores the form
        u.new_session()
        u.life("session_start")
        u.wait_ms(500, 2000)
        u.view(flow.screens[middle], feature=flow.feature)
    u.wait(3, 10)
    for i in range(middle + 1, len(flow.screens)):
        u.wait(6, 30)
        step(u, flow, i)
    u.wait(4, 15)
    submit(u, flow)
    succeed(u, flow)
    u.end()
    return f"Leaves {flow.feature} half-way for {away:.0f} minutes, then comes back to it and completes it."


@episode("same_screen_twice", "ambiguous", "screen_loop", 8)
def same_screen_twice(u: Device, variant: str) -> str:
    a, b = u.pick(u.app.pairs)
    if u.screen_key in (a, b):
        elsewhere(u, avoid=(a, b))
    u.wait(5, 15)
    u.begin()
    u.view(a)
    u.wait(3, 8)
    go(u, b, via=f"open_{b}", kind="link")
    u.wait(3, 8)
    u.view(a)
    u.end()
    u.wait(10, 40)
    return f"Visits {a}, pops into {b} and is back on {a} within 20 s: a quick check, or the start of being lost."


@episode("cancel_search", "ambiguous", "help_seeking", 8, by_language=True)
def cancel_search(u: Device, variant: str) -> str:
    arrive(u, "search", feature="search")
    u.wait(2, 6)
    word = CANCEL_WORD[u.p.lang]
    u.begin()
    u.press("search_field", "input", feature="search")
    u.wait(2, 6)
    u.search(word)
    u.wait_ms(600, 1500)
    u.view("search_results", feature="search")
    u.end()
    u.wait(5, 20)
    elsewhere(u)
    return f"Searches just '{word}' and looks at the results: wanting to cancel something, or looking for something called that?"


@episode("two_failures_then_success", "ambiguous", "repeated_attempts", 8)
def two_failures_then_success(u: Device, variant: str) -> str:
    flow = failing_flow(u)
    walk(u, flow, dwell=(5, 25))
    u.wait(3, 12)
    error = u.pick(flow.errors)
    u.begin()
    for attempt in (1, 2):
        submit(u, flow, attempt if u.p.sends_attempts else None)
        refused(u, flow, error)
        u.wait(5, 15)
        u.press(flow.field, "input", feature=flow.feature)
        u.wait(4, 10)
    submit(u, flow, 3 if u.p.sends_attempts else None)
    succeed(u, flow)
    u.end()
    return f"{flow.feature}: refused twice ('{error}'), through on the third try — two slips or a real fight?"


@episode("two_errors_then_fine", "ambiguous", "error_pattern", 8)
def two_errors_then_fine(u: Device, variant: str) -> str:
    fault = u.pick(u.app.faults)
    arrive(u, fault.screen, feature=fault.feature)
    u.wait_ms(600, 3000)
    u.begin()
    u.fail(fault.feature, fault.error)
    u.wait(3, 8)
    u.press("retry", "button", feature=fault.feature)
    u.wait_ms(800, 4000)
    u.fail(fault.feature, fault.error)
    u.wait(4, 10)
    u.press("retry", "button", feature=fault.feature)
    u.wait_ms(800, 3000)
    u.view(fault.screen, feature=fault.feature)
    u.end()
    return f"{fault.what} fails twice ('{fault.error}') within half a minute, then loads: a flaky moment or the start of trouble?"
