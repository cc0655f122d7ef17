"""Intervention policy: invariants over many generated situations, and the rules one by one."""

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from journey.detection.signals import Severity, SignalType, StruggleSignal
from journey.interventions.catalog import DEFAULT_CATALOG, Channel
from journey.interventions.policy import Outcome, decide, in_holdout, in_quiet_hours, local_hour
from journey.settings import PolicySettings
from journey.users.state import UserState

T0 = 1_793_491_200_000
ZONES = [
    "UTC",
    "America/New_York",
    "America/Los_Angeles",
    "Europe/Berlin",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "UTC+05:45",
    "UTC-09:30",
    "",
]
NO_HOLDOUT = PolicySettings(holdout_percent=0)


def signal(user="u1", feature="upload", kind=SignalType.ERROR_PATTERN, severity=Severity.HIGH, t=T0, trigger="e1"):
    return StruggleSignal(user, feature, kind, severity, t, trigger, "test")


def active_user(user="u1", t=T0, tz="UTC", consent=(True, True, True), push="arn:aws:sns:us-east-1:1:endpoint/GCM/app/x"):
    return UserState(userId=user, last_event_at=t, timezone=tz, consent=list(consent), push_endpoint=push)


def test_sends_on_the_first_permitted_channel_with_provenance():
    d = decide(signal(), active_user(), NO_HOLDOUT, DEFAULT_CATALOG, T0)
    assert d.outcome is Outcome.SEND and d.channel is Channel.IN_APP
    assert d.decidedBy == "rule:error_recovery" and d.reason == "policy_passed" and d.decidedAt == T0
    assert d.interventionId == decide(signal(), active_user(), NO_HOLDOUT, DEFAULT_CATALOG, T0).interventionId


def test_low_severity_gets_no_decision():
    assert decide(signal(severity=Severity.LOW), active_user(), NO_HOLDOUT, DEFAULT_CATALOG, T0) is None


def test_feature_cooldown():
    state = active_user()
    decide(signal(trigger="a"), state, NO_HOLDOUT, DEFAULT_CATALOG, T0)
    again = decide(signal(trigger="b", t=T0 + 60_000), state, NO_HOLDOUT, DEFAULT_CATALOG, T0 + 60_000)
    assert again.outcome is Outcome.SUPPRESSED and again.reason == "feature_cooldown"
    other = decide(signal(trigger="c", feature="search", t=T0 + 60_000), state, NO_HOLDOUT, DEFAULT_CATALOG, T0 + 60_000)
    assert other.outcome is Outcome.SEND


def test_no_consent_means_no_send():
    d = decide(signal(), active_user(consent=(False, False, False)), NO_HOLDOUT, DEFAULT_CATALOG, T0)
    assert d.outcome is Outcome.SUPPRESSED and "consent" in d.reason


def test_abandonment_prefers_push_but_not_in_quiet_hours():
    night = int(datetime(2026, 11, 2, 3, 0, tzinfo=UTC).timestamp() * 1000)
    day = int(datetime(2026, 11, 2, 12, 0, tzinfo=UTC).timestamp() * 1000)
    s = lambda t: signal(kind=SignalType.ABANDONMENT, t=t)  # noqa: E731
    assert decide(s(day), active_user(t=day), NO_HOLDOUT, DEFAULT_CATALOG, day).channel is Channel.PUSH
    assert decide(s(night), active_user(t=night), NO_HOLDOUT, DEFAULT_CATALOG, night).channel is Channel.IN_APP


def test_holdout_is_deterministic_and_near_its_share():
    members = [in_holdout(f"u{i}", SignalType.RAGE_TAP, 10, "salt") for i in range(20_000)]
    assert members == [in_holdout(f"u{i}", SignalType.RAGE_TAP, 10, "salt") for i in range(20_000)]
    assert 0.09 < sum(members) / len(members) < 0.11
    assert in_holdout("u1", SignalType.RAGE_TAP, 0, "s") is False and in_holdout("u1", SignalType.RAGE_TAP, 100, "s") is True


def test_held_out_decisions_are_recorded_never_sent_and_use_the_cap_as_the_send_they_stand_for():
    cfg = PolicySettings(holdout_percent=100)
    state = active_user()
    d = decide(signal(), state, cfg, DEFAULT_CATALOG, T0)
    assert d.outcome is Outcome.HELD_OUT and d.reason == "holdout" and state.send_times == [T0]
    assert state.open_episodes["upload"][4] == 1


def test_local_hour_handles_named_and_fixed_offset_zones():
    noon_utc = int(datetime(2026, 11, 2, 12, 0, tzinfo=UTC).timestamp() * 1000)
    assert local_hour(noon_utc, "Asia/Tokyo") == 21
    assert local_hour(noon_utc, "UTC-03:00") == 9
    assert local_hour(noon_utc, "Not/AZone") == 12  # unknown zones fall back to UTC


