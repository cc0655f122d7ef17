"""Hard cases go to the agent, and the agent cannot get around the policy (issue 12): the stream
processor holds the rules' decision, folds the agent's ``schedule`` through the same cap, consent,
quiet hours and holdout as every decision, and lets the rules decide when no answer comes."""

import json

import pytest

from journey.agent.escalation import Escalation, escalation_id
from journey.app.stream_batch import process_batch
from journey.events.commands import escalation_command, schedule_command
from journey.interventions.catalog import DEFAULT_CATALOG
from journey.settings import AgentSettings, PolicySettings, Settings
from localrt.memory_ports import memory_aws
from tests.builders import T0, tap, timer
from tests.unit.test_commands import USER, records

AGENT = AgentSettings(mode="agentcore", high_value_segments=("new_user", "active_user"))
# no cooldown: the second rage tap on checkout (critical) is decided, and escalated
SETTINGS = Settings(policy=PolicySettings(holdout_percent=0, feature_cooldown_ms=0), agent=AGENT)


def run(aws, items, settings=SETTINGS):
    return process_batch(items, aws.ports, settings, DEFAULT_CATALOG, "shardId-000000000000/batch")


def raging(t=T0, user=USER):
    """Taps on checkout's pay button for 3 s: a high rage tap (sent by the rules), then a critical one."""
    return [{**tap(t + dt, user=user), "tenantId": "demo"} for dt in range(0, 3000, 150)]


def decisions(aws, user=USER):
    items = [v for (u, k), v in aws.dynamodb.tables["Interventions"].items() if u == user and k.startswith("i-")]
    return {item["interventionId"]["S"]: {a: next(iter(b.values())) for a, b in item.items()} for item in items}


def escalation_item(aws, eid, user=USER):
    item = aws.dynamodb.tables["Interventions"][(user, f"escalation#{eid}")]
    return {a: next(iter(b.values())) for a, b in item.items()}


def escalated(aws):
    """Play the raging user; return the escalation the processor handed over."""
    result = run(aws, records(*raging()))
    assert result.escalated == 1
    [message] = aws.sqs.sent
    return Escalation.from_message(json.loads(message["MessageBody"]))


def schedule(escalation, intervention="guided_tour", channel=None, t=T0 + 4000):
    return schedule_command(USER, "demo", escalation.escalationId, intervention, channel, "why", "agent", t)


def close(escalation, decider="agent", reason="", t=T0 + 5000):
    return escalation_command(
        USER, "demo", escalation.escalationId, decider, reason, "agent-invoker", t, "us.amazon.nova-2-lite-v1:0", 1234, 900, 120
    )


def sent(aws):
    return [json.loads(m["Message"]) for m in aws.sns.published if "Message" in m]


def test_without_an_agent_the_rules_send_the_hard_case_themselves():
    aws = memory_aws()
    result = run(aws, records(*raging()), Settings(policy=SETTINGS.policy))
    assert result.escalated == 0 and not aws.sqs.sent
    assert [d.outcome.value for d in result.decisions] == ["sent", "sent"]


def test_a_critical_struggle_of_a_valued_user_is_held_for_the_agent_and_nothing_is_sent_yet():
    aws = memory_aws()
    escalation = escalated(aws)
    assert (escalation.reason, escalation.ruleIntervention, escalation.severity) == (
        "critical_high_value",
        "guided_tour",
        "critical",
    )
    assert escalation.escalationId == escalation_id(escalation.signalId)
    held = [d for d in decisions(aws).values() if d["status"] == "escalated"]
    assert len(held) == 1 and "delivery" not in held[0]  # recorded, not delivered
    assert len(sent(aws)) == 1  # only the first (high) rage tap's guide went out
    assert escalation_item(aws, escalation.escalationId)["status"] == "open"
    state = aws.dynamodb.tables["UserState"][(USER,)]
    assert state["dueAt"]["N"] == str(escalation.expiresAt)  # the deadline timer wakes the user if no answer comes


def test_the_agents_choice_goes_through_the_policy_and_is_sent_with_its_provenance():
    aws = memory_aws()
    escalation = escalated(aws)
    result = run(aws, records(schedule(escalation, "guided_tour"), close(escalation)))
    assert (result.applied, sum(result.commands.values())) == (0, 2)  # two commands, none of them the user's events
    agent = [d for d in decisions(aws).values() if d["decidedBy"] == "agent"]
    assert len(agent) == 1 and agent[0]["status"] == "sent" and agent[0]["delivery"] == "delivered"
    record = escalation_item(aws, escalation.escalationId)
    assert record["status"] == "agent" and record["finalInterventionId"] == agent[0]["interventionId"]
    assert (record["model"], record["latencyMs"], record["inputTokens"], record["outputTokens"]) == (
        "us.amazon.nova-2-lite-v1:0",
        "1234",
        "900",
        "120",
    )
    assert len(sent(aws)) == 2


def test_a_second_schedule_for_an_answered_escalation_is_refused():
    aws = memory_aws()
    escalation = escalated(aws)
    result = run(aws, records(schedule(escalation, "guided_tour"), schedule(escalation, "guided_tour", "in_app")))
    assert result.escalation_outcomes["schedule_refused_already_decided"] == 1
    assert len(sent(aws)) == 2


