"""Given a user's events, expect these struggle signals (and none for the known false positives)."""

from journey.detection.rules import detect
from journey.detection.signals import Severity, SignalType
from journey.settings import DetectionSettings
from journey.users.profile import update_profile
from journey.users.state import UserState
from tests.builders import T0, canonical, event, tap, timer

CFG = DetectionSettings()


def run(*raw_events, cfg=CFG, state=None):
    """Each event through the profile, then detection, as the stream processor applies them."""
    state = state or UserState(userId="u1")
    signals = []
    for raw in raw_events:
        e = canonical(raw)
        update_profile(e, state)
        signals.extend(detect(e, state, cfg))
    return signals


def types(signals):
    return [s.signalType for s in signals]


# --- rage taps -------------------------------------------------------------------------------
def test_three_quick_close_taps_are_a_rage_tap():
    signals = run(tap(T0), tap(T0 + 300, x=110), tap(T0 + 600, y=215))
    assert types(signals) == [SignalType.RAGE_TAP]
    assert signals[0].featureId == "checkout"


def test_a_fast_double_tap_is_not_rage():
    assert run(tap(T0), tap(T0 + 150)) == []


def test_taps_more_than_a_second_apart_are_not_rage():
    assert run(tap(T0), tap(T0 + 1100), tap(T0 + 2200)) == []


def test_taps_without_a_target_far_apart_on_screen_are_not_rage():
    assert run(tap(T0, target=None), tap(T0 + 200, x=200, target=None), tap(T0 + 400, x=300, target=None)) == []


def test_toggles_steppers_and_text_selection_are_excluded():
    for kind in ("toggle", "stepper", "text_selection"):
        taps = [tap(T0 + i * 200, target="t", targetType=kind) for i in range(5)]
        assert run(*taps) == [], kind


def test_rage_tap_count_is_configurable():
    taps = [tap(T0), tap(T0 + 300), tap(T0 + 600)]
    assert run(*taps, cfg=DetectionSettings(rage_tap_count=4)) == []
    assert types(run(*taps, tap(T0 + 900), cfg=DetectionSettings(rage_tap_count=4))) == [SignalType.RAGE_TAP]


# --- repeated attempts -----------------------------------------------------------------------
def test_third_attempt_is_flagged_and_escalates_with_more_attempts():
    signals = run(*[event(feature="upload", action="submit", attemptCount=n, t=T0 + n * 5000) for n in range(1, 6)])
    assert set(types(signals)) == {SignalType.REPEATED_ATTEMPTS}
    assert signals[0].triggerEventId == signals[0].triggerEventId and signals[0].context["failedAttempts"] == 2
    # one episode: a new signal only when the news gets worse (four failed attempts are high)
    assert [s.severity for s in signals] == [Severity.MEDIUM, Severity.HIGH]


def test_the_same_episode_is_not_reported_twice():
    signals = run(*[event(feature="upload", attemptCount=3, t=T0 + i * 1000) for i in range(5)])
    assert len(signals) == 1


# --- error patterns ---------------------------------------------------------------------------
def test_repeated_errors_on_one_feature():
    signals = run(event("error", feature="upload", errorType="500", t=T0), event("error", feature="upload", t=T0 + 20_000))
    assert types(signals) == [SignalType.ERROR_PATTERN]


def test_errors_on_different_features_or_far_apart_are_not_a_pattern():
    assert run(event("error", feature="upload", t=T0), event("error", feature="search", t=T0 + 1000)) == []
    assert run(event("error", feature="upload", t=T0), event("error", feature="upload", t=T0 + 61_000)) == []


def test_error_then_background_within_ten_seconds_is_high():
    signals = run(event("error", feature="upload", t=T0), event("app_lifecycle", action="background", t=T0 + 4000))
    assert types(signals) == [SignalType.ERROR_PATTERN]
    assert signals[0].severity is Severity.HIGH and signals[0].rule == "error_then_background"


