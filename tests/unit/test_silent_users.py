"""Silent users (issue 13): exit risk re-scored while a user stays away, re-engagement offered through
the policy, and measured against the holdout. The deadline timer wakes the user; the stream
processor, the only writer, re-scores them at the command's time."""

from __future__ import annotations

import json

from journey.adapters.aws.codecs.user_state import state_from_item, state_item
from journey.app.quiet import QUIET_FEATURE, next_quiet_check
from journey.app.stream_batch import process_batch
from journey.detection.signals import SignalType
from journey.interventions.catalog import DEFAULT_CATALOG
from journey.interventions.policy import in_holdout
from journey.risk.features import feature_names
from journey.risk.model import ExitRiskModel
from journey.settings import PolicySettings, RiskSettings, Settings
from localrt.memory_ports import memory_aws
from tests.builders import T0, event, timer
from tests.unit.test_commands import USER, records

DAY = 86_400_000
NOON = T0 + 12 * 3_600_000  # T0 is midnight UTC: act at noon, outside quiet hours
RISK = RiskSettings(quiet_after_ms=(3 * DAY, 7 * DAY))
SETTINGS = Settings(risk=RISK, policy=PolicySettings(holdout_percent=0))


def silence_model(days: float = 2.0) -> ExitRiskModel:
    """One tree: away more than ``days`` -> log-odds +2 (88%), else -2 (12%); identity calibration."""
    inputs = feature_names(())
    index = inputs.index("days_since_last_activity")
    return ExitRiskModel.from_dict(
        {
            "format": "journey-exit-risk-gbt/1",
            "version": "v-test",
            "createdAt": "2026-11-24T00:00:00Z",
            "inputs": list(inputs),
            "vocabulary": [],
            "encoding": {},
            "baseScore": 0.0,
            "trees": [[[index, days, 1, 1, 2, 0.0], [-1, 0, 0, 0, 0, -2.0], [-1, 0, 0, 0, 0, 2.0]]],
            "calibration": {"x": [0.0, 1.0], "y": [0.0, 1.0]},
            "metrics": {},
        }
    )


def run(aws, items, settings=SETTINGS, model=None):
    return process_batch(items, aws.ports, settings, DEFAULT_CATALOG, "shardId-000000000000/batch", model=model)


def pushable(t=NOON, user=USER):
    """A session start of a user who gave push consent and registered a device."""
    raw = event("app_lifecycle", user, t, action="session_start")
    raw["deviceInfo"] = {"platform": "Android", "timezone": "UTC", "pushEndpoint": "arn:aws:sns:us-east-1:1:endpoint/GCM/a/1"}
    raw["userContext"] = {"consent": {"inApp": True, "push": True, "messages": False}}
    return raw


def state(aws, user=USER):
    return state_from_item(aws.dynamodb.tables["UserState"][(user,)])


def test_the_thresholds_are_counted_from_the_last_activity_and_run_out():
    assert next_quiet_check(T0, T0, (3 * DAY, 7 * DAY)) == T0 + 3 * DAY
    assert next_quiet_check(T0, T0 + 3 * DAY, (3 * DAY, 7 * DAY)) == T0 + 7 * DAY
    assert next_quiet_check(T0, T0 + 7 * DAY, (3 * DAY, 7 * DAY)) == 0
    assert next_quiet_check(0, T0, (3 * DAY,)) == 0  # never active: nothing to count from


def test_activity_puts_the_user_in_the_timers_index_at_the_first_threshold():
    aws = memory_aws()
    run(aws, records(pushable()))
    user = state(aws)
    assert user.quiet_due == NOON + 3 * DAY
    assert int(state_item(user, 0)["dueAt"]["N"]) == NOON + 3 * DAY


def test_a_silent_user_is_rescored_at_the_timers_time_and_offered_re_engagement_by_push():
    aws = memory_aws()
    model = silence_model()
    run(aws, records(pushable()), model=model)
    assert state(aws).risk_score == 12  # active now: 12% by the model
    result = run(aws, records(timer(NOON + 3 * DAY, user=USER)), model=model)
    user = state(aws)
    assert result.silent_rescored == 1
    assert (user.risk_score, user.risk_band, user.risk_model) == (88, "HIGH", "v-test")
    assert user.quiet_due == NOON + 7 * DAY  # the next threshold
    [signal] = result.signals
    assert (signal.signalType, signal.featureId, signal.rule, signal.outcome) == (
        SignalType.GONE_QUIET,
        QUIET_FEATURE,
        "silent_3d",
        "sent",
    )
    [decision] = result.decisions
    assert (decision.interventionType, decision.channel.value) == ("re_engagement", "push")
    [message] = [json.loads(m["Message"]) for m in aws.sns.published if "MessageAttributes" in m]  # the topic's fan-out
    assert message["featureId"] == QUIET_FEATURE
    assert any(m.get("TargetArn", "").endswith("endpoint/GCM/a/1") for m in aws.sns.published)  # and the device's push


