"""The agent (the ``Agent`` port of ``journey.app.agent_ports``) on Bedrock, in its two deployments:

* :class:`HarnessAgent`: AgentCore's managed harness (``bedrock-agentcore`` InvokeHarness), the
  default. The answer is an event stream: messageStart, contentBlockStart (a toolUse: its name; a
  toolResult: its status), contentBlockDelta (text, a tool's input JSON in pieces), contentBlockStop,
  messageStop (stopReason), metadata (usage, metrics.latencyMs), hookEvent, and exception events.
* :class:`ClassicAgent`: Agents Classic (``bedrock-agent-runtime`` InvokeAgent), closed to new
  customers since July 2026. Its stream: chunk (the answer's bytes), trace (with ``enableTrace``: the
  model, token usage per model invocation, the action groups called), returnControl, exceptions.

Both read the whole stream within ``AgentRequest.timeout_s`` (checked after each event; a single read
blocks at most the client's read timeout) and classify every failure once
(``journey.adapters.aws.bedrock.classify``)."""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

from journey.adapters.aws.bedrock import bedrock_client, classify
from journey.agent.invocation import (
    AgentReply,
    AgentRequest,
    AgentTimedOut,
    AgentUnavailable,
    MalformedAgentReply,
    ToolCall,
)
from journey.agent.tools import tool_name

DONE = frozenset({"end_turn", "stop_sequence", "hook_stopped"})  # a harness run that ended as it should


class _Usage:
    """What a call cost so far (attached to its error when it fails)."""

    def __init__(self, model: str):
        self.model, self.input_tokens, self.output_tokens, self.started = model, 0, 0, time.monotonic()

    def add(self, usage: dict[str, Any] | None) -> None:
        usage = usage or {}
        self.input_tokens += int(usage.get("inputTokens") or 0)
        self.output_tokens += int(usage.get("outputTokens") or 0)

    def latency_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)

    def cost(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "latency_ms": self.latency_ms(),
        }


def _read(stream: Any, what: str, deadline: float, usage: _Usage, read_event: Any) -> None:
    """Each event of ``stream`` to ``read_event``, within ``deadline`` (monotonic seconds)."""
    try:
        for event in stream:
            read_event(event)
            if time.monotonic() > deadline:
                _close(stream)
                raise AgentTimedOut(f"{what}: the answer was still streaming when the time budget ran out")
    except Exception as exc:  # every failure is classified once, with what the call cost so far
        _close(stream)
        error = classify(exc, what, **usage.cost())
        if error is not exc:
            raise error from exc
        for name, value in usage.cost().items():  # raised by the reader: add what the call cost
            setattr(error, name, getattr(error, name) or value)
        raise error from None


def _close(stream: Any) -> None:
    close = getattr(stream, "close", None)
    if callable(close):
        with contextlib.suppress(Exception):  # closing a failed stream: nothing more to learn
            close()