def test_background_long_after_an_error_is_not_flagged():
    assert run(event("error", feature="upload", t=T0), event("app_lifecycle", action="background", t=T0 + 11_000)) == []


# --- screen loops ------------------------------------------------------------------------------
def test_two_screens_back_and_forth_five_times_in_twenty_five_seconds():
    views = [event("screen_view", screen=("plans", "pricing")[i % 2], t=T0 + i * 5000) for i in range(5)]
    assert types(run(*views)) == [SignalType.SCREEN_LOOP]


def test_back_and_forth_spread_out_is_not_a_loop():
    views = [event("screen_view", screen=("plans", "pricing")[i % 2], t=T0 + i * 12_000) for i in range(5)]
    assert run(*views) == []


def test_one_screen_viewed_again_and_again_is_not_a_circle():
    views = [event("screen_view", screen="plans", t=T0 + i * 2000) for i in range(5)]
    assert run(*views) == []


# --- abandonment --------------------------------------------------------------------------------
def test_backgrounding_mid_flow_is_abandonment_once_the_grace_period_is_over():
    state = UserState(userId="u1")
    left = run(
        event(feature="booking", action="start", t=T0), event("app_lifecycle", action="background", t=T0 + 30_000), state=state
    )
    due = T0 + 30_000 + CFG.abandonment_grace_ms
    assert left == [] and state.deadline == -(-due // 60_000) * 60_000  # rounded up to the timer's minute
    signals = run(timer(state.deadline), state=state)
    assert types(signals) == [SignalType.ABANDONMENT]
    assert signals[0].rule == "left_mid_flow" and state.deadline == 0 and not state.open_flows


def test_a_completed_flow_is_not_abandoned():
    state = UserState(userId="u1")
    for raw in (
        event(feature="booking", action="start", t=T0),
        event(feature="booking", action="complete", t=T0 + 9000),
        event("app_lifecycle", action="background", t=T0 + 20_000),
    ):
        e = canonical(raw)
        update_profile(e, state)
        assert detect(e, state, CFG) == []


def test_a_flow_left_open_past_the_timeout_is_abandoned_when_another_starts():
    cfg = DetectionSettings(flow_timeout_ms=60_000)
    signals = run(
        event(feature="booking", action="start", t=T0), event(feature="search", action="start", t=T0 + 120_000), cfg=cfg
    )
    assert types(signals) == [SignalType.ABANDONMENT] and signals[0].featureId == "booking"


# --- help seeking -------------------------------------------------------------------------------
def test_help_screen_after_a_feature_names_that_feature():
    signals = run(tap(T0, feature="payment"), event("screen_view", screen="Help Center", t=T0 + 4000))
    assert types(signals) == [SignalType.HELP_SEEKING] and signals[0].featureId == "payment"


def test_help_request_and_help_search():
    assert types(run(event("help_request", feature="upload", t=T0))) == [SignalType.HELP_SEEKING]
    assert types(run(event("search", query="How do I export?", t=T0))) == [SignalType.HELP_SEEKING]
    assert run(event("search", query="running shoes", t=T0)) == []


# --- severity -------------------------------------------------------------------------------------
def test_critical_features_raise_severity():
    plain = run(tap(T0, feature="profile"), tap(T0 + 200, feature="profile"), tap(T0 + 400, feature="profile"))
    critical = run(tap(T0, feature="payment"), tap(T0 + 200, feature="payment"), tap(T0 + 400, feature="payment"))
    assert critical[0].severity.rank == plain[0].severity.rank + 1


def test_client_reported_struggle_is_typed():
    signals = run(event("struggle_signal", feature="upload", action="rage_tap", t=T0))
    assert types(signals) == [SignalType.RAGE_TAP]


def test_signal_ids_are_deterministic():
    first = run(tap(T0), tap(T0 + 300), tap(T0 + 600))
    assert first[0].signalId == first[0].signalId and first[0].signalId.startswith("s-")
