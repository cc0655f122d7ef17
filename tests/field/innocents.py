"""Hard negatives: episodes that look like struggle to a naive rule and are not. Nobody watching the
replay would say the person is having trouble. signalType names what a naive system might fire."""

from __future__ import annotations

from .apps import Flow
from .casebook import MOBILE, Variant, episode
from .device import Device, spread_points
from .moves import arrive, back, failing_flow, first_try, go, go_tab, refused, step, submit, succeed, walk
from .world import slug

# --- rage_tap -----------------------------------------------------------------------------------

_PIN_KEYS = {d: (1 + (d - 1) % 3, (d - 1) // 3) for d in range(1, 10)} | {0: (2, 3)}


@episode(
    "legit_repeated_presses",
    "hard_negative",
    "rage_tap",
    99,
    variants=(
        Variant("carousel", apps=("shop", "travel", "media")),
        Variant("stepper", apps=("shop", "travel")),
        Variant("stories", apps=("social", "media")),
        Variant("video_skip", apps=("media", "social")),
        Variant("toggles"),
        Variant("keypad", apps=("fintech",)),
        Variant("likes", apps=("social", "media")),
        Variant("text_selection"),
        Variant("load_more"),
    ),
)
def legit_repeated_presses(u: Device, variant: str) -> str:
    return _PRESSES[variant](u)


def _carousel(u: Device) -> str:
    item = u.pick(u.app.items)
    arrive(u, u.app.detail, item=item, feature=u.app.browse_feature)
    u.wait(3, 10)
    target = u.pick(("carousel_next", "gallery_arrow_right", "next_photo"))
    n = u.rng.randint(5, 8)
    indexed = u.chance(0.5)
    u.begin()
    for i in range(n):
        if i:
            u.wait_ms(450, 1300)
        u.press(target, "carousel", feature="gallery", index=i + 2 if indexed else None)
    u.end()
    return (
        f"Flicks through {n + 1} photos of {item} with the '{target}' arrow, a glance at each; every press shows the next photo."
    )


def _stepper(u: Device) -> str:
    if u.app.kind == "shop":
        arrive(u, "cart", feature="cart")
        target, what, feature = "qty_increase", "the quantity", "cart"
    else:
        arrive(u, u.app.detail, feature="search")
        target, what, feature = "guests_plus", "the number of guests", "search"
    u.wait(3, 12)
    points = spread_points(u.rng, u.aim(target), 5, "mouse")
    u.begin()
    for i, at in enumerate(points):
        if i:
            u.wait_ms(250, 450)
        u.press(target, "button", feature=feature, at=at, value=i + 2 if u.p.item_ids else None)
    u.end()
    return (
        f"Raises {what} from 1 to 6 with the '+' stepper (sent as a button), five quick presses, the number going up each time."
    )


def _stories(u: Device) -> str:
    go(u, "stories", via="story_ring", kind="story", feature="stories")
    u.wait_ms(800, 3000)
    target = u.pick(("story_next", "stories_tap_right", "story_view"))
    n = u.rng.randint(4, 8)
    u.begin()
    for _i in range(n):
        shown = u.rng.randint(350, 1300)
        u.t += shown
        u.press(target, "story", feature="stories")
        u.wait_ms(30, 150)
        u.video(f"story-{u.rng.getrandbits(32):08x}", shown, shown / 5000, feature="stories")
    u.end()
    return f"Skips through {n} stories with quick taps on the right edge, each tap bringing up the next story."


def _video_skip(u: Device) -> str:
    title = u.pick(u.app.items)
    arrive(u, u.app.detail, item=title, feature=u.app.browse_feature)
    u.wait(3, 10)
    go(u, "player", via="play", kind="button", item=title, feature="playback")
    watched = u.rng.randint(30, 300) * 1000
    u.t += watched
    n = u.rng.randint(3, 5)
    u.begin()
    for i in range(n):
        if i:
            u.wait_ms(250, 600)
        u.press("skip_forward_10", "video_control", feature="playback", position=watched // 1000 + 10 * (i + 1))
    u.end()
    more = u.rng.randint(60, 600) * 1000
    u.t += more
    u.video("v-" + slug(title), watched + more, u.rng.uniform(0.3, 1.0))
    return f"Skips the intro of {title}: presses '+10 s' {n} times in a row, then keeps watching."


def _toggles(u: Device) -> str:
    arrive(u, "settings")
    u.wait(3, 10)
    u.begin()
    if u.chance(0.5):
        names = u.rng.sample(u.app.switches, u.rng.randint(4, 5))
        for i, name in enumerate(names):
            if i:
                u.wait(0.8, 3)
            u.press(name, "toggle", feature="settings", value=u.chance(0.5))
        told = f"Goes down the settings list flipping {len(names)} different switches"
    else:
        name, value = u.pick(u.app.switches), True
        n = u.rng.randint(4, 5)
        for i in range(n):
            if i:
                u.wait(1, 3)
            u.press(name, "toggle", feature="settings", value=value)
            value = not value
        told = f"Flips '{name}' on and off {n} times to compare the two, and leaves it as they like it"
    u.end()
    return told + "."


def _keypad(u: Device) -> str:
    pin = u.chance(0.6)
    if pin:
        go(u, "passcode", via="unlock", kind="button", feature="login")
        digits = [u.rng.randint(0, 9) for _ in range(u.rng.choice((4, 6)))]
    else:
        go(u, "split_bill", via="split_bill", kind="button", feature="payments")
        digits = [u.rng.randint(0, 9) for _ in range(u.rng.randint(6, 9))]
    u.wait(1, 3)
    one_target = u.chance(0.5)
    w, h = u.p.viewport
    u.begin()
    for i, d in enumerate(digits):
        if i:
            u.wait_ms(180, 450)
        col, row = _PIN_KEYS[d]
        at = (w * col / 4 + u.rng.uniform(-10, 10), h * 0.45 + row * 75 + u.rng.uniform(-10, 10))
        u.press("keypad" if one_target else f"key_{d}", "keypad", feature="login" if pin else "payments", at=at)
    u.wait_ms(300, 1200)
    if pin:
        u.view(u.app.home)  # unlocked
    else:
        u.press("equals", "keypad", feature="payments")
    u.end()
    return (
        f"Types a {len(digits)}-digit PIN on the keypad and is let in."
        if pin
        else f"Works out a split bill on the calculator ({len(digits)} key presses)."
    )


def _likes(u: Device) -> str:
    if u.app.kind == "social" and u.chance(0.7):
        arrive(u, "feed", feature="feed")
        u.wait(5, 20)
        posts = u.rng.randint(2, 4)
        u.begin()
        for i in range(posts):
            if i:
                u.wait(6, 25)
            post = slug(u.pick(u.app.items))
            for at in spread_points(u.rng, u.aim("post_media"), 2, "mouse" if not u.p.touch else "tight"):
                u.press("post_media", "image", feature="feed", at=at, post=post)
                u.wait_ms(150, 300)
            u.flow("feed", "like", post=post)
        u.end()
        return f"Double-taps {posts} posts to like them while scrolling; a heart appears on each."
    title = "Northern Lights Live" if u.app.kind == "media" else u.pick(u.app.items)
    go(u, "live", via="live_now", kind="cell", item=title, feature="live")
    u.wait(20, 120)
    n = u.rng.randint(6, 10)
    u.begin()
    u.burst("heart_button", "heart", n, (150, 350), feature="live")
    u.end()
    return f"Sends a stream of {n} hearts to a live broadcast, tapping the heart button as fast as they like."


_COPY_SPOT = {
    "shop": "order_detail",
    "media": "title_detail",
    "social": "post_detail",
    "travel": "trip_detail",
    "fintech": "account_detail",
}


def _text_selection(u: Device) -> str:
    arrive(u, _COPY_SPOT[u.app.kind])
    u.wait(4, 20)
    taps = u.pick((2, 3))
    u.begin()
    u.burst(u.app.copyable, "text", taps, (150, 280), spread="tight")
    u.wait_ms(400, 1500)
    u.press("copy", "button", feature="clipboard")
    u.end()
    return f"{'Double' if taps == 2 else 'Triple'}-taps the {u.app.copyable.replace('_', ' ')} to select it and copies it."


def _load_more(u: Device) -> str:
    arrive(u, u.app.listing, feature=u.app.browse_feature)
    u.wait(5, 20)
    n = u.rng.randint(3, 5)
    as_pages = u.p.web and u.chance(0.5)
    u.begin()
    for i in range(n):
        if i:
            u.wait(1.5, 4)
        u.press("load_more", "button", feature=u.app.browse_feature)
        u.wait_ms(400, 1500)
        if as_pages:
            u.view(u.app.listing, raw=f"{u.screen_for(u.app.listing)}?page={i + 2}", feature=u.app.browse_feature)
        else:
            u.flow(u.app.browse_feature, "load", page=i + 2, itemsLoaded=20)
    u.end()
    return f"Presses 'Load more' {n} times while skimming, each press adding another page of results."


_PRESSES = {
    "carousel": _carousel,
    "stepper": _stepper,
    "stories": _stories,
    "video_skip": _video_skip,
    "toggles": _toggles,
    "keypad": _keypad,
    "likes": _likes,
    "text_selection": _text_selection,
    "load_more": _load_more,
}


# --- abandonment --------------------------------------------------------------------------------

_CODE_FLOWS = ("signup", "kyc", "transfer", "login")
_PAY_FLOWS = ("checkout", "booking", "subscription", "transfer")


@episode(
    "brief_exits",
    "hard_negative",
    "abandonment",
    40,
    variants=(Variant("sms_code"), Variant("three_d_secure", apps=("shop", "travel", "media", "fintech")), Variant("phone_call")),
)
def brief_exits(u: Device, variant: str) -> str:
    wanted = {"sms_code": _CODE_FLOWS, "three_d_secure": _PAY_FLOWS}.get(variant, _CODE_FLOWS + _PAY_FLOWS + ("onboarding",))
    flow = u.app.flows[u.pick(n for n in u.app.flows if n in wanted)]
    arrive(u, flow.screens[0], feature=flow.feature)
    u.wait(2, 8)
    u.begin()
    u.flow(flow.feature, "start")
    for i in range(1, len(flow.screens)):
        u.wait(5, 25)
        step(u, flow, i)
    u.wait(4, 15)
    away = 0.0
    if variant == "sms_code":
        u.press("send_code", "button", feature=flow.feature)
        u.wait(1, 3)
        away = _away(u, 10, 60)
        u.press("code_field", "input", feature=flow.feature)
        u.wait(3, 8)
        first_try(u, flow)
        told = "switches to Messages to fetch the SMS code"
    elif variant == "three_d_secure":
        submit(u, flow, 1 if u.p.sends_attempts else None)
        u.wait(1, 4)
        away = _away(u, 15, 60)
        succeed(u, flow)
        told = "confirms the payment in the bank app (3-D Secure)"
    else:
        away = _away(u, 15, 60)
        u.wait(2, 8)
        first_try(u, flow)
        told = "takes a short phone call"
    u.end()
    return f"Midway through {flow.feature} the person {told}, away {away:.0f} s, comes back and completes it."


def _away(u: Device, lo: float, hi: float) -> float:
    u.life("background")
    before = u.t
    u.wait(lo, hi)
    u.life("foreground")
    u.wait(1, 3)
    return (u.t - before) / 1000


_LONG_FLOWS = ("kyc", "booking", "signup", "checkout", "onboarding", "subscription", "checkin")


@episode("long_flow", "hard_negative", "abandonment", 30)
def long_flow(u: Device, variant: str) -> str:
    flow = u.app.flows[u.pick(n for n in u.app.flows if n in _LONG_FLOWS)]
    arrive(u, flow.screens[0], feature=flow.feature)
    u.wait(2, 8)
    minutes = u.rng.uniform(11, 22)
    per_screen = minutes * 60 / len(flow.screens)
    u.begin()
    u.flow(flow.feature, "start")
    for i in range(len(flow.screens)):
        _slow_form(u, flow, per_screen)
        if i + 1 < len(flow.screens):
            step(u, flow, i + 1, dwell=(4, 12))
    first_try(u, flow)
    u.end()
    took = (u.t - u.events[u.episode_first or 0]["timestamp"]) / 60000
    return f"Works carefully through {flow.feature}, a field at a time, and completes it after {took:.0f} minutes."


def _slow_form(u: Device, flow: Flow, seconds: float) -> None:
    """A long form filled in slowly: a field every half minute to two minutes."""
    stop = u.t + int(seconds * 1000)
    while u.t < stop:
        u.wait(25, 110)
        name = u.pick((flow.field, "name_field", "address_field", "date_field", "upload_document", "notes_field"))
        u.press(name, "button" if name == "upload_document" else "input", feature=flow.feature)


# --- repeated_attempts --------------------------------------------------------------------------


@episode("one_retry", "hard_negative", "repeated_attempts", 40, variants=(Variant("counted"), Variant("uncounted")))
def one_retry(u: Device, variant: str) -> str:
    flow = failing_flow(u)
    walk(u, flow, dwell=(5, 25))
    u.wait(3, 12)
    error = u.pick(flow.errors)
    counted = variant == "counted"
    u.begin()
    submit(u, flow, 1 if counted else None)
    refused(u, flow, error)
    u.wait(4, 12)
    u.press(flow.field, "input", feature=flow.feature)
    u.wait(4, 12)
    submit(u, flow, 2 if counted else None)
    succeed(u, flow)
    u.end()
    return f"{flow.feature}: first submit refused ('{error}'), fixes the field, second submit goes through."


# --- help_seeking -------------------------------------------------------------------------------


@episode(
    "help_false_friends",
    "hard_negative",
    "help_seeking",
    64,
    variants=(
        Variant("helper_bot", apps=("shop", "travel")),
        Variant("dragon_search", apps=("media",)),
        Variant("chat_screen", apps=("social",)),
        Variant("contacts", apps=("social", "fintech")),
        Variant("support_this_creator", apps=("media", "social")),
        Variant("helpful_tips_onboarding"),
        Variant("contactless_settings", apps=("fintech",)),
        Variant("help_wanted_title", apps=("media",)),
    ),
)
def help_false_friends(u: Device, variant: str) -> str:
    return _FRIENDS[variant](u)


def _helper_bot(u: Device) -> str:
    prompt = {"shop": "gift ideas for my dad under 50", "travel": "quiet hotel near the beach"}[u.app.kind]
    u.begin()
    go(u, "helper_bot", via="helper_bot_button", kind="button", feature="helper_bot")
    u.wait(3, 8)
    u.press("message_field", "input", feature="helper_bot")
    u.wait(6, 15)
    u.search(prompt, feature="helper_bot")
    u.wait(3, 10)
    item = u.pick(u.app.items)
    go(u, u.app.detail, via="suggestion_card", kind="cell", item=item, feature="helper_bot")
    u.end()
    u.wait(15, 60)
    return f"Asks the 'Helper bot' assistant for '{prompt}' and opens one of its suggestions ({item})."


def _dragon_search(u: Device) -> str:
    arrive(u, "search", feature="search")
    u.wait(2, 5)
    u.begin()
    u.press("search_field", "input", feature="search")
    u.wait(3, 8)
    u.search("how to train your dragon")
    u.wait_ms(600, 1500)
    u.view("search_results", feature="search")
    u.wait(3, 10)
    go(u, "title_detail", via="result_item", kind="cell", item="How to Train Your Dragon", feature="search")
    u.wait(5, 20)
    go(u, "player", via="play", kind="button", item="How to Train Your Dragon", feature="playback")
    u.end()
    watched = u.rng.randint(10, 25) * 60_000
    u.t += watched
    u.video("v-how-to-train-your-dragon", watched, watched / 5_880_000)
    return "Searches 'how to train your dragon', finds the film and watches it."


def _chat_screen(u: Device) -> str:
    go_tab(u, "messages")
    u.wait(3, 12)
    friend = u.pick(("Mara", "Jonas", "Ines", "Theo", "Lucia"))
    u.begin()
    go(u, "chat", via="conversation", kind="cell", feature="messaging")
    n = u.rng.randint(2, 4)
    for _ in range(n):
        u.wait(10, 60)
        u.press("send_message", "button", feature="messaging")
    u.end()
    return f"Chats with a friend ({friend}) in the app's messaging screen, {n} messages."


def _contacts(u: Device) -> str:
    u.begin()
    go(u, "contacts", via="contacts", kind="link", feature="contacts")
    u.wait(5, 20)
    if u.app.kind == "social":
        n = u.rng.randint(1, 2)
        for _ in range(n):
            u.press("invite_contact", "button", feature="contacts")
            u.wait(4, 15)
        told = f"Opens Contacts to find friends and invites {n}"
    else:
        go(u, "contact_detail", via="contact_row", kind="cell", feature="contacts")
        u.wait(5, 15)
        told = "Opens Contacts to look up a friend's account details"
    u.end()
    return told + "."


def _support_this_creator(u: Device) -> str:
    arrive(u, u.app.detail if u.app.kind == "media" else "profile")
    u.wait(10, 40)
    u.begin()
    u.press("support_this_creator", "button", feature="creator_support", label="Support this creator")
    u.wait_ms(400, 1000)
    u.view("creator_support", feature="tips")
    u.wait(5, 15)
    u.flow("tips", "start")
    u.wait(2, 6)
    u.press("tip_amount_5", "button", feature="tips")
    u.wait(2, 6)
    u.press("send_tip", "button", feature="tips")
    u.flow("tips", "submit")
    u.wait_ms(800, 2500)
    u.flow("tips", "complete")
    u.end()
    return "Presses 'Support this creator' and sends a small tip, happily."


def _helpful_tips_onboarding(u: Device) -> str:
    u.begin()
    u.view("helpful_tips_onboarding", raw=None if u.p.web else "helpful-tips-onboarding", feature="onboarding")
    n = u.rng.randint(2, 3)
    for i in range(n):
        u.wait(4, 10)
        u.press("next_tip", "button", feature="onboarding", tip=i + 2)
    u.wait(3, 8)
    u.press("got_it", "button", feature="onboarding")
    u.wait_ms(300, 900)
    u.view(u.app.home)
    u.end()
    return f"Reads the {n + 1} 'helpful tips' cards shown after an update and closes them."


def _contactless_settings(u: Device) -> str:
    go_tab(u, "cards")
    u.wait(3, 10)
    u.begin()
    go(u, "contactless_payments", via="contactless", kind="cell", feature="cards")
    u.wait(4, 12)
    u.press("contactless_enabled", "toggle", feature="cards", value=True)
    u.wait(3, 8)
    go(u, "contactless_limit", via="set_limit", kind="button", feature="cards")
    u.wait(5, 15)
    u.press("save_limit", "button", feature="cards")
    u.end()
    return "Turns on contactless payments for their card and sets a limit."


def _help_wanted_title(u: Device) -> str:
    u.begin()
    if u.chance(0.5):
        arrive(u, "search", feature="search")
        u.wait(2, 6)
        u.search("help wanted")
        u.wait_ms(600, 1500)
        u.view("search_results", feature="search")
        u.wait(3, 8)
    go(u, "title_detail", via="title_card", kind="cell", item="Help Wanted", feature=u.app.browse_feature)
    u.wait(10, 30)
    go(u, "player", via="play", kind="button", item="Help Wanted", feature="playback")
    u.end()
    watched = u.rng.randint(15, 40) * 60_000
    u.t += watched
    u.video("v-help-wanted", watched, watched / 2_700_000)
    return "Looks up the film 'Help Wanted' and watches it."


_FRIENDS = {
    "helper_bot": _helper_bot,
    "dragon_search": _dragon_search,
    "chat_screen": _chat_screen,
    "contacts": _contacts,
    "support_this_creator": _support_this_creator,
    "helpful_tips_onboarding": _helpful_tips_onboarding,
    "contactless_settings": _contactless_settings,
    "help_wanted_title": _help_wanted_title,
}


# --- screen_loop --------------------------------------------------------------------------------


@episode(
    "duplicate_page_views",
    "hard_negative",
    "screen_loop",
    36,
    variants=(Variant("router_and_tag_manager", ("Web",), share=3), Variant("auto_and_manual_tracking", MOBILE)),
)
def duplicate_page_views(u: Device, variant: str) -> str:
    pages = u.rng.randint(2, 4)
    route = [u.app.listing, u.app.detail, u.pick(t for t in u.app.tabs if t not in (u.app.home,)), "search"]
    u.rng.shuffle(route)
    if u.screen_key in route[:1]:
        route = route[1:] + route[:1]
    u.begin()
    doubled = 0
    for i in range(pages):
        if i:
            u.wait(8, 40)
        go(u, route[i], via=f"open_{route[i]}", kind="link", item=u.pick(u.app.items))
        if i == 0 or u.chance(0.8):
            u.repeat_view()
            doubled += 1
    u.end()
    u.wait(8, 30)
    return (
        f"Ordinary navigation over {pages} pages; {doubled} of the page views arrive twice, 50-300 ms apart, from two trackers."
    )


@episode(
    "ordinary_back_and_forth",
    "hard_negative",
    "screen_loop",
    40,
    variants=(Variant("comparing_items", share=3), Variant("bottom_tabs", (*MOBILE, "Web"), share=2)),
)
def ordinary_back_and_forth(u: Device, variant: str) -> str:
    if variant == "bottom_tabs":
        if u.screen_key != u.app.home:
            go_tab(u, u.app.home)
            u.wait(10, 30)
        n = u.rng.randint(5, 7)
        u.begin()
        recent = [u.app.home]
        for _ in range(n):
            tab = u.pick(t for t in u.app.tabs if t not in recent[-2:] or (t == u.app.home and t != recent[-1]))
            u.wait(6, 20)
            go_tab(u, tab)
            recent.append(tab)
        u.end()
        return f"Moves around the bottom navigation at an easy pace ({n} tab switches, several seconds on each)."
    arrive(u, u.app.listing, feature=u.app.browse_feature)
    u.wait(5, 20)
    items = u.rng.sample(u.app.items, u.rng.randint(3, 4))
    u.begin()
    for i, item in enumerate(items):
        if i:
            back(u, u.app.listing, feature=u.app.browse_feature)
            u.wait(3, 12)
        go(u, u.app.detail, via="item_card", kind="cell", item=item, feature=u.app.browse_feature)
        u.wait(10, 40)
    u.press(u.pick(("save", "add_to_cart", "like", "wishlist")), "button", feature=u.app.browse_feature)
    u.end()
    return f"Compares {len(items)} items, going from the list into each one for a good look ({', '.join(items)}), and saves the last."


# --- error_pattern ------------------------------------------------------------------------------


@episode("recovered_error", "hard_negative", "error_pattern", 36, variants=(Variant("auto_retry"), Variant("retry_once")))
def recovered_error(u: Device, variant: str) -> str:
    fault = u.pick(u.app.faults)
    arrive(u, fault.screen, feature=fault.feature)
    u.wait_ms(500, 3000)
    u.begin()
    u.fail(fault.feature, fault.error)
    if variant == "retry_once":
        u.wait(1, 4)
        u.press("retry", "button", feature=fault.feature)
    u.wait_ms(700, 3000)
    u.view(fault.screen, feature=fault.feature)
    u.end()
    u.wait(10, 40)
    how = "the app retries by itself" if variant == "auto_retry" else "one tap on Retry"
    return f"{fault.what} hiccups once ('{fault.error}'); {how} and it loads straight away."
