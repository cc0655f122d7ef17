"""The demo's simulated users, behaviour by behaviour, straight through detection: every struggle
episode the simulator plays is detected as its kind, on its feature, in its matching window, and
every hard negative fires nothing.

Events go through the profile, then detection, as the stream processor applies them; the deadline
timer is played as deployed (it runs every minute: a timer command at the first minute at or after
the state's deadline, before the user's next event, and once after the last), so abandonment is
declared at its timeout, not at the user's next session.

The behaviours are written out here, not read from the simulator: removing one (or turning it into
something easier) fails these tests.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter

import pytest

from journey.detection.rules import detect
from journey.detection.signals import StruggleSignal
from journey.settings import DetectionSettings
from journey.users.profile import update_profile
from journey.users.state import UserState
from localrt import simulator as sim
from localrt.evaluation import ABANDONMENT_MATCH_AFTER_MS, MATCH_AFTER_MS, match_signals, match_window
from tests.builders import T0, canonical, timer

CFG = DetectionSettings()
MINUTE_MS = 60_000
SEEDS = range(10)
ALL_PLATFORMS = ("iOS", "Android", "Web")

POSITIVES = (  # (kind, variant, platforms that play it)
    ("rage_tap", "touch_close", ("iOS", "Android")),
    ("rage_tap", "touch_spread", ("iOS", "Android")),
    ("rage_tap", "web_click", ("Web",)),
    ("rage_tap", "dead_element", ALL_PLATFORMS),
    ("repeated_attempts", "attempt_count", ALL_PLATFORMS),
    ("repeated_attempts", "failed_submits", ALL_PLATFORMS),
    ("error_pattern", "repeated_errors", ALL_PLATFORMS),
    ("error_pattern", "crash_relaunch", ALL_PLATFORMS),
    ("error_background", "error_then_leave", ALL_PLATFORMS),
    ("screen_loop", "loop_2_screens", ALL_PLATFORMS),
    ("screen_loop", "loop_3_screens", ALL_PLATFORMS),
    ("abandonment", "backgrounded", ALL_PLATFORMS),
    ("abandonment", "tab_closed", ("Web",)),
    ("help_seeking", "help_screen", ALL_PLATFORMS),
    ("help_seeking", "help_request", ALL_PLATFORMS),
    ("help_seeking", "help_search", ALL_PLATFORMS),
)
EXPECTED = {
    "rage_tap": "rage_tap",
    "repeated_attempts": "repeated_attempts",
    "error_pattern": "error_pattern",
    "error_background": "error_pattern",
    "screen_loop": "screen_loop",
    "abandonment": "abandonment",
    "help_seeking": "help_seeking",
}
NEGATIVES = (
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
LANGUAGES = ("en", "es", "de", "fr", "pt")


# --- playing simulated users through detection ----------------------------------------------------
def timer_command(user_id: str, at: int) -> dict:
    return timer(at, user_id)


def next_timer_run(deadline: int) -> int:
    return -(-deadline // MINUTE_MS) * MINUTE_MS


def detect_all(events: list[dict]) -> list[StruggleSignal]:
    """One user's events through the profile and detection, with the deadline timer as deployed."""
    user_id = events[0]["userId"]
    state = UserState(userId=user_id)
    found: list[StruggleSignal] = []

    def fold(raw: dict) -> None:
        event = canonical(raw)
        update_profile(event, state)
        found.extend(detect(event, state, CFG))

    for raw in events:
        while state.deadline and next_timer_run(state.deadline) <= raw["timestamp"]:
            before = state.deadline
            fold(timer_command(user_id, next_timer_run(state.deadline)))
            assert state.deadline != before, "a timer command must settle the deadline it was sent for"
        fold(raw)
    if state.deadline:
        fold(timer_command(user_id, next_timer_run(state.deadline)))
    return found


def script_for(platform: str, seed: int, lang: str = "en") -> tuple[sim.UserScript, sim.GroundTruth]:
    user = sim.SimUser(
        userId=f"u-{platform}-{lang}-{seed}",
        persona="struggler",
        tz="Europe/Berlin",
        platform=platform,
        consent={"inApp": True, "push": True, "messages": True},
        lang=lang,
    )
    truth = sim.GroundTruth()
    script = sim.UserScript(user, random.Random(seed), truth)
    script.t = T0
    return script, truth


def play_episode(kind: str, variant: str, platform: str, seed: int, lang: str = "en") -> tuple[list[dict], sim.Episode]:
    """A session: some browsing, the episode, then (unless it ended the session) the outcome and the
    session's end."""
    script, truth = script_for(platform, seed, lang)
    feature = random.Random(seed).choice(sim.FEATURES)
    events = script.session_start() + script.browse()
    body, ended = script.episode(kind, feature, variant)
    events += body
    if not ended:
        events += script.outcome(feature, helped=seed % 2 == 0) + script.session_end()
    (episode,) = truth.episodes
    return events, episode


