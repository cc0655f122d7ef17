"""The agent invoker: resolve() decides each escalation with the agent within its time budget, or lets
the rules' decision stand and says why; one ``escalation`` command per case, with provenance. Fakes
at the ports (an agent scripted per call, a fake clock whose sleep advances it), and the real clock
where the point is that a blocking agent cannot hold the invoker past its budget."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from journey.adapters.aws.bedrock_agents import HarnessAgent
from journey.agent.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker
from journey.agent.escalation import Escalation, escalation_id
from journey.agent.invocation import (
    AgentReply,
    AgentRequest,
    AgentThrottled,
    AgentUnavailable,
    MalformedAgentReply,
    ToolCall,
    agent_session_id,
)
from journey.agent.prompts import escalation_prompt
from journey.app.agent_ports import EscalationPorts
from journey.app.escalation import BACKOFF_CAP_MS, GUARD_MS, InvalidEscalation, backoff_ms, read_escalation, resolve
from journey.errors import TransientError
from journey.events.commands import command_event_id
from journey.settings import AgentSettings
from localrt.eventstream import CONTENT_TYPE, encode_event

T0 = 1_767_225_600_000
BUDGET = 8_000
CFG = AgentSettings(mode="agentcore", time_budget_ms=BUDGET, max_retries=2, breaker_failures=3, breaker_cooldown_ms=60_000)


def escalation(user: str = "u-1", expires_at: int = T0 + 120_000, **changes: Any) -> Escalation:
    values: dict[str, Any] = {
        "escalationId": escalation_id(f"s-{user}"),
        "userId": user,
        "tenant": "demo",
        "signalId": f"s-{user}",
        "signalType": "error_pattern",
        "featureId": "checkout",
        "severity": "critical",
        "reason": "critical_high_value",
        "ruleIntervention": "payment_help",
        "ruleChannel": "in_app",
        "escalatedAt": T0 - 1_000,
        "expiresAt": expires_at,
        "riskScore": 72,
        "riskBand": "HIGH",
        "segment": "active_user",
        **changes,
    }
    return Escalation(**values)


class Clock:
    def __init__(self, now: int = T0):
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> int:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += int(seconds * 1000)


def reply(**changes: Any) -> AgentReply:
    values: dict[str, Any] = {
        "text": "Scheduled the payment help tour.",
        "tool_calls": (ToolCall("list_allowed_interventions", "success"), ToolCall("schedule_intervention", "success")),
        "model": "us.amazon.nova-2-lite-v1:0",
        "input_tokens": 1_200,
        "output_tokens": 80,
        "latency_ms": 2_300,
        **changes,
    }
    return AgentReply(**values)


class ScriptedAgent:
    """Answers each call with the next outcome (a reply, or an error to raise); each call takes ``takes_ms``."""

    def __init__(self, *outcomes: AgentReply | Exception, clock: Clock | None = None, takes_ms: int = 0):
        self.outcomes = list(outcomes)
        self.requests: list[AgentRequest] = []
        self.clock, self.takes_ms = clock, takes_ms

    def invoke(self, request: AgentRequest) -> AgentReply:
        self.requests.append(request)
        if self.clock is not None:  # an adapter honours its timeout: a call takes at most what is left
            self.clock.now += min(self.takes_ms, int(request.timeout_s * 1000))
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


class Stream:
    def __init__(self, refuse: bool = False, refuse_users: frozenset[str] = frozenset()):
        self.appended: list[dict] = []
        self.refuse, self.refuse_users = refuse, refuse_users

    def append(self, events: list[dict]) -> list[str]:
        refused = [e["userId"] for e in events if self.refuse or e["userId"] in self.refuse_users]
        self.appended.extend(e for e in events if e["userId"] not in refused)
        return refused


def run(
    agent: Any,
    clock: Clock,
    breaker: CircuitBreaker | None = None,
    stream: Stream | None = None,
    cfg: AgentSettings = CFG,
    **kw: Any,
):
    ports = EscalationPorts(agent=agent, commands=stream or Stream())
    case = kw.pop("case", None) or escalation(expires_at=clock.now + 120_000)
    resolution = resolve(case, ports, cfg, breaker or CircuitBreaker(3, 60_000), clock, clock.sleep, **kw)
    return resolution, ports.commands


# --- deciding ----------------------------------------------------------------------------------------------
def test_an_answer_closes_the_escalation_as_the_agents_with_its_provenance():
    clock = Clock()
    agent = ScriptedAgent(reply())
    resolution, stream = run(agent, clock)
    assert (resolution.decider, resolution.code, resolution.attempts) == ("agent", "scheduled", 1)
    (command,) = stream.appended
    case = escalation()
    assert command["eventId"] == command_event_id("escalation", "u-1", case.escalationId)
    assert command["userId"] == "u-1" and command["tenantId"] == "demo" and command["timestamp"] == T0
    c = command["command"]
    assert (c["name"], c["decider"], c["requestedBy"], c["escalationId"]) == (
        "escalation",
        "agent",
        "agent-invoker",
        case.escalationId,
    )
    assert (c["model"], c["latencyMs"], c["inputTokens"], c["outputTokens"]) == ("us.amazon.nova-2-lite-v1:0", 2_300, 1_200, 80)
    assert c["reason"] == "scheduled: Scheduled the payment help tour."
    (request,) = agent.requests
    assert request.session_id == agent_session_id("demo", "u-1") and request.timeout_s == BUDGET / 1000
    assert request.session_attributes == {"userId": "u-1", "escalationId": case.escalationId, "tenant": "demo"}
    assert request.prompt == escalation_prompt(case)


def test_an_answer_that_schedules_nothing_is_still_the_agents_decision():
    resolution, stream = run(ScriptedAgent(reply(tool_calls=(), text="The rules' choice is right.")), Clock())
    assert (resolution.decider, resolution.code) == ("agent", "no_intervention")
    assert stream.appended[0]["command"]["decider"] == "agent"


def test_the_prompt_states_the_facts_and_the_limits():
    prompt = escalation_prompt(escalation())
    for fact in ("error_pattern", "checkout", "critical", "payment_help on in_app", "HIGH (score 72", "segment active_user"):
        assert fact in prompt
    assert "list_allowed_interventions" in prompt and "schedule_intervention ONCE" in prompt
    assert escalation().escalationId in prompt and "schedule nothing" in prompt and "no invented urgency" in prompt


# --- throttling, within the budget ---------------------------------------------------------------------
def test_throttling_is_retried_with_jitter_and_then_answered_within_the_budget():
    clock = Clock()
    agent = ScriptedAgent(AgentThrottled("ThrottlingException"), reply(), clock=clock, takes_ms=300)
    resolution, _ = run(agent, clock, rng=random.Random(7))
    assert (resolution.decider, resolution.attempts) == ("agent", 2)
    assert len(clock.slept) == 1 and 0 <= clock.slept[0] * 1000 < 200  # the first backoff: up to the base
    assert agent.requests[1].timeout_s < agent.requests[0].timeout_s  # the retry gets what is left


def test_throttling_past_the_retries_falls_back_as_throttled():
    clock = Clock()
    agent = ScriptedAgent(AgentThrottled("ThrottlingException: Rate exceeded"), clock=clock, takes_ms=100)
    breaker = CircuitBreaker(3, 60_000)
    resolution, stream = run(agent, clock, breaker, rng=random.Random(1))
    assert (resolution.decider, resolution.code, resolution.attempts) == ("fallback", "throttled", 3)
    assert len(clock.slept) == 2 and breaker.consecutive_failures == 1
    assert stream.appended[0]["command"]["reason"].startswith("throttled: ThrottlingException")


def test_no_backoff_ever_sleeps_past_the_budget():
    clock = Clock()

    class Longest(random.Random):
        def uniform(self, a: float, b: float) -> float:
            return b

    agent = ScriptedAgent(AgentThrottled("ThrottlingException"), clock=clock, takes_ms=3_500)
    cfg = CFG.model_copy(update={"max_retries": 10})
    resolution, _ = run(agent, clock, cfg=cfg, rng=Longest())
    assert resolution.code == "throttled" and "no budget left" in resolution.reason
    assert clock.now - T0 <= BUDGET  # calls and sleeps included
    assert all(T0 + s * 1000 <= T0 + BUDGET for s in clock.slept)


def test_backoff_is_full_jitter_and_capped():
    rng = random.Random(3)
    for attempt in range(8):
        bound = min(BACKOFF_CAP_MS, 200 * 2**attempt)
        assert all(0 <= backoff_ms(attempt, rng) < bound for _ in range(50))


# --- the budget holds ----------------------------------------------------------------------------------------
def test_a_blocking_agent_cannot_hold_the_invoker_past_its_budget():
    release = threading.Event()

    class Blocking:
        def invoke(self, request: AgentRequest) -> AgentReply:
            release.wait(10)
            return reply()

    cfg = CFG.model_copy(update={"time_budget_ms": 500})
    now_ms: Callable[[], int] = lambda: int(time.time() * 1000)  # noqa: E731
    case = escalation(expires_at=now_ms() + 60_000)
    breaker = CircuitBreaker(3, 60_000)
    started = time.monotonic()
    try:
        resolution = resolve(case, EscalationPorts(Blocking(), Stream()), cfg, breaker, now_ms, time.sleep)
    finally:
        release.set()
    elapsed = time.monotonic() - started
    assert elapsed < (500 + GUARD_MS) / 1000 + 0.3
    assert (resolution.decider, resolution.code) == ("fallback", "timeout") and breaker.consecutive_failures == 1


def test_the_harness_adapter_on_a_stalled_stream_cannot_hold_the_invoker_past_its_budget():
    """The real adapter, its botocore client answered with a stream that sends one event and stalls."""
    import boto3

    release = threading.Event()

    class Stalled:
        closed = False

        def stream(self, *args: Any, **kwargs: Any):
            yield encode_event("messageStart", {"role": "assistant"})
            release.wait(10)

        def close(self) -> None:
            self.closed = True

    c = boto3.client("bedrock-agentcore", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
    c.meta.events.register(
        "before-send", lambda request, **_: AWSResponse(request.url, 200, {"content-type": CONTENT_TYPE}, Stalled())
    )
    agent = HarnessAgent("arn:aws:bedrock-agentcore:us-east-1:123456789012:harness/a-abcdefghij", "m", 500, client=c)
    cfg = CFG.model_copy(update={"time_budget_ms": 500})
    now_ms: Callable[[], int] = lambda: int(time.time() * 1000)  # noqa: E731
    started = time.monotonic()
    try:
        resolution = resolve(
            escalation(expires_at=now_ms() + 60_000), EscalationPorts(agent, Stream()), cfg, CircuitBreaker(), now_ms, time.sleep
        )
    finally:
        release.set()
    assert time.monotonic() - started < (500 + GUARD_MS) / 1000 + 0.3
    assert resolution.code == "timeout"


def test_the_invocations_remaining_time_bounds_the_budget():
    clock = Clock()
    agent = ScriptedAgent(reply())
    resolution, _ = run(agent, clock, not_after_ms=T0 + 2_000)
    assert agent.requests[0].timeout_s == 2.0 and resolution.decider == "agent"
    agent = ScriptedAgent(reply())
    resolution, _ = run(agent, clock, not_after_ms=T0 + 100)
    assert (resolution.code, agent.requests) == ("timeout", []) and "invocation" in resolution.reason


# --- failures -------------------------------------------------------------------------------------------------
def test_an_expired_escalation_falls_back_at_once_without_asking():
    agent = ScriptedAgent(reply())
    resolution, stream = run(agent, Clock(), case=escalation(expires_at=T0))
    assert (resolution.decider, resolution.code, agent.requests) == ("fallback", "expired", [])
    assert stream.appended[0]["command"]["decider"] == "fallback"


def test_the_escalations_deadline_bounds_the_budget():
    agent = ScriptedAgent(reply())
    run(agent, Clock(), case=escalation(expires_at=T0 + 3_000))
    assert agent.requests[0].timeout_s == 3.0


def test_a_malformed_reply_falls_back_with_its_reason_and_cost():
    agent = ScriptedAgent(
        MalformedAgentReply("the input the model gave schedule_intervention is not JSON", input_tokens=500, model="m")
    )
    resolution, stream = run(agent, Clock())
    assert (resolution.decider, resolution.code, resolution.input_tokens) == ("fallback", "malformed", 500)
    c = stream.appended[0]["command"]
    assert c["reason"] == "malformed: the input the model gave schedule_intervention is not JSON" and c["inputTokens"] == 500


def test_no_agent_deployed_is_a_fallback_disabled():
    resolution, _ = run(None, Clock())
    assert (resolution.decider, resolution.code) == ("fallback", "disabled")


def test_an_adapter_bug_is_a_failed_call_not_a_crash():
    resolution, _ = run(ScriptedAgent(KeyError("stream")), Clock())
    assert resolution.code == "unavailable" and "KeyError" in resolution.reason


def test_a_command_that_cannot_be_appended_is_retried_by_redelivery_with_the_same_id():
    with pytest.raises(TransientError, match="redelivered"):
        run(ScriptedAgent(reply()), Clock(), stream=Stream(refuse=True))
    first, _ = run(ScriptedAgent(reply()), Clock())
    again, _ = run(ScriptedAgent(reply(text="other words")), Clock(T0 + 5_000))
    assert first.command["eventId"] == again.command["eventId"]


# --- the circuit breaker ----------------------------------------------------------------------------------
def test_the_breaker_opens_after_repeated_failures_and_then_the_agent_is_not_asked():
    clock, breaker = Clock(), CircuitBreaker(3, 60_000)
    agent = ScriptedAgent(AgentUnavailable("InvokeHarness: InternalServerException: boom"))
    codes = [run(agent, clock, breaker)[0].code for _ in range(3)]
    assert codes == ["unavailable"] * 3 and breaker.state == OPEN and len(agent.requests) == 3
    resolution, stream = run(agent, clock, breaker)
    assert resolution.code == "circuit_open" and len(agent.requests) == 3
    assert stream.appended[0]["command"]["reason"].startswith("circuit_open")


def test_after_the_cooldown_one_trial_closes_it_or_opens_it_again():
    clock, breaker = Clock(), CircuitBreaker(3, 60_000)
    failing = ScriptedAgent(AgentUnavailable("down"))
    for _ in range(3):
        run(failing, clock, breaker)
    clock.now += 60_000
    assert breaker.state_at(clock()) == HALF_OPEN
    assert run(failing, clock, breaker)[0].code == "unavailable" and breaker.state == OPEN  # the trial failed
    clock.now += 60_000
    assert run(ScriptedAgent(reply()), clock, breaker)[0].decider == "agent" and breaker.state == CLOSED


def test_a_half_open_breaker_lets_one_trial_through_at_a_time():
    breaker = CircuitBreaker(1, 1_000)
    breaker.record_failure(T0)
    assert not breaker.allow(T0 + 999)
    assert breaker.allow(T0 + 1_000) and not breaker.allow(T0 + 1_001)
    breaker.record_success()
    assert breaker.allow(T0 + 1_002) and breaker.state == CLOSED


def test_a_success_resets_the_count_of_consecutive_failures():
    breaker = CircuitBreaker(2, 1_000)
    breaker.record_failure(T0)
    breaker.record_success()
    breaker.record_failure(T0)
    assert breaker.state == CLOSED


# --- the queue message ----------------------------------------------------------------------------------
def test_a_message_is_read_as_an_escalation_or_refused_with_the_reason():
    case = escalation()
    assert read_escalation(json.dumps(case.as_message())) == case
    for body, reason in [
        ("not json", "not JSON"),
        ("[1]", "JSON list, not an object"),
        (json.dumps({"escalationId": "e"}), "lacks"),
        (json.dumps({**case.as_message(), "expiresAt": "soon"}), "expiresAt must be an integer"),
    ]:
        with pytest.raises(InvalidEscalation, match=reason):
            read_escalation(body)


class Context:
    function_name = "AgentInvoker"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:AgentInvoker"
    aws_request_id = "test-request"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def sqs_record(message_id: str, body: str) -> dict:
    return {
        "messageId": message_id,
        "receiptHandle": "r",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:EscalationQueue",
        "awsRegion": "us-east-1",
    }


def test_the_handler_reports_only_transient_failures_and_drops_what_is_not_an_escalation(monkeypatch, capsys, caplog):
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Test")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("JOURNEY_AGENT__MODE", "agentcore")
    from functions.agent_invoker import handler
    from journey.settings import load_settings

    load_settings.cache_clear()
    stream = Stream()
    monkeypatch.setattr(handler, "ports", lambda: EscalationPorts(ScriptedAgent(reply()), stream))
    monkeypatch.setattr(handler, "breaker", lambda: CircuitBreaker())
    far = int(time.time() * 1000) + 600_000
    good = json.dumps(escalation(expires_at=far).as_message())
    records = [sqs_record("m1", good), sqs_record("m2", "{not an escalation")]
    answer = handler.lambda_handler({"Records": records}, Context())
    assert answer == {"batchItemFailures": []}
    assert len(stream.appended) == 1 and stream.appended[0]["command"]["decider"] == "agent"
    out = capsys.readouterr().out
    assert "not an escalation" in out + caplog.text and "MalformedEscalations" in out and "FallbackReason" not in out
    assert '"EscalationsResolved":[1.0]' in out and '"decider":"agent"' in out
    refusing = Stream(refuse_users=frozenset({"u-2"}))
    monkeypatch.setattr(handler, "ports", lambda: EscalationPorts(ScriptedAgent(reply()), refusing))
    other = json.dumps(escalation("u-2", expires_at=far).as_message())
    answer = handler.lambda_handler({"Records": [sqs_record("m3", good), sqs_record("m4", other)]}, Context())
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m4"}]}  # only its message is redelivered
    assert [e["userId"] for e in refusing.appended] == ["u-1"]
    load_settings.cache_clear()
