"""Amazon Nova's context analysis through the Converse API (``bedrock-runtime``): the ``ContextAnalyst``
port of ``journey.app.agent_ports``.

Structured output by a forced tool: ``toolConfig`` holds ONE tool whose ``inputSchema.json`` is the
analysis' JSON schema (``journey.agent.context``), and ``toolChoice: {"tool": {"name": ...}}`` makes
the model call it; the answer is that tool's input, validated with the same pydantic model. Anything
else (text instead of the tool, another tool, an input the schema refuses) is a
``MalformedAgentReply`` naming what, with the tokens the call used."""

from __future__ import annotations

import time
from typing import Any

from journey.adapters.aws.bedrock import bedrock_client, classify
from journey.agent.context import ANALYSIS_TOOL, AnalysisRequest, AnalystAnswer, analysis_from_tool_input, analysis_tool_spec
from journey.agent.invocation import MalformedAgentReply, ModelCall

MAX_TOKENS = 1024  # the analysis is at most ~4.5 KB of text


def converse_request(request: AnalysisRequest) -> dict[str, Any]:
    """The Converse call's parameters."""
    return {
        "modelId": request.model_id,
        "system": [{"text": request.system}],
        "messages": [{"role": "user", "content": [{"text": request.prompt}]}],
        "toolConfig": {"tools": [{"toolSpec": analysis_tool_spec()}], "toolChoice": {"tool": {"name": ANALYSIS_TOOL}}},
        # greedy decoding: Nova's guidance for tool calling
        "inferenceConfig": {"maxTokens": MAX_TOKENS, "temperature": 0},
    }


class NovaContextAnalyst:
    def __init__(self, budget_ms: int, client: Any = None):
        self.budget_ms = budget_ms
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = bedrock_client("bedrock-runtime", self.budget_ms)
        return self._client

    def analyse(self, request: AnalysisRequest) -> AnalystAnswer:
        started = time.monotonic()
        try:
            response = self.client.converse(**converse_request(request))
        except Exception as exc:  # classified once
            latency = int((time.monotonic() - started) * 1000)
            raise classify(exc, "Converse", model=request.model_id, latency_ms=latency) from exc
        usage = response.get("usage") or {}
        call = ModelCall(
            model=request.model_id,
            input_tokens=int(usage.get("inputTokens") or 0),
            output_tokens=int(usage.get("outputTokens") or 0),
            latency_ms=int((time.monotonic() - started) * 1000),
            stop_reason=str(response.get("stopReason") or ""),
        )
        content = ((response.get("output") or {}).get("message") or {}).get("content") or []
        uses = [block["toolUse"] for block in content if isinstance(block, dict) and "toolUse" in block]
        mine = [use for use in uses if use.get("name") == ANALYSIS_TOOL]
        cost: dict[str, Any] = {"model": call.model, "input_tokens": call.input_tokens, "output_tokens": call.output_tokens}
        if not mine:
            kinds = sorted({key for block in content if isinstance(block, dict) for key in block}) or ["nothing"]
            raise MalformedAgentReply(
                f"Converse: the model answered with {', '.join(kinds)} instead of calling {ANALYSIS_TOOL} "
                f"(stopReason {call.stop_reason or 'none'})",
                latency_ms=call.latency_ms,
                **cost,
            )
        try:
            analysis = analysis_from_tool_input(mine[0].get("input"))
        except MalformedAgentReply as exc:
            raise MalformedAgentReply(
                f"Converse: {exc.reason} (stopReason {call.stop_reason or 'none'})", latency_ms=call.latency_ms, **cost
            ) from None
        return AnalystAnswer(analysis, call)