def play_negative(kind: str, platform: str, seed: int, lang: str = "en") -> tuple[list[dict], list[dict]]:
    """A session with one hard negative; returns the session's events and the negative's own."""
    script, truth = script_for(platform, seed, lang)
    events = script.session_start() + script.browse()
    negative = script.hard_negative(kind)
    events += negative + script.browse() + script.session_end()
    assert truth.negative_kinds == Counter({kind: 1}) and truth.hard_negatives == 1
    return events, negative


def presses(events: list[dict]) -> list[dict]:
    return [e["eventData"] for e in events if e["eventData"].get("action") in ("tap", "click")]


# --- the simulator has every behaviour ------------------------------------------------------------
def test_the_simulator_plays_every_behaviour_listed_here():
    for kind, variant, platforms in POSITIVES:
        assert variant in sim.EPISODE_VARIANTS[kind], (kind, variant)
        for platform in ALL_PLATFORMS:
            assert (variant in sim.variants_for(kind, platform)) is (platform in platforms), (variant, platform)
        assert sim.EXPECTED_SIGNAL[kind] == EXPECTED[kind]
    assert set(NEGATIVES) <= set(sim.HARD_NEGATIVE_KINDS)


def test_a_demo_population_plays_every_behaviour():
    truth = sim.GroundTruth()
    for i, user in enumerate(sim.make_population(400, 7)):
        for _ in sim.user_journey(user, random.Random(i), truth, T0, 14, lambda u, f: False):
            pass
    played = Counter((e.kind, e.variant.split(".")[0]) for e in truth.episodes)
    for kind, variant, _ in POSITIVES:
        assert played[(kind, variant)] >= 5, (kind, variant, played)
    languages = Counter(e.variant.split(".")[1] for e in truth.episodes if e.kind == "help_seeking")
    assert set(languages) == set(LANGUAGES), languages
    for kind in NEGATIVES:
        assert truth.negative_kinds[kind] >= 5, (kind, truth.negative_kinds)
    assert truth.hard_negatives == sum(truth.negative_kinds.values())


# --- positive behaviours: detected, as their kind, on their feature, in their window ---------------
def assert_detected(events: list[dict], episode: sim.Episode) -> list[StruggleSignal]:
    signals = detect_all(events)
    expected = EXPECTED[episode.kind]
    assert signals, f"{episode} fired nothing"
    for s in signals:
        low, high = match_window(episode, s.signalType.value)
        assert (s.signalType.value, s.featureId) == (expected, episode.featureId), (episode, s)
        assert low <= s.detectedAt <= high, (episode, s.detectedAt - episode.end)
    records = [s.as_record() for s in signals]
    precision, recall, _, _ = match_signals(records, [episode])
    assert (precision, recall) == (1.0, 1.0)
    return signals


@pytest.mark.parametrize(
    ("kind", "variant", "platform"),
    [(k, v, p) for k, v, platforms in POSITIVES for p in platforms if k != "help_seeking"],
)
def test_each_struggle_episode_is_detected_as_its_kind(kind, variant, platform):
    for seed in SEEDS:
        events, episode = play_episode(kind, variant, platform, seed)
        assert episode.variant == variant
        assert_detected(events, episode)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("variant", ["help_screen", "help_request", "help_search"])
def test_help_seeking_is_detected_in_each_language(variant, lang):
    for platform in ALL_PLATFORMS:
        for seed in SEEDS:
            events, episode = play_episode("help_seeking", variant, platform, seed, lang)
            assert episode.variant == f"{variant}.{lang}"
            assert_detected(events, episode)


def test_abandonment_is_declared_by_the_timer_after_the_grace_or_the_timeout():
    for seed in SEEDS:
        events, episode = play_episode("abandonment", "backgrounded", "iOS", seed)
        (signal,) = assert_detected(events, episode)
        assert signal.rule == "left_mid_flow"
        assert CFG.abandonment_grace_ms <= signal.detectedAt - episode.end <= CFG.abandonment_grace_ms + MINUTE_MS
        events, episode = play_episode("abandonment", "tab_closed", "Web", seed)
        (signal,) = assert_detected(events, episode)
        assert signal.rule == "flow_timed_out"
        assert CFG.flow_timeout_ms <= signal.detectedAt - episode.end <= CFG.flow_timeout_ms + MINUTE_MS


# --- what each positive behaviour looks like (so it cannot quietly become an easier one) ------------
def test_web_users_click_and_mobile_users_tap():
    for platform, action in (("Web", "click"), ("iOS", "tap"), ("Android", "tap")):
        script, _ = script_for(platform, 1)
        script.t = T0
        assert {p["action"] for p in presses(script.flow("checkout"))} == {action}
    for seed in SEEDS:
        events, _ = play_episode("rage_tap", "web_click", "Web", seed)
        assert len(presses(events)) >= 4 and {p["action"] for p in presses(events)} == {"click"}


