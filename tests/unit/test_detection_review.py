"""Defects a review of the detection rewrite found, each pinned by a test that failed before its fix."""

import json

import pytest
from pydantic import ValidationError

from journey.detection.rules import detect
from journey.detection.signals import SignalType
from journey.events.decoding import decode_event
from journey.events.normalizers import normalize_firebase
from journey.events.vocabulary import canonical_action
from journey.settings import DetectionSettings, Settings
from journey.users.profile import update_profile
from journey.users.state import UserState
from tests.builders import T0, canonical, event, timer
from tests.unit.test_detection import run, types

MINUTE = 60_000


def test_a_slow_device_clock_neither_shortens_the_grace_nor_times_out_an_active_flow():
    """Deadlines run on the arrival clock, as the timer does: a phone 12 minutes slow, in the flow."""
    skew = 12 * MINUTE
    state = UserState(userId="u1")
    found = []
    for raw in [event(feature="checkout", action="start", t=T0 - skew)] + [
        event(feature="checkout", action="step", t=T0 - skew + n * 30_000) for n in range(1, 5)
    ]:
        e = canonical(raw)
        update_profile(e, state)
        found += detect(e, state, DetectionSettings(), arrived_at=e.timestamp + skew)
    arrival_now = T0 + 2 * MINUTE  # the timer runs: by the real clock the user was active seconds ago
    if state.deadline <= arrival_now:
        found += detect(canonical(timer(state.deadline)), state, DetectionSettings(), arrived_at=arrival_now)
    assert found == [] and state.open_flows  # still in the checkout


def test_firebase_ecommerce_events_name_one_flow():
    def row(name, t):
        return {
            "event_name": name,
            "event_timestamp": str(t * 1000),
            "user_pseudo_id": "p1",
            "event_params": [],
            "platform": "WEB",
        }

    events = [
        normalize_firebase(row(name, T0 + i * 20_000))
        for i, name in enumerate(("begin_checkout", "add_payment_info", "purchase"))
    ]
    assert {e["eventData"]["feature"] for e in events} == {"checkout"}
    assert [e["eventData"]["action"] for e in events] == ["start", "step", "complete"]
    state = UserState(userId="p1")
    assert run(*[{**e, "userId": "u1"} for e in events], timer(T0 + 30 * MINUTE), state=state) == []


def test_words_that_are_not_what_they_look_like():
    assert canonical_action("Done") != "complete"  # a keyboard's Done key
    assert canonical_action("pointerup") != "click"  # browsers send a click after it: two physical clicks are not four
    assert canonical_action("close") != "terminate"  # closing a dialog is not closing the app


def test_a_dead_close_button_and_an_untyped_input_are_rage():
    for target, target_type in (("X", "button"), ("checkout_submit", "INPUT")):
        presses = [
            event(feature="checkout", action="click", target=target, targetType=target_type, x=10, y=10, t=T0 + i * 400)
            for i in range(4)
        ]
        assert types(run(*presses)) == [SignalType.RAGE_TAP], target
    keypad = [event(feature="pin", action="tap", target="7", targetType="button", x=10, y=10, t=T0 + i * 400) for i in range(4)]
    assert run(*keypad) == []


def test_an_app_cannot_send_the_timers_command():
    forged = event("timer", action="deadline", t=T0)
    rejected = decode_event(json.dumps(forged).encode(), 65_536)
    assert "deadline timer" in str(rejected)
    assert canonical(timer(T0)).eventType.value == "timer"


def test_a_removed_or_misspelled_detection_setting_is_an_error(monkeypatch):
    with pytest.raises(ValidationError):
        DetectionSettings(screen_loop_visits=3)
    monkeypatch.setenv("JOURNEY_DETECTION__HELP_SCREENS", '["help"]')
    with pytest.raises(ValidationError):
        Settings()