def test_below_the_re_engagement_score_the_user_is_rescored_and_left_alone():
    aws = memory_aws()
    model = silence_model(days=5.0)  # three days away is not enough for this model
    run(aws, records(pushable()), model=model)
    result = run(aws, records(timer(NOON + 3 * DAY, user=USER)), model=model)
    assert result.silent_rescored == 1 and not result.signals and not result.decisions
    assert state(aws).risk_score == 12


def test_with_the_points_model_silence_raises_days_since_last_login():
    aws = memory_aws()
    run(aws, records(pushable()))
    before = state(aws).risk_score
    run(aws, records(timer(NOON + 7 * DAY, user=USER)))
    after = state(aws)
    assert after.risk_model == "" and after.risk_score > before


def test_a_user_who_came_back_is_not_rescored_by_an_old_command():
    aws = memory_aws()
    model = silence_model()
    run(aws, records(pushable()), model=model)
    run(aws, records(event("screen_view", USER, NOON + 2 * DAY, session="s2", screen="home")), model=model)
    result = run(aws, records(timer(NOON + 3 * DAY, user=USER)), model=model)  # found due before the user came back
    assert result.silent_rescored == 0 and not result.signals
    assert state(aws).quiet_due == NOON + 5 * DAY


def test_coming_back_resolves_the_re_engagement_episode_for_the_uplift():
    aws = memory_aws()
    model = silence_model()
    run(aws, records(pushable()), model=model)
    run(aws, records(timer(NOON + 3 * DAY, user=USER)), model=model)
    result = run(aws, records(event("screen_view", USER, NOON + 4 * DAY, session="s2", screen="home")), model=model)
    outcomes = [v for (u, k), v in aws.dynamodb.tables["Interventions"].items() if u == USER and k.startswith("outcome#")]
    assert QUIET_FEATURE not in state(aws).open_episodes
    assert result.applied == 1 and outcomes, "the return is recorded as the re-engagement's outcome"


def test_re_engagement_goes_through_the_policy_no_push_consent_no_push():
    aws = memory_aws()
    model = silence_model()
    start = pushable()
    start["userContext"] = {"consent": {"inApp": True, "push": False, "messages": False}}
    run(aws, records(start), model=model)
    result = run(aws, records(timer(NOON + 3 * DAY, user=USER)), model=model)
    [signal] = result.signals
    assert signal.outcome.startswith("suppressed:") and "no_push_consent" in signal.outcome
    assert not [m for m in aws.sns.published if "Message" in m]


def test_a_held_out_user_is_measured_not_messaged():
    users = [f"p-user-{n}" for n in range(200)]
    held = next(u for u in users if in_holdout(u, SignalType.GONE_QUIET, 10.0, "journey-holdout-v1"))
    aws = memory_aws()
    model = silence_model()
    settings = Settings(risk=RISK)  # the default 10% holdout
    run(aws, records(pushable(user=held), key=held), settings, model)
    result = run(aws, records(timer(NOON + 3 * DAY, user=held), key=held), settings, model)
    [decision] = result.decisions
    assert decision.outcome.value == "held_out" and not [m for m in aws.sns.published if "Message" in m]


def test_quiet_hours_hold_the_re_engagement_until_later():
    aws = memory_aws()
    model = silence_model()
    late = T0 + 23 * 3_600_000  # 23:00 UTC, in quiet hours
    run(aws, records(pushable(t=late)), model=model)
    result = run(aws, records(timer(late + 3 * DAY, user=USER)), model=model)
    [signal] = result.signals
    assert signal.outcome.startswith("suppressed:") and "quiet_hours" in signal.outcome
    assert state(aws).quiet_due == late + 3 * DAY + 2 * 3_600_000  # tried again after two hours


def test_an_erased_user_is_never_woken():
    from journey.app.commands import entomb
    from journey.users.state import UserState

    user = UserState(userId=USER, last_event_at=T0, quiet_due=T0 + 3 * DAY)
    entomb(user, T0 + DAY)
    assert user.due_at() == 0