def test_touch_spread_taps_land_20_to_50_px_apart_on_one_target():
    for seed in SEEDS:
        script, _ = script_for("Android", seed)
        taps = presses(script.episode("rage_tap", "checkout", "touch_spread")[0])
        assert len({t["target"] for t in taps}) == 1 and len(taps) >= 3
        gaps = [math.hypot(b["x"] - a["x"], b["y"] - a["y"]) for a, b in itertools.pairwise(taps)]
        assert all(19 <= g <= 51 for g in gaps), gaps


def test_dead_element_taps_are_on_things_that_are_not_controls():
    seen = set()
    for seed in range(30):
        script, _ = script_for(("iOS", "Web")[seed % 2], seed)
        taps = presses(script.episode("rage_tap", "search", "dead_element")[0])
        seen.add(taps[0].get("targetType"))
        assert len(taps) >= 3
    assert seen == {"image", "label", None}


def test_failed_submits_carry_no_attempt_count_and_fail_with_user_errors():
    for seed in SEEDS:
        script, _ = script_for("iOS", seed)
        events, _ = script.episode("repeated_attempts", "payment", "failed_submits")
        kinds = [(e["eventType"], e["eventData"].get("action") or e["eventData"].get("errorType")) for e in events]
        assert len(kinds) >= 4 and kinds[0] == ("feature_interaction", "submit")
        assert all("attemptCount" not in e["eventData"] for e in events)
        assert {k for t, k in kinds if t == "error"} <= set(sim.ATTEMPT_ERRORS)


def test_crashes_of_every_platform_are_followed_by_a_relaunch_in_a_new_session():
    seen = set()
    for seed in range(40):
        platform = ALL_PLATFORMS[seed % 3]
        script, _ = script_for(platform, seed)
        script.session_start()
        before = script.session
        events, ended = script.episode("error_pattern", "upload", "crash_relaunch")
        crash = events[1]
        seen.add((platform, crash["eventData"].get("action") or crash["eventData"].get("errorType")))
        assert not ended and crash["sessionId"] == before
        relaunch = events[2]
        assert relaunch["eventData"]["action"] == "session_start" and relaunch["sessionId"] != before
    assert seen == {(p, name) for p, crashes in sim.CRASHES.items() for _, name, _ in crashes}
    assert {"fatal_exception", "app_not_responding", "white_screen", "crash"} <= {name for _, name in seen}


def test_loops_circle_two_and_three_screens():
    for seed in SEEDS:
        script, _ = script_for("iOS", seed)
        two = [e["eventData"]["screen"] for e in script.episode("screen_loop", "cart", "loop_2_screens")[0]]
        three = [e["eventData"]["screen"] for e in script.episode("screen_loop", "cart", "loop_3_screens")[0]]
        assert len(set(two)) == 2 and len(two) >= 5 and all(a != b for a, b in itertools.pairwise(two))
        assert len(set(three)) == 3 and three == three[:3] * 2


def test_a_closed_tab_sends_nothing_and_a_backgrounded_app_never_returns():
    for seed in SEEDS:
        script, _ = script_for("Web", seed)
        events, ended = script.episode("abandonment", "booking", "tab_closed")
        assert ended and events[0]["eventData"]["action"] == "start" and events[-1]["eventType"] != "app_lifecycle"
        script, _ = script_for("Android", seed)
        events, ended = script.episode("abandonment", "booking", "backgrounded")
        assert ended and events[-1]["eventData"]["action"] == "background"


# --- hard negatives: nothing fires ------------------------------------------------------------------
@pytest.mark.parametrize("platform", ALL_PLATFORMS)
@pytest.mark.parametrize("kind", NEGATIVES)
def test_hard_negatives_fire_nothing(kind, platform):
    for seed in SEEDS:
        for lang in LANGUAGES if kind == "help_false_friend" else ("en",):
            events, _ = play_negative(kind, platform, seed, lang)
            assert detect_all(events) == [], (kind, platform, seed)


