"""The Bedrock adapters against real botocore clients, no AWS: a ``before-send`` hook answers each call
with what Bedrock sends (real event-stream frames from ``localrt.eventstream`` where the API streams,
JSON for Converse and for HTTP errors), so botocore's own parsers read them. Covered: a good answer
(text, tool calls, tokens, model), throttling (HTTP 429 and inside the stream), refusals, read
timeouts (raised at the call and mid-stream), a stream past its budget, and malformed replies (the
stream cut short, tool input that is not JSON, returnControl, Converse's text instead of the forced
tool, a tool input the schema refuses, named by field)."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
import pytest
import urllib3.exceptions
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.eventstream import EventStreamBuffer
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

from journey.adapters.aws import bedrock
from journey.adapters.aws.bedrock_agents import ClassicAgent, HarnessAgent
from journey.adapters.aws.bedrock_converse import NovaContextAnalyst
from journey.agent.context import ANALYSIS_TOOL, SYSTEM_PROMPT, AnalysisRequest, analysis_schema
from journey.agent.invocation import (
    AgentRequest,
    AgentThrottled,
    AgentTimedOut,
    AgentUnavailable,
    MalformedAgentReply,
    agent_session_id,
)
from localrt.eventstream import CONTENT_TYPE, encode_error, encode_event, encode_exception

HARNESS_ARN = "arn:aws:bedrock-agentcore:us-east-1:123456789012:harness/journey_agent-abcdefghij"
MODEL = "us.amazon.nova-2-lite-v1:0"
MICRO = "us.amazon.nova-micro-v1:0"


# --- botocore with answers instead of AWS -----------------------------------------------------------------
class Raw:
    """What urllib3 would hand botocore: the body in chunks (a delay before each, an error at the end)."""

    def __init__(
        self, chunks: list[bytes], delay_s: float = 0.0, fail: Exception | None = None, block: threading.Event | None = None
    ):
        self.chunks, self.delay_s, self.fail, self.block = chunks, delay_s, fail, block
        self.closed = False

    def stream(self, *args: Any, **kwargs: Any) -> Iterator[bytes]:
        for chunk in self.chunks:
            if self.delay_s:
                time.sleep(self.delay_s)
            yield chunk
        if self.block is not None:
            self.block.wait(10)
        if self.fail is not None:
            raise self.fail

    def close(self) -> None:
        self.closed = True


def frames(*events: tuple[str, dict]) -> list[bytes]:
    return [encode_event(kind, payload) for kind, payload in events]


def streamed(chunks: list[bytes], **raw: Any) -> Callable[[Any], AWSResponse]:
    return lambda request: AWSResponse(request.url, 200, {"content-type": CONTENT_TYPE}, Raw(chunks, **raw))


def json_answer(status: int, body: dict, error_type: str | None = None) -> Callable[[Any], AWSResponse]:
    headers = {"content-type": "application/json"}
    if error_type:
        headers["x-amzn-ErrorType"] = f"{error_type}:http://internal.amazon.com/coral/com.amazonaws/"
    return lambda request: AWSResponse(request.url, status, headers, Raw([json.dumps(body).encode()]))


def raising(exc: Exception) -> Callable[[Any], AWSResponse]:
    def answer(request: Any) -> AWSResponse:
        raise exc

    return answer


class Seen:
    requests: list[Any]

    def __init__(self) -> None:
        self.requests = []


def client(service: str, answer: Callable[[Any], AWSResponse], seen: Seen | None = None) -> Any:
    c = boto3.client(
        service,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )

    def hook(request: Any, **_: Any) -> AWSResponse:
        if seen is not None:
            seen.requests.append(request)
        return answer(request)

    c.meta.events.register("before-send", hook)
    return c


def request(timeout_s: float = 5.0) -> AgentRequest:
    return AgentRequest(
        agent_session_id("demo", "u-1"),
        "u-1",
        "e-0123456789abcdef0123",
        "decide the escalation",
        {"userId": "u-1", "escalationId": "e-0123456789abcdef0123", "tenant": "demo"},
        timeout_s,
    )


# --- the encoder reads back through botocore's own parser -----------------------------------------------
def test_frames_round_trip_through_botocores_event_stream_parser():
    buffer = EventStreamBuffer()
    buffer.add_data(encode_event("chunk", {"bytes": "aGk="}) + encode_exception("throttlingException", "slow down"))
    buffer.add_data(encode_error("InternalFailure", "boom"))
    first, second, third = list(buffer)
    assert first.headers == {":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"}
    assert json.loads(first.payload) == {"bytes": "aGk="}
    assert second.headers[":exception-type"] == "throttlingException" and second.to_response_dict()["status_code"] == 400
    assert third.headers[":error-code"] == "InternalFailure" and third.payload == b""


def test_the_session_id_is_stable_per_user_and_fits_both_apis():
    session = agent_session_id("demo", "u-1")
    assert session == agent_session_id("demo", "u-1") != agent_session_id("demo", "u-2")
    assert 33 <= len(session) <= 100 and session.replace("-", "").isalnum() and "u-1" not in session


def test_clients_make_one_attempt_and_read_for_the_budget(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    bedrock._client.cache_clear()
    try:
        c = bedrock.bedrock_client("bedrock-runtime", 6_000)
        assert c.meta.config.read_timeout == 6.0 and c.meta.config.connect_timeout == 2.0
        assert c.meta.config.retries == {"total_max_attempts": 1, "mode": "standard"}  # the first call only
        assert bedrock.bedrock_client("bedrock-runtime", 6_000) is c
    finally:
        bedrock._client.cache_clear()


# --- AgentCore InvokeHarness ------------------------------------------------------------------------------
def tool_use(index: int, use_id: str, name: str, *pieces: str) -> list[tuple[str, dict]]:
    return [
        ("contentBlockStart", {"contentBlockIndex": index, "start": {"toolUse": {"toolUseId": use_id, "name": name}}}),
        *[("contentBlockDelta", {"contentBlockIndex": index, "delta": {"toolUse": {"input": p}}}) for p in pieces],
        ("contentBlockStop", {"contentBlockIndex": index}),
    ]


def tool_result(index: int, use_id: str, status: str) -> list[tuple[str, dict]]:
    return [
        ("messageStart", {"role": "user"}),
        ("contentBlockStart", {"contentBlockIndex": index, "start": {"toolResult": {"toolUseId": use_id, "status": status}}}),
        ("contentBlockDelta", {"contentBlockIndex": index, "delta": {"toolResult": [{"text": "ok"}]}}),
        ("contentBlockStop", {"contentBlockIndex": index}),
        ("messageStop", {"stopReason": "tool_result"}),
    ]


GOOD_HARNESS = [
    ("messageStart", {"role": "assistant"}),
    *tool_use(0, "t1", "InterventionEngine___list_allowed_interventions", '{"userId":', ' "u-1"}'),
    ("messageStop", {"stopReason": "tool_use"}),
    ("metadata", {"usage": {"inputTokens": 100, "outputTokens": 20, "totalTokens": 120}, "metrics": {"latencyMs": 300}}),
    *tool_result(0, "t1", "success"),
    ("messageStart", {"role": "assistant"}),
    *tool_use(
        0,
        "t2",
        "schedule_intervention",
        '{"userId": "u-1", "escalationId": "e-0123456789abcdef0123", ',
        '"interventionType": "tour"}',
    ),
    ("messageStop", {"stopReason": "tool_use"}),
    ("hookEvent", {"hookEventId": "h1", "name": "policy_gate", "type": "before_tool_call", "decision": "allow"}),
    *tool_result(0, "t2", "success"),
    ("messageStart", {"role": "assistant"}),
    ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Scheduled the guided "}}),
    ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "tour."}}),
    ("contentBlockStop", {"contentBlockIndex": 0}),
    ("messageStop", {"stopReason": "end_turn"}),
    ("metadata", {"usage": {"inputTokens": 150, "outputTokens": 30, "totalTokens": 180}, "metrics": {"latencyMs": 400}}),
]


def harness(answer: Callable[[Any], AWSResponse], seen: Seen | None = None) -> HarnessAgent:
    return HarnessAgent(HARNESS_ARN, MODEL, 8_000, client=client("bedrock-agentcore", answer, seen))


def test_harness_good_answer_gives_text_tool_calls_tokens_and_hooks():
    seen = Seen()
    reply = harness(streamed(frames(*GOOD_HARNESS)), seen).invoke(request(timeout_s=7.6))
    assert reply.text == "Scheduled the guided tour."
    assert [(c.name, c.status) for c in reply.tool_calls] == [
        ("list_allowed_interventions", "success"),
        ("schedule_intervention", "success"),
    ]
    assert reply.scheduled()
    assert (reply.input_tokens, reply.output_tokens, reply.model, reply.stop_reason) == (250, 50, MODEL, "end_turn")
    assert reply.hooks == (("policy_gate", "allow"),)
    sent = seen.requests[0]
    assert urlsplit(sent.url).path == "/harnesses/invoke"
    assert parse_qs(urlsplit(sent.url).query)["harnessArn"] == [HARNESS_ARN]
    assert sent.headers["X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"] == agent_session_id("demo", "u-1").encode()
    body = json.loads(sent.body)
    assert body["messages"] == [{"role": "user", "content": [{"text": "decide the escalation"}]}]
    assert body["timeoutSeconds"] == 7


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (429, "ThrottlingException", AgentThrottled),
        (402, "ServiceQuotaExceededException", AgentThrottled),
        (400, "ValidationException", AgentUnavailable),
        (403, "AccessDeniedException", AgentUnavailable),
        (404, "ResourceNotFoundException", AgentUnavailable),
        (500, "InternalServerException", AgentUnavailable),
    ],
)
def test_harness_http_errors_are_classified(status, code, error):
    with pytest.raises(error) as raised:
        harness(json_answer(status, {"message": "no"}, code)).invoke(request())
    assert type(raised.value) is error and code in raised.value.reason


def test_errors_inside_the_harness_stream_are_classified_with_the_tokens_used():
    head = frames(("messageStart", {"role": "assistant"}), ("metadata", {"usage": {"inputTokens": 40, "outputTokens": 2}}))
    with pytest.raises(AgentUnavailable, match="ValidationException: bad tool") as raised:
        harness(streamed([*head, encode_exception("validationException", "bad tool")])).invoke(request())
    assert raised.value.input_tokens == 40
    with pytest.raises(AgentThrottled, match="ThrottlingException"):
        harness(streamed([*head, encode_error("ThrottlingException", "Rate exceeded")])).invoke(request())


def test_a_harness_stream_without_message_stop_is_malformed():
    with pytest.raises(MalformedAgentReply, match="before messageStop"):
        harness(streamed(frames(*GOOD_HARNESS[:4]))).invoke(request())


def test_tool_input_that_is_not_json_is_malformed_and_named():
    bad = [("messageStart", {"role": "assistant"}), *tool_use(0, "t1", "schedule_intervention", '{"userId": "u-1"')]
    with pytest.raises(MalformedAgentReply, match="schedule_intervention is not JSON"):
        harness(streamed(frames(*bad))).invoke(request())


@pytest.mark.parametrize(
    ("stop", "error"), [("max_iterations_exceeded", MalformedAgentReply), ("timeout_exceeded", AgentTimedOut)]
)
def test_a_harness_run_that_stopped_short_is_not_an_answer(stop, error):
    with pytest.raises(error):
        harness(streamed(frames(("messageStart", {"role": "assistant"}), ("messageStop", {"stopReason": stop})))).invoke(
            request()
        )


def test_a_read_timeout_at_the_call_is_a_timeout():
    with pytest.raises(AgentTimedOut, match="read timeout"):
        harness(raising(ReadTimeoutError(endpoint_url="https://bedrock-agentcore.us-east-1.amazonaws.com"))).invoke(request())


def test_a_read_timeout_mid_stream_is_a_timeout_with_the_tokens_so_far():
    partial = frames(*GOOD_HARNESS[:7])
    fail = urllib3.exceptions.ReadTimeoutError(None, "/harnesses/invoke", "Read timed out. (read timeout=8)")
    with pytest.raises(AgentTimedOut) as raised:
        harness(streamed(partial, fail=fail)).invoke(request())
    assert raised.value.input_tokens == 100


def test_a_connection_failure_is_unavailable():
    with pytest.raises(AgentUnavailable, match="could not connect"):
        harness(raising(EndpointConnectionError(endpoint_url="https://bedrock-agentcore.us-east-1.amazonaws.com"))).invoke(
            request()
        )


def test_a_stream_still_going_at_its_budget_is_cut_off():
    slow = streamed(frames(*GOOD_HARNESS), delay_s=0.1)
    started = time.monotonic()
    with pytest.raises(AgentTimedOut, match="time budget"):
        harness(slow).invoke(request(timeout_s=0.35))
    assert time.monotonic() - started < 0.35 + 0.25  # at most one event's gap past the budget


# --- Agents Classic InvokeAgent --------------------------------------------------------------------------
def trace(part: dict) -> tuple[str, dict]:
    return ("trace", {"agentId": "AGENT12345", "trace": {"orchestrationTrace": part}})


def chunk(text: str) -> tuple[str, dict]:
    return ("chunk", {"bytes": base64.b64encode(text.encode()).decode()})


GOOD_CLASSIC = [
    trace({"modelInvocationInput": {"foundationModel": "amazon.nova-lite-v1:0", "type": "ORCHESTRATION"}}),
    trace({"modelInvocationOutput": {"metadata": {"usage": {"inputTokens": 300, "outputTokens": 40}}}}),
    trace(
        {
            "invocationInput": {
                "invocationType": "ACTION_GROUP",
                "actionGroupInvocationInput": {"actionGroupName": "InterventionEngine", "function": "schedule_intervention"},
            }
        }
    ),
    trace({"observation": {"type": "ACTION_GROUP", "actionGroupInvocationOutput": {"text": "scheduled"}}}),
    trace({"modelInvocationOutput": {"metadata": {"usage": {"inputTokens": 350, "outputTokens": 25}}}}),
    chunk("Scheduled "),
    chunk("the tour."),
]


def classic(answer: Callable[[Any], AWSResponse], seen: Seen | None = None) -> ClassicAgent:
    return ClassicAgent("AGENT12345", "ALIAS12345", MODEL, 8_000, client=client("bedrock-agent-runtime", answer, seen))


def test_classic_good_answer_reads_chunks_and_the_trace():
    seen = Seen()
    reply = classic(streamed(frames(*GOOD_CLASSIC)), seen).invoke(request())
    assert reply.text == "Scheduled the tour."
    assert reply.model == "amazon.nova-lite-v1:0" and (reply.input_tokens, reply.output_tokens) == (650, 65)
    assert [(c.name, c.status) for c in reply.tool_calls] == [("schedule_intervention", "returned")]
    sent = seen.requests[0]
    session = agent_session_id("demo", "u-1")
    assert unquote(urlsplit(sent.url).path) == f"/agents/AGENT12345/agentAliases/ALIAS12345/sessions/{session}/text"
    body = json.loads(sent.body)
    assert body["enableTrace"] is True and body["inputText"] == "decide the escalation"
    assert body["sessionState"]["sessionAttributes"] == {
        "userId": "u-1",
        "escalationId": "e-0123456789abcdef0123",
        "tenant": "demo",
    }


def test_classic_throttling_inside_the_stream_is_throttled():
    with pytest.raises(AgentThrottled, match="ThrottlingException: Rate exceeded"):
        classic(streamed([*frames(*GOOD_CLASSIC[:2]), encode_exception("throttlingException", "Rate exceeded")])).invoke(
            request()
        )


def test_classic_http_throttling_is_throttled():
    with pytest.raises(AgentThrottled):
        classic(json_answer(429, {"message": "Rate exceeded"}, "ThrottlingException")).invoke(request())


def test_classic_dependency_failure_in_the_stream_is_unavailable():
    with pytest.raises(AgentUnavailable, match="DependencyFailedException"):
        classic(streamed([encode_exception("dependencyFailedException", "action group failed")])).invoke(request())


def test_classic_return_control_is_malformed():
    control = ("returnControl", {"invocationId": "i1", "invocationInputs": []})
    with pytest.raises(MalformedAgentReply, match="returned control"):
        classic(streamed(frames(GOOD_CLASSIC[0], control))).invoke(request())


def test_classic_failure_trace_is_unavailable_with_its_reason():
    failure = ("trace", {"trace": {"failureTrace": {"failureReason": "model refused", "traceId": "x"}}})
    with pytest.raises(AgentUnavailable, match="model refused"):
        classic(streamed(frames(failure))).invoke(request())


def test_classic_stream_without_an_answer_is_malformed():
    with pytest.raises(MalformedAgentReply, match="without the agent's answer"):
        classic(streamed(frames(*GOOD_CLASSIC[:5]))).invoke(request())


# --- Converse: the context analysis ----------------------------------------------------------------------
GOOD_ANALYSIS = {
    "intent": "finish checkout",
    "engagementLevel": "medium",
    "dropOffRiskFactors": ["payment errors on checkout"],
    "personalizationRecommendations": ["offer saved payment methods"],
    "nextBestActions": ["show the payment help"],
}


def converse_answer(content: list[dict], stop: str = "tool_use") -> Callable[[Any], AWSResponse]:
    body = {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop,
        "usage": {"inputTokens": 900, "outputTokens": 120, "totalTokens": 1020},
        "metrics": {"latencyMs": 420},
    }
    return json_answer(200, body)


def analyst(answer: Callable[[Any], AWSResponse], seen: Seen | None = None) -> NovaContextAnalyst:
    return NovaContextAnalyst(6_000, client=client("bedrock-runtime", answer, seen))


def analysis_request() -> AnalysisRequest:
    return AnalysisRequest(MICRO, SYSTEM_PROMPT, "Facts about the user (JSON): {}", 6.0)


def test_converse_forces_the_analysis_tool_and_validates_its_input():
    seen = Seen()
    answer = analyst(converse_answer([{"toolUse": {"toolUseId": "a", "name": ANALYSIS_TOOL, "input": GOOD_ANALYSIS}}]), seen)
    result = answer.analyse(analysis_request())
    assert result.analysis.engagementLevel == "medium" and result.analysis.intent == "finish checkout"
    assert (result.call.input_tokens, result.call.output_tokens, result.call.model) == (900, 120, MICRO)
    body = json.loads(seen.requests[0].body)
    assert body["toolConfig"]["toolChoice"] == {"tool": {"name": ANALYSIS_TOOL}}
    assert [t["toolSpec"]["name"] for t in body["toolConfig"]["tools"]] == [ANALYSIS_TOOL]
    assert body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"] == analysis_schema()
    assert body["system"] == [{"text": SYSTEM_PROMPT}]
    assert unquote(urlsplit(seen.requests[0].url).path) == f"/model/{MICRO}/converse"


def test_converse_text_instead_of_the_tool_is_malformed_with_its_cost():
    with pytest.raises(MalformedAgentReply, match=f"answered with text instead of calling {ANALYSIS_TOOL}") as raised:
        analyst(converse_answer([{"text": "The user wants to pay."}], stop="end_turn")).analyse(analysis_request())
    assert raised.value.input_tokens == 900 and raised.value.output_tokens == 120


def test_converse_tool_input_outside_the_schema_is_rejected_naming_the_field():
    bad = {**GOOD_ANALYSIS, "engagementLevel": "extreme"}
    with pytest.raises(MalformedAgentReply, match="engagementLevel: Input should be 'low', 'medium' or 'high'"):
        analyst(converse_answer([{"toolUse": {"toolUseId": "a", "name": ANALYSIS_TOOL, "input": bad}}])).analyse(
            analysis_request()
        )
    extra = {**GOOD_ANALYSIS, "nextBestActions": ["a"] * 6, "mood": "sad"}
    with pytest.raises(MalformedAgentReply, match=r"nextBestActions: .*; mood: Extra inputs"):
        analyst(converse_answer([{"toolUse": {"toolUseId": "a", "name": ANALYSIS_TOOL, "input": extra}}])).analyse(
            analysis_request()
        )


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (429, "ThrottlingException", AgentThrottled),
        (408, "ModelTimeoutException", AgentTimedOut),
        (400, "ValidationException", AgentUnavailable),
        (403, "AccessDeniedException", AgentUnavailable),
        (503, "ServiceUnavailableException", AgentUnavailable),
    ],
)
def test_converse_errors_are_classified(status, code, error):
    with pytest.raises(error, match=code):
        analyst(json_answer(status, {"message": "no"}, code)).analyse(analysis_request())


def test_converse_read_timeout_is_a_timeout():
    with pytest.raises(AgentTimedOut):
        analyst(raising(ReadTimeoutError(endpoint_url="https://bedrock-runtime.us-east-1.amazonaws.com"))).analyse(
            analysis_request()
        )