class _HarnessRun:
    """The state of one InvokeHarness stream as it is read."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.tools: dict[str, str] = {}  # toolUseId -> tool name, in call order
        self.statuses: dict[str, str] = {}  # toolUseId -> success | error
        self.inputs: dict[int, tuple[str, list[str]]] = {}  # open toolUse block index -> (tool name, input pieces)
        self.stop_reason: str | None = None
        self.hooks: list[tuple[str, str]] = []
        self.model_latency_ms = 0

    def read(self, event: dict[str, Any], usage: _Usage) -> None:
        if "messageStart" in event:
            if event["messageStart"].get("role") == "assistant":
                self.text = []  # the answer is the last assistant message's text
        elif "contentBlockStart" in event:
            start = event["contentBlockStart"].get("start") or {}
            index = int(event["contentBlockStart"].get("contentBlockIndex") or 0)
            if "toolUse" in start:
                name = tool_name(str(start["toolUse"].get("name") or "?"))
                self.tools[str(start["toolUse"].get("toolUseId") or f"#{len(self.tools)}")] = name
                self.inputs[index] = (name, [])
            elif "toolResult" in start:
                self.statuses[str(start["toolResult"].get("toolUseId"))] = str(start["toolResult"].get("status") or "")
        elif "contentBlockDelta" in event:
            delta = event["contentBlockDelta"].get("delta") or {}
            index = int(event["contentBlockDelta"].get("contentBlockIndex") or 0)
            if "text" in delta:
                self.text.append(str(delta["text"]))
            elif "toolUse" in delta and index in self.inputs:
                self.inputs[index][1].append(str(delta["toolUse"].get("input") or ""))
        elif "contentBlockStop" in event:
            index = int(event["contentBlockStop"].get("contentBlockIndex") or 0)
            if index in self.inputs:
                name, pieces = self.inputs.pop(index)
                _tool_input(name, "".join(pieces))
        elif "messageStop" in event:
            self.stop_reason = str(event["messageStop"].get("stopReason") or "")
        elif "metadata" in event:
            usage.add(event["metadata"].get("usage"))
            self.model_latency_ms += int((event["metadata"].get("metrics") or {}).get("latencyMs") or 0)
        elif "hookEvent" in event:
            hook = event["hookEvent"]
            self.hooks.append((str(hook.get("name") or hook.get("type") or "?"), str(hook.get("decision") or "")))

    def tool_calls(self) -> tuple[ToolCall, ...]:
        return tuple(ToolCall(name, self.statuses.get(use_id) or "called") for use_id, name in self.tools.items())


def _tool_input(name: str, raw: str) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise MalformedAgentReply(f"the input the model gave {name} is not JSON") from None
    if not isinstance(value, dict):
        raise MalformedAgentReply(f"the input the model gave {name} is not a JSON object")
    return value


class HarnessAgent:
    """The ``Agent`` port on an AgentCore harness (its model, tools, instructions and hooks are the
    harness's own, deployed by infra: ``model`` is recorded as the decision's provenance)."""

    def __init__(self, harness_arn: str, model: str, budget_ms: int, client: Any = None):
        self.harness_arn, self.model, self.budget_ms = harness_arn, model, budget_ms
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = bedrock_client("bedrock-agentcore", self.budget_ms)
        return self._client

    def invoke(self, request: AgentRequest) -> AgentReply:
        deadline = time.monotonic() + request.timeout_s
        usage, run = _Usage(self.model), _HarnessRun()
        try:
            response = self.client.invoke_harness(
                harnessArn=self.harness_arn,
                runtimeSessionId=request.session_id,
                messages=[{"role": "user", "content": [{"text": request.prompt}]}],
                timeoutSeconds=max(1, int(request.timeout_s)),
            )
        except Exception as exc:  # classified once
            raise classify(exc, "InvokeHarness", **usage.cost()) from exc
        _read(response["stream"], "InvokeHarness", deadline, usage, lambda event: run.read(event, usage))
        if run.stop_reason is None:
            raise MalformedAgentReply("InvokeHarness: the stream ended before messageStop", **usage.cost())
        if run.stop_reason == "timeout_exceeded":
            raise AgentTimedOut("InvokeHarness: the harness stopped at its timeout", **usage.cost())
        if run.stop_reason not in DONE:
            raise MalformedAgentReply(f"InvokeHarness: the agent stopped with {run.stop_reason}", **usage.cost())
        return AgentReply(
            text="".join(run.text).strip(),
            tool_calls=run.tool_calls(),
            model=self.model,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            latency_ms=usage.latency_ms(),
            stop_reason=run.stop_reason,
            hooks=tuple(run.hooks),
        )


TRACE_KINDS = ("preProcessingTrace", "orchestrationTrace", "postProcessingTrace", "routingClassifierTrace")


class _ClassicRun:
    def __init__(self) -> None:
        self.text: list[str] = []
        self.chunks = 0
        self.calls: list[ToolCall] = []
        self.model = ""

    def read(self, event: dict[str, Any], usage: _Usage) -> None:
        if "chunk" in event:
            self.chunks += 1
            raw = event["chunk"].get("bytes") or b""
            self.text.append(raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw))
        elif "trace" in event:
            self._trace((event["trace"] or {}).get("trace") or {}, usage)
        elif "returnControl" in event:
            raise MalformedAgentReply(
                "InvokeAgent: the agent returned control (an action group is set to RETURN_CONTROL; the invoker runs no tools)"
            )

    def _trace(self, trace: dict[str, Any], usage: _Usage) -> None:
        if "failureTrace" in trace:
            failure = trace["failureTrace"]
            raise AgentUnavailable(f"InvokeAgent: the agent failed: {failure.get('failureReason') or 'no reason given'}"[:500])
        for kind in TRACE_KINDS:
            part = trace.get(kind) or {}
            model_input = part.get("modelInvocationInput") or {}
            if model_input.get("foundationModel"):
                self.model = str(model_input["foundationModel"])
            usage.add(((part.get("modelInvocationOutput") or {}).get("metadata") or {}).get("usage"))
            action = (part.get("invocationInput") or {}).get("actionGroupInvocationInput") or {}
            if action.get("function") or action.get("apiPath"):
                self.calls.append(ToolCall(tool_name(str(action.get("function") or action.get("apiPath"))), "called"))
            if "actionGroupInvocationOutput" in (part.get("observation") or {}):
                for index in range(len(self.calls) - 1, -1, -1):
                    if self.calls[index].status == "called":
                        self.calls[index] = ToolCall(self.calls[index].name, "returned")
                        break


class ClassicAgent:
    """The ``Agent`` port on a Bedrock agent (Agents Classic). The session attributes reach the action
    groups' Lambdas with every call (the tools check the user id against them)."""

    def __init__(self, agent_id: str, alias_id: str, model: str, budget_ms: int, client: Any = None):
        self.agent_id, self.alias_id, self.model, self.budget_ms = agent_id, alias_id, model, budget_ms
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = bedrock_client("bedrock-agent-runtime", self.budget_ms)
        return self._client

    def invoke(self, request: AgentRequest) -> AgentReply:
        deadline = time.monotonic() + request.timeout_s
        usage, run = _Usage(self.model), _ClassicRun()
        try:
            response = self.client.invoke_agent(
                agentId=self.agent_id,
                agentAliasId=self.alias_id,
                sessionId=request.session_id,
                inputText=request.prompt,
                enableTrace=True,
                sessionState={"sessionAttributes": dict(request.session_attributes)},
            )
        except Exception as exc:  # classified once
            raise classify(exc, "InvokeAgent", **usage.cost()) from exc

        def read(event: dict[str, Any]) -> None:
            run.read(event, usage)
            usage.model = run.model or self.model

        _read(response["completion"], "InvokeAgent", deadline, usage, read)
        if not run.chunks:
            raise MalformedAgentReply("InvokeAgent: the stream ended without the agent's answer", **usage.cost())
        return AgentReply(
            text="".join(run.text).strip(),
            tool_calls=tuple(run.calls),
            model=usage.model,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            latency_ms=usage.latency_ms(),
        )