def test_legit_repeated_presses_are_the_controls_people_press_again_and_again():
    shapes: dict[str, set] = {kind: set() for kind in ("toggle", "stepper", "carousel", "keypad", "story")}
    for seed in range(60):
        platform = ALL_PLATFORMS[seed % 3]
        for kind in shapes:
            _, negative = play_negative(kind, platform, seed)
            pressed = presses(negative)
            assert len(pressed) >= 4, (kind, pressed)
            gaps = [b["timestamp"] - a["timestamp"] for a, b in itertools.pairwise(negative)]
            assert max(gaps) <= CFG.rage_tap_interval_ms, (kind, gaps)  # as quick as a rage tap
            first = pressed[0]
            shapes[kind].add((first.get("targetType"), first.get("target") if kind != "keypad" else len(first["target"])))
            if kind == "keypad":
                assert any(a["target"] == b["target"] for a, b in itertools.pairwise(pressed)), pressed
    types = {kind: {t for t, _ in shape} for kind, shape in shapes.items()}
    assert {"UISwitch", "SwitchCompat", "input[type=checkbox]"} <= types["toggle"]
    assert ("button", "qty_plus") in shapes["stepper"] and {"UIStepper", "NumberPicker"} <= types["stepper"]
    assert ("button", "carousel_next") in shapes["carousel"] and {"UIPageControl", "ViewPager2"} <= types["carousel"]
    assert ("story", "story_viewer") in shapes["story"] and (None, None) in shapes["story"]
    assert {target_len for _, target_len in shapes["keypad"]} == {1}


def test_a_brief_exit_is_10_to_60_seconds_away_mid_flow_then_complete():
    for seed in SEEDS:
        for platform in ALL_PLATFORMS:
            _, negative = play_negative("brief_exit", platform, seed)
            actions = [e["eventData"].get("action") for e in negative]
            assert actions[0] == "start" and actions[-1] == "complete"
            away = next(i for i, e in enumerate(negative) if e["eventType"] == "app_lifecycle")
            assert 10_000 <= negative[away + 1]["timestamp"] - negative[away]["timestamp"] <= 60_000


def test_one_retry_is_one_failed_submit_then_success():
    for seed in SEEDS:
        _, negative = play_negative("one_retry", "iOS", seed)
        kinds = [e["eventData"].get("action") or e["eventType"] for e in negative]
        assert kinds == ["submit", "error", "submit", "complete"]


def test_the_older_negatives_are_still_what_they_were():
    for seed in SEEDS:
        _, negative = play_negative("double_tap", "iOS", seed)
        assert [p["target"] for p in presses(negative)] == ["like", "like"]
        _, negative = play_negative("revisit", "Web", seed)
        assert len({e["eventData"]["screen"] for e in negative}) == 1 and len(negative) >= 2
        _, negative = play_negative("single_error", "Android", seed)
        assert [e["eventType"] for e in negative].count("error") == 1


def test_help_false_friends_include_the_usual_suspects():
    seen = set()
    for seed in range(80):
        _, negative = play_negative("help_false_friend", "Web", seed)
        data = negative[0]["eventData"]
        seen.add(data.get("screen") or data.get("query"))
    assert {"HelperBot", "ChatScreen", "Contacts", "how to train your dragon"} <= seen


# --- the whole demo population, through detection and the evaluation ---------------------------------
def test_a_population_is_detected_as_labelled():
    truth = sim.GroundTruth()
    records = []
    for i, user in enumerate(sim.make_population(150, 11)):
        events = [
            e for burst in sim.user_journey(user, random.Random(i), truth, T0, 14, lambda u, f: False) for e in burst.events
        ]
        records += [s.as_record() for s in detect_all(events)]
    precision, recall, false_positives, missed = match_signals(records, truth.episodes)
    assert precision >= 0.98, false_positives[:5]
    assert recall >= 0.98, missed[:5]


# --- the evaluation's windows ----------------------------------------------------------------------
def test_an_abandonment_is_matched_up_to_15_minutes_after_its_end_and_only_by_an_abandonment():
    episode = sim.Episode("u1", "booking", "abandonment", T0, T0 + 30_000, "backgrounded")
    rage = sim.Episode("u1", "checkout", "rage_tap", T0, T0 + 2_000, "touch_close")

    def signal(kind, feature, at):
        return {"userId": "u1", "featureId": feature, "signalType": kind, "detectedAt": at}

    assert ABANDONMENT_MATCH_AFTER_MS == 15 * MINUTE_MS
    late = signal("abandonment", "booking", episode.end + 15 * MINUTE_MS)
    too_late = signal("abandonment", "booking", episode.end + 15 * MINUTE_MS + 1)
    other_kind = signal("rage_tap", "booking", episode.end + 5 * MINUTE_MS)
    assert match_signals([late], [episode])[:2] == (1.0, 1.0)
    assert match_signals([too_late], [episode])[:2] == (0.0, 0.0)
    assert match_signals([other_kind], [episode])[:2] == (0.0, 0.0)
    # other episodes keep their slack, whatever the signal's type
    assert match_signals([signal("rage_tap", "checkout", rage.end + MATCH_AFTER_MS)], [rage])[:2] == (1.0, 1.0)
    assert match_signals([signal("abandonment", "checkout", rage.end + MATCH_AFTER_MS + 1)], [rage])[:2] == (0.0, 0.0)
