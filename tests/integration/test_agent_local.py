"""The escalation path on the local runtime (issue 12): the SQS event source mapping emulator, the local
stand-in for Amazon Bedrock (read by the real Bedrock adapters, over its real wire formats), and a small
run in which hard cases go to the agent, or, with Bedrock failing, to the rules."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from journey.adapters.aws.bedrock_agents import ClassicAgent, HarnessAgent
from journey.adapters.aws.bedrock_converse import NovaContextAnalyst
from journey.agent.context import AnalysisRequest
from journey.agent.invocation import AgentRequest, AgentThrottled, AgentUnavailable, agent_session_id
from localrt.agent_local import AgentClock, LineWriter, isolate_metrics
from localrt.bedrock_standin import LABEL, PLACEHOLDER_AGENT_ALIAS_ID, PLACEHOLDER_AGENT_ID, BedrockStandIn, harness_arn
from localrt.esm import LambdaContext
from localrt.results import ai_decisions, read_decisions, read_escalations
from localrt.runtime import local_runtime
from localrt.sqs_esm import SqsEventSourceMapping, SqsMappingSpec, sqs_mappings
from localrt.template import load_template
from tests.builders import T0, event, use_fake_aws_credentials

pytestmark = pytest.mark.network_local
REGION = "us-east-1"
ESCALATION = "e-0123456789abcdef0123"
ACTIVE = {"userSegment": "active_user"}


# --- the stand-in, read by the real adapters -------------------------------------------------------------


class ActionGroups:
    """Three action groups that answer as the real ones do (the runtime test below runs the real ones)."""

    def __init__(self, allowed: list[str] | None = None):
        self.allowed = ["in_app"] if allowed is None else allowed
        self.calls: list[tuple[str, str, dict]] = []

    def answer(self, tool: str, arguments: dict) -> dict:
        self.calls.append(("", tool, arguments))
        if tool == "list_allowed_interventions":
            return {
                "escalationId": ESCALATION,
                "interventions": [
                    {"interventionType": "support_offer", "allowedChannels": [], "refusedChannels": {"push": "quiet_hours"}},
                    {"interventionType": "error_recovery", "allowedChannels": self.allowed, "refusedChannels": {}},
                ],
            }
        if tool == "schedule_intervention":
            return {"status": "accepted", "escalationId": arguments["escalationId"]}
        return {"userId": arguments["userId"], "openSignals": [{"signalType": "error_pattern"}]}

    def gateway(self, target, tool, arguments):
        return self.answer(tool, arguments)

    def classic(self, group, function, parameters, session):
        body = self.answer(function, {p["name"]: p["value"] for p in parameters})
        text = {"TEXT": {"body": json.dumps(body)}}
        return {
            "messageVersion": "1.0",
            "response": {"actionGroup": group, "function": function, "functionResponse": {"responseBody": text}},
        }

    def before_tool_call(self, tool, arguments):
        return "", ""


@pytest.fixture
def standin(monkeypatch):
    use_fake_aws_credentials(monkeypatch, REGION)
    server = BedrockStandIn(ActionGroups(), model_id="us.amazon.nova-lite-v1:0").start()
    one_attempt = Config(retries={"total_max_attempts": 1, "mode": "standard"})  # no SDK retries (max_attempts counts retries)
    clients = {
        name: boto3.client(name, region_name=REGION, endpoint_url=server.endpoint, config=one_attempt)
        for name in ("bedrock-agentcore", "bedrock-agent-runtime", "bedrock-runtime")
    }
    yield server, clients
    server.stop()


def request(
    prompt: str = f"Escalation {ESCALATION}: the rules hand this case to you.\n- user: u-1 (pseudonymous id)",
) -> AgentRequest:
    return AgentRequest(
        agent_session_id("demo", "u-1"), "u-1", ESCALATION, prompt, {"userId": "u-1", "escalationId": ESCALATION}, 5.0
    )


def test_the_harness_stand_in_answers_invoke_harness_as_agentcore_does(standin):
    server, clients = standin
    agent = HarnessAgent(harness_arn(REGION), "us.amazon.nova-lite-v1:0", 8000, client=clients["bedrock-agentcore"])
    reply = agent.invoke(request())
    assert reply.scheduled() and reply.stop_reason == "end_turn"
    assert [c.name for c in reply.tool_calls] == [
        "get_open_signals",
        "get_video_summary",
        "list_allowed_interventions",
        "schedule_intervention",
    ]
    assert {c.status for c in reply.tool_calls} == {"success"}
    assert reply.input_tokens > 0 and reply.output_tokens > 0 and "error_recovery" in reply.text
    scheduled = server.groups.calls[-1][2]
    assert scheduled == {
        **scheduled,
        "userId": "u-1",
        "escalationId": ESCALATION,
        "interventionType": "error_recovery",
        "channel": "in_app",
    }
    assert server.summary()["calls"] == {"InvokeHarness": {"ok": 1}} and server.summary()["label"] == LABEL


def test_the_stand_in_schedules_nothing_when_nothing_is_allowed(standin):
    server, clients = standin
    server.groups.allowed = []
    reply = HarnessAgent(harness_arn(REGION), "m", 8000, client=clients["bedrock-agentcore"]).invoke(request())
    assert not reply.scheduled() and "schedule nothing" in reply.text
    assert [c.name for c in reply.tool_calls][-1] == "list_allowed_interventions"


def test_the_agent_stand_in_answers_invoke_agent_as_agents_classic_does(standin):
    server, clients = standin
    agent = ClassicAgent(PLACEHOLDER_AGENT_ID, PLACEHOLDER_AGENT_ALIAS_ID, "m", 8000, client=clients["bedrock-agent-runtime"])
    reply = agent.invoke(request("decide the escalation"))  # the ids come from the session attributes
    assert reply.scheduled() and "error_recovery" in reply.text
    assert reply.input_tokens > 0 and reply.model == "us.amazon.nova-lite-v1:0"  # the trace names the model
    assert server.groups.calls[-1][2]["userId"] == "u-1"


def test_the_stand_in_answers_only_the_placeholders_it_plays(standin):
    _, clients = standin
    arn = harness_arn(REGION).replace("0000000000", "1111111111")
    with pytest.raises(AgentUnavailable, match="ResourceNotFoundException"):
        HarnessAgent(arn, "m", 8000, client=clients["bedrock-agentcore"]).invoke(request())


def test_a_failing_stand_in_answers_aws_errors_503_and_429_per_escalation(standin):
    server, clients = standin
    server.mode = "failing"
    agent = HarnessAgent(harness_arn(REGION), "m", 8000, client=clients["bedrock-agentcore"])
    with pytest.raises(AgentUnavailable, match="ServiceUnavailableException"):
        agent.invoke(request())
    with pytest.raises(AgentUnavailable, match="ServiceUnavailableException"):  # the same escalation: the same error
        agent.invoke(request())
    other = request(f"Escalation e-{'9' * 20}: - user: u-2 (pseudonymous id)")
    with pytest.raises(AgentThrottled):
        agent.invoke(other)
    assert server.summary()["calls"] == {"InvokeHarness": {"throttled": 1, "unavailable": 2}}


def test_the_converse_stand_in_answers_the_forced_tool_with_a_valid_analysis(standin):
    server, clients = standin
    analyst = NovaContextAnalyst(6000, client=clients["bedrock-runtime"])
    prompt = "Exit risk HIGH (band). Open signals: rage_tap on checkout, help_seeking on payment."
    answer = analyst.analyse(AnalysisRequest("us.amazon.nova-micro-v1:0", "Analyse the user.", prompt, 5.0))
    assert answer.analysis.engagementLevel == "low" and "purchase" in answer.analysis.intent
    assert answer.analysis.dropOffRiskFactors == ["rage_tap signals", "help_seeking signals"]
    assert answer.call.input_tokens > 0 and answer.call.output_tokens > 0
    assert server.summary()["calls"] == {"Converse": {"ok": 1}}


# --- the SQS event source mapping ---------------------------------------------------------------------


def run_mapping(handler, spec_batch=10, messages=3, visibility="1", max_receives=2, timeout_s=20.0):
    """A queue (with a dead-letter queue) on moto, ``messages`` sent, the mapping run until idle."""
    sqs = boto3.client("sqs", region_name=REGION)
    dlq = sqs.create_queue(QueueName="dead")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives})
    url = sqs.create_queue(QueueName="work", Attributes={"VisibilityTimeout": visibility, "RedrivePolicy": redrive})["QueueUrl"]
    for n in range(messages):
        attributes = {"kind": {"DataType": "String", "StringValue": "test"}}
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": n, "fail": n == 1}), MessageAttributes=attributes)
    mapping = SqsEventSourceMapping(
        SqsMappingSpec("Mapping", "Fn", "work", spec_batch, 0.0, True, 5, True),
        sqs=sqs,
        queue_url=url,
        queue_arn="arn:aws:sqs:us-east-1:123456789012:work",
        invoke=handler,
        context_factory=lambda: LambdaContext("Fn", "arn:aws:lambda:us-east-1:123456789012:function:Fn", 128, 5),
        region=REGION,
        dead_letter_url=dlq,
    )
    mapping.start()
    deadline = time.time() + timeout_s
    time.sleep(0.5)
    while time.time() < deadline and not mapping.all_idle():
        time.sleep(0.2)
    mapping.stop()
    return mapping


def test_the_sqs_mapping_invokes_with_lambdas_event_and_keeps_only_the_reported_failures(monkeypatch):
    use_fake_aws_credentials(monkeypatch, REGION)
    events = []

    def handler(event, context):
        events.append(event)
        failed = [r["messageId"] for r in event["Records"] if json.loads(r["body"])["fail"]]
        return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}

    with mock_aws():
        mapping = run_mapping(handler)
        record = events[0]["Records"][0]
        assert set(record) == {
            "messageId",
            "receiptHandle",
            "body",
            "attributes",
            "messageAttributes",
            "md5OfBody",
            "md5OfMessageAttributes",
            "eventSource",
            "eventSourceARN",
            "awsRegion",
        }
        assert {"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(
            record["attributes"]
        )
        assert record["eventSource"] == "aws:sqs" and record["messageAttributes"]["kind"]["stringValue"] == "test"
        assert record["messageAttributes"]["kind"]["dataType"] == "String"
        # the failing message came back after its visibility timeout, and went to the dead letters after 2 receives
        retried = [r for e in events for r in e["Records"] if json.loads(r["body"])["fail"]]
        assert [r["attributes"]["ApproximateReceiveCount"] for r in retried] == ["1", "2"]
        assert mapping.stats.deleted == 2 and mapping.stats.item_failures == 2 and mapping.dead_letters() == 1


def test_a_partial_response_naming_an_unknown_message_fails_the_whole_batch(monkeypatch):
    use_fake_aws_credentials(monkeypatch, REGION)
    seen: list[int] = []

    def handler(event, context):
        seen.append(len(event["Records"]))
        return {"batchItemFailures": [{"itemIdentifier": ""}]} if len(seen) == 1 else None

    with mock_aws():
        mapping = run_mapping(handler, messages=2, max_receives=5)
        assert seen == [2, 2] and mapping.stats.invalid_responses == 1 and mapping.stats.deleted == 2


def test_a_function_error_deletes_nothing(monkeypatch):
    use_fake_aws_credentials(monkeypatch, REGION)
    calls: list[int] = []

    def handler(event, context):
        calls.append(len(event["Records"]))
        if len(calls) == 1:
            raise RuntimeError("boom")
        return {}

    with mock_aws():
        mapping = run_mapping(handler, spec_batch=3, messages=3, max_receives=5)
        assert calls == [3, 3] and mapping.stats.function_errors == 1 and mapping.stats.deleted == 3


def test_the_template_maps_the_escalation_queue_to_the_agent_invoker():
    template = load_template()
    [spec] = sqs_mappings(template)
    invoker = template.functions[spec.function]
    assert spec.report_batch_item_failures and spec.batch_size >= 1
    assert "AGENT_HARNESS_ARN" in invoker.environment or "AGENT_ID" in invoker.environment
    queue = template.resources[spec.queue]["Properties"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] >= 1


# --- the two clocks --------------------------------------------------------------------------------------


def test_an_escalation_is_handed_over_on_the_wall_clock_and_its_answer_comes_back_on_the_users():
    clock = AgentClock(window_ms=128_000)
    body = {"userId": "u-1", "escalatedAt": T0, "expiresAt": T0 + 128_000, "reason": "critical_high_value"}
    sent = 1_800_000_000_000  # when the processor sent it (wall clock)
    message = {"Body": json.dumps(body), "MD5OfBody": "stale", "Attributes": {"SentTimestamp": str(sent)}}
    clock.present(message)
    presented = json.loads(message["Body"])
    assert (presented["escalatedAt"], presented["expiresAt"]) == (sent, sent + 128_000)  # the same budget, in real time
    assert message["MD5OfBody"] == hashlib.md5(message["Body"].encode()).hexdigest()
    assert clock.to_user("u-1", sent + 350) == T0 + 350  # answered 350 ms later: 350 ms later in the user's time
    assert clock.to_user("u-other", sent) is None


# --- one process, many sandboxes ------------------------------------------------------------------------


def test_an_agent_functions_metrics_are_its_own_beside_the_processors(capsys):
    from types import SimpleNamespace

    from aws_lambda_powertools import Metrics

    processor, agent = Metrics(namespace="Test", service="processor"), Metrics(namespace="Test", service="agent")
    isolate_metrics(SimpleNamespace(metrics=agent))
    processor.add_metric(name="EventsIn", unit="Count", value=3)
    agent.add_metric(name="ToolCalls", unit="Count", value=1)
    agent.flush_metrics()  # the agent's invocation ends while the processor's is under way
    assert "EventsIn" in processor.metric_set and "ToolCalls" not in processor.metric_set
    printed = capsys.readouterr().out
    assert "ToolCalls" in printed and "EventsIn" not in printed
    processor.flush_metrics()


def test_what_threads_print_reaches_the_log_a_whole_line_at_a_time(tmp_path):
    import threading

    with open(tmp_path / "log", "w") as handle:
        writer = LineWriter(handle)

        def emit(n: int) -> None:
            for _ in range(200):
                print(json.dumps({"thread": n, "pad": "x" * 50}), file=writer)  # type: ignore[arg-type]

        threads = [threading.Thread(target=emit, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    lines = (tmp_path / "log").read_text().splitlines()
    assert len(lines) == 800 and all(json.loads(line)["pad"] for line in lines)


# --- the path on the local runtime -------------------------------------------------------------------------


def critical_on_checkout(user: str, t: int) -> list[dict]:
    """An active user's payment fails on checkout and they leave the app at once: a critical struggle."""
    return [
        {**event("screen_view", user, t, feature="checkout", screen="checkout"), "userContext": ACTIVE},
        {**event("error", user, t + 1000, feature="checkout", errorType="payment_declined"), "userContext": ACTIVE},
        {**event("app_lifecycle", user, t + 4000, action="background"), "userContext": ACTIVE},
    ]