# --- invariants -----------------------------------------------------------------------------------
signal_kinds = st.sampled_from(list(SignalType))
# a struggle reaches a user in the app; a re-engagement (gone_quiet) never goes in-app (tests/unit/test_silent_users.py)
struggle_kinds = st.sampled_from([k for k in SignalType if k is not SignalType.GONE_QUIET])
severities = st.sampled_from([Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL])


@settings(max_examples=200, deadline=None)
@given(
    cap=st.integers(0, 5),
    steps=st.lists(
        st.tuples(st.integers(0, 3_600_000), signal_kinds, st.sampled_from(["a", "b", "c", "d", "e"]), severities),
        min_size=1,
        max_size=40,
    ),
    holdout=st.sampled_from([0.0, 10.0, 50.0]),
)
def test_the_frequency_cap_is_never_exceeded_across_channels(cap, steps, holdout):
    cfg = PolicySettings(frequency_cap=cap, feature_cooldown_ms=0, holdout_percent=holdout, frequency_window_ms=86_400_000)
    state = active_user()
    now, sends = T0, []
    for n, (gap, kind, feature, severity) in enumerate(steps):
        now += gap
        state.last_event_at = now
        d = decide(
            signal(feature=feature, kind=kind, severity=severity, t=now, trigger=f"e{n}"), state, cfg, DEFAULT_CATALOG, now
        )
        if d is not None and d.outcome is Outcome.SEND:
            sends.append(now)
            assert len([t for t in sends if now - t < cfg.frequency_window_ms]) <= cap


@settings(max_examples=200, deadline=None)
@given(
    users=st.lists(st.text("abcdefghijklmnop0123456789", min_size=1, max_size=12), min_size=1, max_size=30, unique=True),
    kind=struggle_kinds,
)
def test_held_out_users_never_receive_a_send(users, kind):
    cfg = PolicySettings(holdout_percent=30, feature_cooldown_ms=0)
    for user in users:
        d = decide(signal(user=user, kind=kind), active_user(user=user), cfg, DEFAULT_CATALOG, T0)
        if in_holdout(user, kind, cfg.holdout_percent, cfg.holdout_salt):
            assert d.outcome is not Outcome.SEND
        else:
            assert d.outcome is Outcome.SEND


@settings(max_examples=300, deadline=None)
@given(zone=st.sampled_from(ZONES), minute=st.integers(0, 7 * 24 * 60), kind=signal_kinds)
def test_quiet_hours_hold_in_every_time_zone(zone, minute, kind):
    cfg = PolicySettings(holdout_percent=0)
    now = T0 + minute * 60_000
    d = decide(signal(kind=kind, t=now), active_user(t=now, tz=zone, consent=(False, True, True)), cfg, DEFAULT_CATALOG, now)
    if in_quiet_hours(now, zone, cfg):
        assert d is None or d.outcome is not Outcome.SEND or d.channel is Channel.IN_APP
        assert 0 <= (local_hour(now, zone) - cfg.quiet_hours_start) % 24 < (cfg.quiet_hours_end - cfg.quiet_hours_start) % 24


def test_a_suppression_names_each_blocker_once():
    from journey.interventions.catalog import CatalogEntry

    catalog = (CatalogEntry("nudge", SignalType.ERROR_PATTERN, "*", (Channel.PUSH, Channel.SNS), "Help with {feature}."),)
    night = int(datetime(2026, 11, 2, 3, 0, tzinfo=UTC).timestamp() * 1000)
    d = decide(signal(t=night), active_user(t=night), NO_HOLDOUT, catalog, night)
    assert d.outcome is Outcome.SUPPRESSED and d.reason == "quiet_hours"


def test_held_out_decisions_count_toward_the_cap_like_the_sends_they_stand_for():
    # found by review: held-out users were never capped, so the holdout arm over-represented heavy strugglers
    def outcomes(percent: float) -> list[str]:
        state = active_user(t=T0 + 12 * 3_600_000)  # noon: no quiet hours
        policy = PolicySettings(holdout_percent=percent, feature_cooldown_ms=0)
        found = []
        for n in range(8):
            at = T0 + 12 * 3_600_000 + n * 60_000
            made = decide(signal(feature=f"f{n}", t=at, trigger=f"e{n}"), state, policy, DEFAULT_CATALOG, at)
            found.append(made.reason if made.outcome is Outcome.SUPPRESSED else made.outcome.value)
        return found

    assert outcomes(100.0) == ["held_out"] * 3 + ["frequency_cap"] * 5
    assert outcomes(0.0) == ["sent"] * 3 + ["frequency_cap"] * 5
