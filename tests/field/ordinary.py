"""Ordinary use, the kind nobody watching a replay would call struggle: looking around, reading,
watching, searching for things, one tap at a time, flows that go through on the first try."""

from __future__ import annotations

from collections.abc import Callable

from .device import Device
from .moves import arrive, back, first_try, go, go_tab, refused, step_away, submit, succeed, walk


def browse(u: Device) -> None:
    """Open a list, look at one or two things in it, come back once."""
    app = u.app
    arrive(u, app.listing, feature=app.browse_feature)
    u.wait(6, 30)
    first, second = u.rng.sample(app.items, 2)
    go(u, app.detail, via="item_card", kind="cell", item=first, feature=app.browse_feature)
    u.wait(15, 90)
    if u.chance(0.3):
        u.press(u.pick(("save", "share", "like", "wishlist")), "button", feature=app.browse_feature)
        u.wait(3, 15)
    if u.chance(0.5):
        back(u, app.listing, feature=app.browse_feature)
        u.wait(10, 40)
        go(u, app.detail, via="item_card", kind="cell", item=second, feature=app.browse_feature)
        u.wait(15, 80)


def look_something_up(u: Device) -> None:
    app = u.app
    arrive(u, "search", feature="search")
    u.wait(2, 6)
    u.press("search_field", "input", feature="search")
    u.wait(3, 10)
    u.search(u.pick(app.searches))
    u.wait_ms(500, 1500)
    u.view("search_results", feature="search")
    u.wait(5, 25)
    if u.chance(0.7):
        go(u, app.detail, via="result_item", kind="cell", item=u.pick(app.items), feature="search")
        u.wait(15, 70)


def switch_tab(u: Device) -> None:
    tab = u.pick(t for t in u.app.tabs if u.screen_key != t)
    go_tab(u, tab)
    u.wait(10, 60)


def watch(u: Device) -> None:
    app = u.app
    title = u.pick(app.items)
    arrive(u, app.detail, item=title, feature=app.browse_feature)
    u.wait(5, 25)
    go(u, "player", via="play", kind="button", item=title, feature="playback")
    length = u.rng.randint(4, 45) * 60_000 if app.kind == "media" else u.rng.randint(15, 90) * 1000
    share = u.rng.uniform(0.2, 1.0)
    watched = int(min(length * share, 25 * 60_000))
    u.t += watched
    u.video("v-" + title.lower().replace(" ", "-"), watched, watched / length)
    u.wait(2, 10)
    back(u, app.detail, item=title, feature=app.browse_feature)
    u.wait(3, 15)


def scroll_feed(u: Device) -> None:
    """Social: read the feed, like one post, open one."""
    arrive(u, "feed", feature="feed")
    u.wait(15, 60)
    if u.chance(0.5):
        u.press("like_button", "heart", feature="feed", post=u.pick(u.app.items).replace(" ", "-"))
        u.wait(5, 30)
    go(u, "post_detail", via="post_card", kind="cell", item=u.pick(u.app.items), feature="feed")
    u.wait(10, 45)


def check_money(u: Device) -> None:
    """Fintech: look at the balance and the latest transactions."""
    arrive(u, "accounts")
    u.wait(5, 20)
    go(u, "account_detail", via="account_card", kind="cell", feature="accounts")
    u.wait(10, 40)
    go(u, "transactions", via="see_all", kind="link", feature="transactions")
    u.wait(10, 50)


def everyday_flow(u: Device) -> None:
    """A flow gone through without a hitch."""
    flow = u.app.flows[u.pick(u.app.everyday)]
    walk(u, flow, dwell=(6, 35))
    u.wait(4, 20)
    first_try(u, flow)
    u.wait(5, 30)


def adjust_a_setting(u: Device) -> None:
    arrive(u, "settings")
    u.wait(4, 15)
    name = u.pick(u.app.switches)
    u.press(name, "toggle", feature="settings", value=u.chance(0.5))
    u.wait(5, 20)


def glance_elsewhere(u: Device) -> None:
    """Mobile: out to another app (a message, a notification) and back, with nothing left half-done."""
    step_away(u, 15, 150)
    u.wait(3, 20)


def fix_one_typo(u: Device) -> None:
    """Sign in, mistype the password once, fix it (rare, and never near an episode)."""
    flow = u.app.flows["login"]
    walk(u, flow)
    u.wait(5, 15)
    u.press(flow.field, "input", feature="login")
    u.wait(4, 10)
    submit(u, flow)
    refused(u, flow, "invalid_credentials")
    u.wait(5, 15)
    u.press(flow.field, "input", feature="login")
    u.wait(3, 8)
    submit(u, flow)
    succeed(u, flow)
    u.wait(5, 20)


def _activities(u: Device, calm: bool, flows_done: int) -> list[tuple[Callable[[Device], None], int]]:
    kind = u.app.kind
    acts: list[tuple[Callable[[Device], None], int]] = [(browse, 6), (look_something_up, 3), (switch_tab, 4)]
    if u.app.videos:
        acts.append((watch, 5 if kind == "media" else 2))
    if kind == "social":
        acts.append((scroll_feed, 6))
    if kind == "fintech":
        acts.append((check_money, 6))
    if flows_done == 0:
        acts.append((everyday_flow, 3))
    acts.append((adjust_a_setting, 1))
    if not calm and not u.p.web:
        acts.append((glance_elsewhere, 1))
    return acts


def ordinary_use(u: Device, seconds: float, *, calm: bool) -> None:
    """About `seconds` of ordinary use. calm: this session also holds an episode, so nothing even
    slightly unusual (no stepping away, no typo) happens in it."""
    u.wait(3, 15)  # whatever just happened, the person takes it in first
    stop = u.t + int(seconds * 1000)
    flows_done = 0
    previous = None
    while u.t < stop:
        if not calm and u.chance(0.008):
            fix_one_typo(u)
            continue
        acts = [
            (a, w) for a, w in _activities(u, calm, flows_done) if a is not previous
        ]  # nobody does the same thing twice running
        act = u.rng.choices([a for a, _ in acts], [w for _, w in acts])[0]
        act(u)
        previous = act
        flows_done += act is everyday_flow
        u.wait(2, 20)