def going_round_help(user: str, t: int) -> list[dict]:
    """Round and round between help and FAQ screens: a screen loop and help seeking from one event."""
    return [event("screen_view", user, t + i * 3000, feature="settings", screen=s) for i, s in enumerate(["help", "faq"] * 3)]


def play(tmp_path: Path, mode: str, users: int = 4, **env: str):
    scripted = [e for n in range(users) for e in critical_on_checkout(f"u-crit-{n}", T0 + n * 60_000)]
    scripted += going_round_help("u-loop", T0)
    env = {"JOURNEY_POLICY__HOLDOUT_PERCENT": "0", **env}  # no user held out: every hard case is a send held for the agent
    with local_runtime(tmp_path / "function.log", bedrock=mode, schedule="end", extra_env=env) as rt:
        rt.start_polling()
        rt.put_records([(e["userId"], json.dumps(e).encode(), e["eventId"], e["timestamp"] / 1000) for e in scripted])
        assert rt.wait_until_drained(timeout_s=90)
        # moto has no Bedrock: the template's Bedrock resources are played by the stand-in, under placeholders
        assert "AWS::BedrockAgentCore::Harness" in rt.provisioned.played_by_standin
        assert os.environ["AGENT_HARNESS_ARN"] == harness_arn(REGION)
        assert os.environ["AWS_ENDPOINT_URL_BEDROCK_AGENTCORE"] == rt.agent.standin.endpoint
        escalations = read_escalations(rt)
        decisions, _ = read_decisions(rt)
        return escalations, decisions, ai_decisions(escalations, decisions, rt.agent.summary())