@pytest.mark.parametrize(
    ("intervention", "channel", "reason"),
    [
        ("free_upgrade", None, "not_in_catalog"),  # invented: the agent chooses only among the catalog's
        ("guided_tour", "push", "channel_not_in_catalog"),  # a guide goes in-app only
        ("guided_tour", "carrier_pigeon", "unknown_channel"),
        ("error_recovery", "push", "no_push_consent"),  # in the catalog, but the user never allowed push
        ("resume_reminder", "sns", "no_message_consent"),
    ],
)
def test_a_request_the_policy_refuses_is_recorded_with_its_reason_and_nothing_is_sent(intervention, channel, reason):
    aws = memory_aws()
    escalation = escalated(aws)
    result = run(aws, records(schedule(escalation, intervention, channel)))
    [refused] = result.decisions
    assert refused.outcome.value == "suppressed" and refused.reason.startswith(reason)
    assert refused.decidedBy == "agent"
    assert len(sent(aws)) == 1


def test_the_agent_may_answer_with_another_of_the_catalogs_interventions():
    aws = memory_aws()
    escalation = escalated(aws)
    result = run(aws, records(schedule(escalation, "support_offer", "in_app")))
    [decision] = result.decisions
    assert (decision.outcome.value, decision.interventionType, decision.channel.value) == ("sent", "support_offer", "in_app")


def test_a_request_for_a_held_out_user_is_refused_and_recorded_as_held_out():
    settings = Settings(
        policy=PolicySettings(holdout_percent=100, feature_cooldown_ms=0),
        agent=AgentSettings(mode="agentcore", escalate_high_risk_unmatched=True),
    )
    aws = memory_aws()
    user_state_escalation = _unmatched_escalation(aws, settings)
    result = run(aws, records(schedule(user_state_escalation, "guided_tour")), settings)
    [decision] = result.decisions
    assert decision.outcome.value == "held_out" and not sent(aws)


def test_a_request_beyond_the_frequency_cap_is_refused():
    settings = Settings(
        policy=PolicySettings(holdout_percent=0, feature_cooldown_ms=0, frequency_cap=1),
        agent=AgentSettings(mode="agentcore", escalate_high_risk_unmatched=True),
    )
    aws = memory_aws()
    escalation = _unmatched_escalation(aws, settings, sends_before=1)
    result = run(aws, records(schedule(escalation, "guided_tour")), settings)
    [decision] = result.decisions
    assert (decision.outcome.value, decision.reason) == ("suppressed", "frequency_cap")


def test_when_the_agent_fails_the_rules_decision_is_sent_as_the_fallback():
    aws = memory_aws()
    escalation = escalated(aws)
    run(aws, records(close(escalation, "fallback", "throttled")))
    held = decisions(aws)
    fallback = [d for d in held.values() if d["decidedBy"] == "fallback:rule:guided_tour"]
    assert len(fallback) == 1 and fallback[0]["status"] == "sent" and fallback[0]["reason"] == "fallback:throttled"
    assert fallback[0]["interventionId"] == escalation_item(aws, escalation.escalationId)["finalInterventionId"]
    assert escalation_item(aws, escalation.escalationId)["fallbackReason"] == "throttled"
    assert len(sent(aws)) == 2


def test_with_no_answer_by_the_deadline_the_timer_lets_the_rules_decide():
    aws = memory_aws()
    escalation = escalated(aws)
    result = run(aws, records(timer(escalation.expiresAt, user=USER)))
    assert result.escalation_outcomes["closed_fallback"] == 1
    assert escalation_item(aws, escalation.escalationId)["fallbackReason"] == "no_answer"
    assert len(sent(aws)) == 2
    late = run(aws, records(close(escalation, "agent", t=escalation.expiresAt + 1000)))  # the answer, too late
    assert late.escalation_outcomes["already_closed"] == 1 and len(sent(aws)) == 2


def test_an_agent_that_chooses_nothing_gives_the_held_place_back():
    aws = memory_aws()
    escalation = escalated(aws)
    run(aws, records(close(escalation, "agent")))
    assert escalation_item(aws, escalation.escalationId)["status"] == "agent"
    assert len(sent(aws)) == 1
    from journey.adapters.aws.codecs.user_state import state_from_item

    state = state_from_item(aws.dynamodb.tables["UserState"][(USER,)])
    assert escalation.escalatedAt not in state.send_times and not state.escalations


def test_a_queue_that_fails_loses_nothing_the_rules_decide_at_the_deadline():
    aws = memory_aws()
    aws.sqs.failing = RuntimeError("queue down")
    result = run(aws, records(*raging()))
    assert result.escalated == 1 and result.escalations_unsent == 1 and not result.failed_sequences
    state = aws.dynamodb.tables["UserState"][(USER,)]
    run(aws, records(timer(int(state["dueAt"]["N"]), user=USER)))
    assert len(sent(aws)) == 2


def _unmatched_escalation(aws, settings, sends_before=0):
    """A user at HIGH exit risk with a struggle the catalog has no answer for: escalated with no rules' choice."""
    from journey.adapters.aws.codecs.user_state import state_from_item, state_item

    run(aws, records(*raging()[:1]), settings)  # the user exists
    key = (USER,)
    state = state_from_item(aws.dynamodb.tables["UserState"][key])
    state.risk_band = "HIGH"
    state.send_times = [T0 + 100] * sends_before
    aws.dynamodb.tables["UserState"][key] = state_item(state, 2_000_000_000)
    catalog = tuple(e for e in DEFAULT_CATALOG if e.signalType.value != "rage_tap")
    result = process_batch(records(*raging()[1:]), aws.ports, settings, catalog, "shardId-000000000000/batch")
    assert result.escalated >= 1
    return Escalation.from_message(json.loads(aws.sqs.sent[0]["MessageBody"]))