def test_with_bedrock_ok_the_agent_decides_the_hard_cases_and_its_choice_is_delivered(tmp_path):
    escalations, decisions, ai = play(tmp_path, "ok")
    assert ai["by_reason"] == {"critical_high_value": 4, "conflicting_signals": 1}
    assert ai["decided_by_agent"] == 5 and ai["decided_by_fallback"] == ai["still_open"] == 0
    for record in escalations:
        assert record["model"] and record["latencyMs"] > 0 and record["inputTokens"] > 0 and record["outputTokens"] > 0
        final = next(d for d in decisions if d["interventionId"] == record["finalInterventionId"])
        assert decider_of(final) == "agent" and final["status"] == "sent" and final["delivery"] == "delivered"
    assert ai["bedrock_standin"]["calls"] == {"InvokeHarness": {"ok": 5}}
    assert ai["tool_calls"]["schedule_intervention:ok"] == 5 and ai["agent_invoker"]["dead_letters"] == 0
    assert ai["agent_latency_ms"]["samples"] == 5 and ai["tokens"]["input"] > 0


def test_with_bedrock_failing_the_rules_decide_and_the_breaker_opens(tmp_path):
    escalations, decisions, ai = play(tmp_path, "failing", JOURNEY_AGENT__BREAKER_FAILURES="2")
    assert ai["escalations"] == ai["decided_by_fallback"] == 5 and ai["decided_by_agent"] == 0
    reasons = ai["fallback_by_reason"]
    assert reasons.get("circuit_open", 0) == 3 and reasons.get("unavailable", 0) + reasons.get("throttled", 0) == 2
    for record in escalations:  # the rules' own intervention, sent as the fallback, with the reason
        final = next(d for d in decisions if d["interventionId"] == record["finalInterventionId"])
        assert final["decidedBy"] == f"fallback:rule:{record['ruleIntervention']}"
        assert final["status"] == "sent" and final["delivery"] == "delivered"
    assert sum(ai["bedrock_standin"]["calls"]["InvokeHarness"].values()) >= 2 and ai["tool_calls"] == {}


def decider_of(decision: dict) -> str:
    return str(decision.get("decidedBy") or "").split(":", 1)[0]


def test_the_local_api_adds_novas_context_analysis_played_by_the_stand_in_and_caches_it(tmp_path):
    from localrt.api_local import asgi_request, issue_token
    from localrt.serve import runtime_api

    now = int(time.time() * 1000)
    with local_runtime(tmp_path / "function.log", bedrock="ok", schedule="off") as rt:
        rt.start_polling()
        api = runtime_api(rt)
        taps = [
            {
                "eventId": f"e{i}",
                "eventType": "feature_interaction",
                "userId": "bob",
                "sessionId": "s1",
                "timestamp": now + i * 200,
                "eventData": {"feature": "checkout", "action": "tap", "target": "pay", "x": 10, "y": 10},
            }
            for i in range(4)
        ]
        assert (
            asgi_request(api, "POST", "/v1/events", token=issue_token(api.secret, "demo", "bob"), body={"events": taps})[0] == 200
        )
        assert rt.wait_until_drained(timeout_s=60)
        server = api.tokens()["server"]
        status, plain = asgi_request(api, "GET", "/v1/users/bob/insights", token=server)
        assert status == 200 and "contextAnalysis" not in plain  # only when asked for
        status, first = asgi_request(api, "GET", "/v1/users/bob/insights", token=server, query="analysis=true")
        analysis = first["contextAnalysis"]
        assert status == 200 and analysis["status"] == "available" and analysis["cached"] is False
        assert analysis["model"] == "us.amazon.nova-micro-v1:0" and analysis["analysis"]["dropOffRiskFactors"]
        _, again = asgi_request(api, "GET", "/v1/users/bob/insights", token=server, query="analysis=true")
        assert again["contextAnalysis"]["cached"] is True
