"""LOCAL STAND-IN FOR AMAZON BEDROCK — not a model.

Amazon Bedrock has no local form (moto has no Bedrock runtime, agent runtime or AgentCore), so the
local runtime answers Bedrock's calls with this stand-in (../shared/DESIGN.md, "The local runtime").
It follows the API contract, not the intelligence: the same REST paths, headers and wire formats
botocore uses, so the functions' real boto3 clients (their endpoints set by
``AWS_ENDPOINT_URL_BEDROCK_AGENTCORE``, ``..._BEDROCK_AGENT_RUNTIME``, ``..._BEDROCK_RUNTIME``) call it
as they call AWS:

* AgentCore ``InvokeHarness``: ``POST /harnesses/invoke?harnessArn=…``, an event stream
  (``messageStart``, ``contentBlockStart`` / ``Delta`` / ``Stop`` with the tool uses and their results,
  ``hookEvent``, ``messageStop``, ``metadata`` with token usage and ``latencyMs``);
* Agents Classic ``InvokeAgent``: ``POST /agents/{agentId}/agentAliases/{agentAliasId}/sessions/{sessionId}/text``,
  an event stream of ``trace`` events (when asked for) and ``chunk`` s, headers
  ``x-amzn-bedrock-agent-content-type`` and ``x-amz-bedrock-agent-session-id``; an action group answering
  FAILURE ends it with a ``dependencyFailedException``, as AWS documents;
* bedrock-runtime ``Converse``: ``POST /model/{modelId}/converse``, JSON.

Its agent is deterministic and reads nothing but the request and the tools' answers: it finds the
escalation id (``e-`` and 20 hex digits) and the user in the request, calls the action groups as the
real agent would, through the real handlers in this process with the event each deployment sends
(:class:`ActionGroups`): ``get_open_signals``, ``get_video_summary``, ``list_allowed_interventions``,
then ``schedule_intervention`` with the first allowed intervention on its first allowed channel (none
when nothing is allowed), and answers one sentence. Its Converse answers a forced tool call with a
context analysis built from the words of the request. Tokens are the bytes read and written over 4.

Modes (``make demo BEDROCK=…``): ``ok``; ``failing``: every call answers AWS's JSON error, 503
``ServiceUnavailableException`` and 429 ``ThrottlingException`` in turn, per escalation (both of the
invoker's paths: a throttled escalation stays throttled through its retries); ``slow``: every call
answers only after the invoker's time budget (``JOURNEY_AGENT__TIME_BUDGET_MS``) has passed, and then
without calling a tool (nobody waits for it any more). Every call is counted by operation and outcome
(:meth:`BedrockStandIn.summary`)."""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from localrt.eventstream import CONTENT_TYPE as EVENT_STREAM
from localrt.eventstream import encode_event, encode_exception

log = logging.getLogger(__name__)

LABEL = "LOCAL STAND-IN FOR AMAZON BEDROCK (deterministic, not a model)"
MODES = ("ok", "failing", "slow")
HOST = "127.0.0.1"
ACCOUNT = "123456789012"
# the template's Harness and Agent are not created locally (moto has no Bedrock): the invoker is given
# these, and the stand-in answers only them (anything else: ResourceNotFoundException, as AWS would)
PLACEHOLDER_HARNESS_NAME = "LocalStandIn_notAModel-0000000000"
PLACEHOLDER_AGENT_ID = "LOCALSTAND"  # [0-9a-zA-Z]{1,10}
PLACEHOLDER_AGENT_ALIAS_ID = "LOCALALIAS"
GATEWAY_SEPARATOR = "___"  # the Gateway names a target's tool "<target>___<tool>"
ESCALATION_ID = re.compile(r"\be-[0-9a-f]{20}\b")
USER_IDS = (  # how a request names its user: userId "u-1", "userId": "u-1", userId=u-1; then "- user: u-1"
    re.compile(r"""["']?\buser[ _]?id["']?\s*[:=]?\s*["'`]?([A-Za-z0-9][A-Za-z0-9._:@|/-]{0,127})""", re.IGNORECASE),
    re.compile(r"""\buser:\s*["'`]?([A-Za-z0-9][A-Za-z0-9._:@|/-]{0,127})""", re.IGNORECASE),
)
SIGNAL_TYPES = ("rage_tap", "repeated_attempts", "error_pattern", "screen_loop", "abandonment", "help_seeking")
DEFAULT_BUDGET_MS = 8_000  # journey.settings.AgentSettings.time_budget_ms's default
SLOW_MARGIN_S = 1.5  # how far past the budget a slow answer comes
LATE_ANSWER = "This answer comes after the time budget (local stand-in, mode slow): I schedule nothing."


def harness_arn(region: str) -> str:
    return f"arn:aws:bedrock-agentcore:{region}:{ACCOUNT}:harness/{PLACEHOLDER_HARNESS_NAME}"


def tokens(data: Any) -> int:
    """Deterministic token count: the UTF-8 bytes of the text (JSON for anything else) over 4."""
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"), sort_keys=True, default=str)
    return max(1, len(text.encode()) // 4)


class ActionGroups(Protocol):
    """The three action groups, run in this process by their real handlers (:mod:`localrt.agent_local`)."""

    def gateway(self, target: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """A Gateway Lambda target's invocation: the function's JSON answer."""

    def classic(self, group: str, function: str, parameters: list[dict[str, str]], session: dict[str, Any]) -> dict[str, Any]:
        """An Agents Classic action group's invocation: the function's response document."""

    def before_tool_call(self, tool: str, arguments: dict[str, Any]) -> tuple[str, str]:
        """The harness's before-tool-call hook: ("allow" | "deny", reason); ("", "") when none is declared."""


# --- the deterministic agent ---------------------------------------------------------------------------


@dataclass
class ToolStep:
    group: str
    tool: str
    arguments: dict[str, Any]
    result: Any = None
    status: str = "success"  # success | error (AgentCore's tool result status)
    hook: tuple[str, str] = ("", "")


@dataclass
class AgentRun:
    """What the stand-in's agent did for one request."""

    user_id: str
    escalation_id: str
    steps: list[ToolStep] = field(default_factory=list)
    answer: str = ""
    failed: str = ""  # an Agents Classic action group answered FAILURE: the stream ends with this error
    chosen: str = ""

    @property
    def output_text(self) -> str:
        return self.answer + "".join(json.dumps(s.arguments) for s in self.steps)


PLAN = (
    ("StruggleDetection", "get_open_signals"),
    ("VideoIntelligence", "get_video_summary"),
    ("InterventionEngine", "list_allowed_interventions"),
)


def find_request(text: str, user_hint: str = "", escalation_hint: str = "") -> tuple[str, str]:
    """(user id, escalation id) from the request: the session's values first, then the prompt's words."""
    escalation = escalation_hint or next(iter(ESCALATION_ID.findall(text)), "")
    user = user_hint
    for pattern in USER_IDS:
        match = None if user else pattern.search(text)
        if match:
            user = match.group(1).rstrip(".,;)")
    return user, escalation


def first_allowed(listed: Any) -> tuple[str, str]:
    """(interventionType, channel) of the first intervention list_allowed_interventions allows."""
    if not isinstance(listed, dict):
        return "", ""
    for entry in listed.get("interventions") or []:
        channels = entry.get("allowedChannels") or []
        if isinstance(entry, dict) and channels:
            return str(entry.get("interventionType", "")), str(channels[0])
    return "", ""


def run_agent(run: AgentRun, call: Callable[[ToolStep], None]) -> AgentRun:
    """The stand-in's decision for ``run`` (its user and escalation): read, list what is allowed,
    schedule the first allowed (or nothing). ``call`` runs a step, filling its result and status; it
    may end the run by setting ``run.failed`` (an Agents Classic action group answered FAILURE)."""
    user_id, escalation_id = run.user_id, run.escalation_id
    if not user_id or not escalation_id:
        run.answer = "I could not find the escalation id and the user in the request, so I schedule nothing."
        return run
    for group, tool in PLAN:
        step = ToolStep(group, tool, {"userId": user_id})
        run.steps.append(step)
        call(step)
        if run.failed:
            return run
    listed = run.steps[-1]
    intervention, channel = first_allowed(listed.result) if listed.status == "success" else ("", "")
    if not intervention:
        run.answer = "Nothing the policy allows fits this user now, so I schedule nothing and the rules' decision stands."
        return run
    signals = run.steps[0].result if run.steps[0].status == "success" and isinstance(run.steps[0].result, dict) else {}
    count = len(signals.get("openSignals") or [])
    step = ToolStep(
        "InterventionEngine",
        "schedule_intervention",
        {
            "userId": user_id,
            "escalationId": escalation_id,
            "interventionType": intervention,
            "channel": channel,
            "rationale": f"The user has {count} open struggle signal(s); {intervention} is the first intervention the "
            f"policy allows, on {channel}.",
        },
    )
    run.steps.append(step)
    call(step)
    if run.failed:
        return run
    if step.status == "success":
        run.chosen = intervention
        run.answer = f"I scheduled {intervention} on {channel} for escalation {escalation_id}."
    else:
        run.answer = f"The request for {intervention} was refused, so I schedule nothing; the rules' decision stands."
    return run


# --- the context analysis (Converse with a forced tool) ------------------------------------------------

ADVICE = {
    "rage_tap": "make the control the user keeps pressing respond visibly",
    "repeated_attempts": "explain what failed and how to get it right",
    "error_pattern": "offer a way around the error the user keeps hitting",
    "screen_loop": "show the way to where the user is trying to get",
    "abandonment": "help the user finish the flow they left",
    "help_seeking": "answer the user's question where they asked it",
}
INTENTS = (
    (("checkout", "payment", "cart", "purchase"), "to complete a purchase"),
    (("signup", "sign_up", "onboarding", "register"), "to sign up"),
    (("login", "password"), "to sign in"),
    (("help", "support", "faq"), "to get help with a problem"),
    (("video", "watch", "tutorial"), "to learn from the videos"),
)


def analysis_values(text: str) -> dict[str, Any]:
    """The analysis' meaning, from the request's words only (deterministic)."""
    lower = text.lower()
    kinds = [kind for kind in SIGNAL_TYPES if kind in lower]
    intent = next((name for words, name in INTENTS if any(word in lower for word in words)), "to explore the app")
    if "high" in lower and ("risk" in lower or "band" in lower):
        level = "low"
    elif len(kinds) >= 2:
        level = "medium"
    else:
        level = "high" if not kinds else "medium"
    return {
        "intent": f"The user most likely wants {intent}.",
        "engagementLevel": level,
        "dropOffRiskFactors": [f"{kind} signals" for kind in kinds] or ["none seen in the data given"],
        "personalizationRecommendations": [ADVICE[kind] for kind in kinds][:3] or ["keep the experience as it is"],
        "nextBestActions": [f"address {kind}" for kind in kinds][:3] or ["no action needed"],
        "summary": f"local stand-in analysis: intent {intent}, engagement {level}, {len(kinds)} struggle type(s) named",
    }


def fill_schema(schema: dict[str, Any], known: dict[str, Any], name: str = "") -> Any:
    """A value that fits ``schema`` (the forced tool's input schema), taking ``known[name]`` where it fits."""
    kind = schema.get("type")
    if kind is None and "anyOf" in schema:
        options = [o for o in schema["anyOf"] if o.get("type") != "null"]
        return fill_schema(options[0], known, name) if options else None
    value = known.get(name)
    enum = schema.get("enum")
    if enum:
        return value if value in enum else next((e for e in enum if str(value or "") in str(e)), enum[0])
    if kind == "object":
        props = schema.get("properties") or {}
        wanted = set(schema.get("required") or props)
        return {key: fill_schema(spec, known, key) for key, spec in props.items() if key in wanted or key in known}
    if kind == "array":
        items = schema.get("items") or {"type": "string"}
        values = value if isinstance(value, list) else [value or name or "item"]
        out = [fill_schema(items, {name: v}, name) for v in values]
        return out[: schema["maxItems"]] if "maxItems" in schema else out
    if kind in ("number", "integer"):
        low, high = schema.get("minimum", 0), schema.get("maximum", 1 if kind == "number" else 100)
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else (low + high) / 2
        return int(number) if kind == "integer" else float(number)
    if kind == "boolean":
        return bool(value)
    text = value if isinstance(value, str) else (json.dumps(value) if value is not None else f"{name or 'value'}")
    return text[: schema["maxLength"]] if "maxLength" in schema else text


# --- the server ---------------------------------------------------------------------------------------


class StandInError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class BedrockStandIn:
    """The stand-in's HTTP server on 127.0.0.1 (a free port), in a thread. ``endpoint`` is its URL."""

    def __init__(
        self,
        groups: ActionGroups | None = None,
        mode: str = "ok",
        region: str = "us-east-1",
        model_id: str = "us.amazon.nova-2-lite-v1:0",
        budget_ms: int = DEFAULT_BUDGET_MS,
        gateway_name: str = "journey_tools",
    ):
        if mode not in MODES:
            raise ValueError(f"the Bedrock stand-in's mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.groups, self.mode, self.region, self.model_id = groups, mode, region, model_id
        self.budget_ms, self.gateway_name = budget_ms, gateway_name
        self.calls: Counter[tuple[str, str]] = Counter()
        self.runs: list[AgentRun] = []
        self._lock = threading.Lock()
        self._failures = 0
        self._failing: dict[str, bool] = {}  # escalation id -> throttled (else unavailable), in the order first asked
        self._stop = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.endpoint = ""

    # --- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> BedrockStandIn:
        standin = self

        class Handler(_Handler):
            owner = standin

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self._server.daemon_threads = True
        self.endpoint = f"http://{HOST}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="bedrock-standin", daemon=True)
        self._thread.start()
        log.warning("%s on %s, mode %s", LABEL, self.endpoint, self.mode)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def summary(self) -> dict[str, Any]:
        """What the report shows: the label, the mode, the calls by operation and outcome."""
        with self._lock:
            calls: dict[str, dict[str, int]] = {}
            for (operation, outcome), count in sorted(self.calls.items()):
                calls.setdefault(operation, {})[outcome] = count
            chose = sum(1 for r in self.runs if r.chosen)
            return {
                "label": LABEL,
                "mode": self.mode,
                "endpoint": self.endpoint,
                "calls": calls,
                "agent_runs": len(self.runs),
                "agent_scheduled": chose,
            }

    def count(self, operation: str, outcome: str) -> None:
        with self._lock:
            self.calls[(operation, outcome)] += 1

    # --- the modes -------------------------------------------------------------------------------------
    def before_answer(self, operation: str, escalation: str = "") -> str:
        """``failing``: raise AWS's error, 503 ServiceUnavailableException or 429 ThrottlingException in turn:
        per escalation (every attempt at one escalation gets the same error, so the invoker's retries of a
        throttled call end throttled), per call otherwise. ``slow``: wait past the invoker's budget, and say
        ``"late"``."""
        if self.mode == "failing":
            with self._lock:
                if escalation:
                    throttle = self._failing.setdefault(escalation, len(self._failing) % 2 == 1)
                else:
                    self._failures += 1
                    throttle = self._failures % 2 == 0
            if throttle:
                self.count(operation, "throttled")
                raise StandInError(
                    429,
                    "ThrottlingException",
                    "Too many requests, please wait before trying again. (local stand-in, mode failing)",
                )
            self.count(operation, "unavailable")
            raise StandInError(503, "ServiceUnavailableException", "Bedrock is unavailable. (local stand-in, mode failing)")
        if self.mode == "slow":
            self.count(operation, "slow")
            self._stop.wait(self.budget_ms / 1000 + SLOW_MARGIN_S)
            return "late"
        return ""

    def _late_harness(self) -> bytes:
        """A slow answer: by now the invoker has given up, so the agent runs no tool (nothing it asked
        for would be in time); one sentence, and the stream's end."""
        stream = _HarnessStream()
        stream.message("assistant", "end_turn", {"text": LATE_ANSWER})
        usage = {"inputTokens": 1, "outputTokens": tokens(LATE_ANSWER), "totalTokens": 1 + tokens(LATE_ANSWER)}
        stream.frames.append(
            encode_event("metadata", {"usage": usage, "metrics": {"latencyMs": int(self.budget_ms + SLOW_MARGIN_S * 1000)}})
        )
        return b"".join(stream.frames)

    # --- InvokeHarness ---------------------------------------------------------------------------------
    def invoke_harness(self, query: dict[str, str], headers: dict[str, str], body: dict[str, Any]) -> bytes:
        if query.get("harnessArn") != harness_arn(self.region):
            self.count("InvokeHarness", "not_found")
            raise StandInError(
                404,
                "ResourceNotFoundException",
                f"harness {query.get('harnessArn')!r} not found (the local stand-in plays {harness_arn(self.region)})",
            )
        started = time.monotonic()
        prompt = " ".join(
            block.get("text", "") for message in body.get("messages") or [] for block in message.get("content") or []
        )
        system = " ".join(block.get("text", "") for block in body.get("systemPrompt") or [])
        user, escalation = find_request(prompt, headers.get("x-amzn-bedrock-agentcore-runtime-user-id", ""))
        if self.before_answer("InvokeHarness", escalation) == "late":
            return self._late_harness()
        model = ((body.get("model") or {}).get("bedrockModelConfig") or {}).get("modelId") or self.model_id
        stream = _HarnessStream()

        def call(step: ToolStep) -> None:
            name = f"{step.group}{GATEWAY_SEPARATOR}{step.tool}"
            tool_use_id = f"tooluse_{uuid.uuid4().hex[:22]}"
            use = {"toolUseId": tool_use_id, "name": name, "type": "mcp_tool_use", "serverName": self.gateway_name}
            stream.message("assistant", "tool_use", {"toolUse": {"input": json.dumps(step.arguments)}}, {"toolUse": use})
            step.hook = self.groups.before_tool_call(name, step.arguments) if self.groups else ("", "")
            if step.hook[0]:
                hook = {
                    "hookEventId": uuid.uuid4().hex,
                    "name": "policy_gate",
                    "type": "before_tool_call",
                    "decision": step.hook[0],
                }
                stream.frames.append(
                    encode_event("hookEvent", {**hook, **({"reason": step.hook[1][:500]} if step.hook[1] else {})})
                )
            if step.hook[0] == "deny":
                step.status, step.result = "error", {"error": f"denied by the before-tool-call hook: {step.hook[1]}"}
            elif self.groups is None:
                step.status, step.result = "error", {"error": "no action groups wired to the local stand-in"}
            else:
                step.result = self.groups.gateway(step.group, step.tool, step.arguments)
                step.status = "error" if isinstance(step.result, dict) and step.result.get("isError") else "success"
            result = {"toolResult": [{"text": json.dumps(step.result, default=str)}]}
            stream.message("user", "tool_result", result, {"toolResult": {"toolUseId": tool_use_id, "status": step.status}})

        run = run_agent(AgentRun(user, escalation), call)
        self._remember(run)
        stream.message("assistant", "end_turn", {"text": run.answer})
        read = tokens(system + prompt) + sum(tokens(s.result) for s in run.steps)
        wrote = tokens(run.output_text)
        usage = {"inputTokens": read, "outputTokens": wrote, "totalTokens": read + wrote}
        latency = int((time.monotonic() - started) * 1000)
        stream.frames.append(encode_event("metadata", {"usage": usage, "metrics": {"latencyMs": latency}}))
        log.info("%s: InvokeHarness %s for %s (%s)", LABEL, escalation, model, run.chosen or "nothing scheduled")
        self.count("InvokeHarness", "ok")
        return b"".join(stream.frames)

    # --- InvokeAgent -----------------------------------------------------------------------------------
    def invoke_agent(self, agent_id: str, alias_id: str, session_id: str, body: dict[str, Any]) -> bytes:
        if (agent_id, alias_id) != (PLACEHOLDER_AGENT_ID, PLACEHOLDER_AGENT_ALIAS_ID):
            self.count("InvokeAgent", "not_found")
            raise StandInError(
                404,
                "ResourceNotFoundException",
                f"agent {agent_id}/{alias_id} not found (the local stand-in plays {PLACEHOLDER_AGENT_ID}/{PLACEHOLDER_AGENT_ALIAS_ID})",
            )
        state = body.get("sessionState") or {}
        attributes = {str(k): str(v) for k, v in (state.get("sessionAttributes") or {}).items()}
        text = str(body.get("inputText") or "")
        user, escalation = find_request(text, attributes.get("userId", ""), attributes.get("escalationId", ""))
        if self.before_answer("InvokeAgent", escalation) == "late":
            return encode_event("chunk", {"bytes": base64.b64encode(LATE_ANSWER.encode()).decode()})
        trace = bool(body.get("enableTrace"))
        frames: list[bytes] = []
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

        def trace_event(part: dict[str, Any]) -> None:
            if trace:
                frames.append(
                    encode_event(
                        "trace",
                        {
                            "agentId": agent_id,
                            "agentAliasId": alias_id,
                            "agentVersion": "1",
                            "sessionId": session_id,
                            "eventTime": now,
                            "trace": {"orchestrationTrace": part},
                        },
                    )
                )

        def usage(read: Any, wrote: Any) -> dict[str, Any]:
            return {
                "modelInvocationOutput": {
                    "traceId": trace_id,
                    "metadata": {"usage": {"inputTokens": tokens(read), "outputTokens": tokens(wrote)}},
                }
            }

        trace_id = f"{uuid.uuid4()}-0"
        context = text

        def call(step: ToolStep) -> None:
            nonlocal context
            parameters = [
                {"name": k, "type": "integer" if isinstance(v, int) else "string", "value": str(v)}
                for k, v in step.arguments.items()
            ]
            trace_event(
                {
                    "modelInvocationInput": {
                        "traceId": trace_id,
                        "type": "ORCHESTRATION",
                        "foundationModel": self.model_id,
                        "text": context[-2000:],
                    }
                }
            )
            trace_event(usage(context, parameters))
            trace_event({"rationale": {"traceId": trace_id, "text": f"Calling {step.tool} for the user of the escalation."}})
            trace_event(
                {
                    "invocationInput": {
                        "traceId": trace_id,
                        "invocationType": "ACTION_GROUP",
                        "actionGroupInvocationInput": {
                            "actionGroupName": step.group,
                            "function": step.tool,
                            "parameters": parameters,
                            "executionType": "LAMBDA",
                        },
                    }
                }
            )
            answer = (
                self.groups.classic(
                    step.group,
                    step.tool,
                    parameters,
                    {
                        "sessionId": session_id,
                        "sessionAttributes": attributes,
                        "promptSessionAttributes": state.get("promptSessionAttributes") or {},
                        "inputText": text,
                    },
                )
                if self.groups
                else {}
            )
            response = (answer.get("response") or {}).get("functionResponse") or {}
            body_text = str(((response.get("responseBody") or {}).get("TEXT") or {}).get("body", ""))
            try:
                step.result = json.loads(body_text)
            except ValueError:
                step.result = body_text
            step.status = "error" if response.get("responseState") else "success"
            context += body_text
            trace_event(
                {"observation": {"traceId": trace_id, "type": "ACTION_GROUP", "actionGroupInvocationOutput": {"text": body_text}}}
            )
            if response.get("responseState") == "FAILURE":
                run.failed = (
                    f"The server encountered an error processing the Lambda response. {step.group}/{step.tool}: {body_text[:300]}"
                )

        run = AgentRun(user, escalation)
        run_agent(run, call)
        self._remember(run)
        if run.failed:
            frames.append(encode_exception("dependencyFailedException", run.failed, resourceName=run.steps[-1].group))
            self.count("InvokeAgent", "dependency_failed")
            return b"".join(frames)
        trace_event(usage(context, run.answer))
        trace_event({"observation": {"traceId": trace_id, "type": "FINISH", "finalResponse": {"text": run.answer}}})
        frames.append(encode_event("chunk", {"bytes": base64.b64encode(run.answer.encode()).decode()}))
        self.count("InvokeAgent", "ok")
        return b"".join(frames)

    # --- Converse --------------------------------------------------------------------------------------
    def converse(self, model_id: str, body: dict[str, Any]) -> dict[str, Any]:
        started = time.monotonic()
        self.before_answer("Converse")
        text = " ".join(
            str(block.get("text", ""))
            for message in body.get("messages") or []
            for block in message.get("content") or []
            if isinstance(block, dict)
        )
        text += " " + " ".join(str(block.get("text", "")) for block in body.get("system") or [])
        config = body.get("toolConfig") or {}
        forced = ((config.get("toolChoice") or {}).get("tool") or {}).get("name")
        specs = {t["toolSpec"]["name"]: t["toolSpec"] for t in config.get("tools") or [] if "toolSpec" in t}
        if forced and forced not in specs:
            self.count("Converse", "invalid")
            raise StandInError(400, "ValidationException", f"toolChoice names {forced!r}, which is not in toolConfig.tools")
        values = analysis_values(text)
        if forced:
            schema = (specs[forced].get("inputSchema") or {}).get("json") or {"type": "object"}
            content: list[dict[str, Any]] = [
                {
                    "toolUse": {
                        "toolUseId": f"tooluse_{uuid.uuid4().hex[:22]}",
                        "name": forced,
                        "input": fill_schema(schema, values),
                    }
                }
            ]
            stop = "tool_use"
        else:
            content, stop = [{"text": values["summary"]}], "end_turn"
        read, wrote = tokens(body.get("messages") or []), tokens(content)
        self.count("Converse", "ok")
        return {
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": stop,
            "usage": {"inputTokens": read, "outputTokens": wrote, "totalTokens": read + wrote},
            "metrics": {"latencyMs": int((time.monotonic() - started) * 1000)},
        }

    def _remember(self, run: AgentRun) -> None:
        with self._lock:
            self.runs.append(run)


class _HarnessStream:
    """InvokeHarness's events, one content block per message (a tool use, a tool result, the answer)."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.index = 0

    def message(self, role: str, stop: str, delta: dict[str, Any], start: dict[str, Any] | None = None) -> None:
        block = {"contentBlockIndex": self.index}
        self.frames.append(encode_event("messageStart", {"role": role}))
        if start is not None:
            self.frames.append(encode_event("contentBlockStart", {**block, "start": start}))
        self.frames.append(encode_event("contentBlockDelta", {**block, "delta": delta}))
        self.frames.append(encode_event("contentBlockStop", block))
        self.frames.append(encode_event("messageStop", {"stopReason": stop}))
        self.index += 1


class _Handler(BaseHTTPRequestHandler):
    owner: BedrockStandIn
    protocol_version = "HTTP/1.1"
    server_version = "LocalBedrockStandIn"

    AGENT_PATH = re.compile(r"^/agents/([^/]+)/agentAliases/([^/]+)/sessions/([^/]+)/text$")
    MODEL_PATH = re.compile(r"^/model/(.+)/(converse|converse-stream|invoke|invoke-with-response-stream)$")

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("bedrock stand-in: " + format, *args)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        path = unquote(url.path)
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise ValueError("the body is not a JSON object")
        except ValueError as exc:
            self._error(StandInError(400, "ValidationException", f"malformed request body: {exc}"))
            return
        try:
            if path == "/harnesses/invoke":
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                headers = {k.lower(): v for k, v in self.headers.items()}
                self._stream(self.owner.invoke_harness(query, headers, body), {})
            elif match := self.AGENT_PATH.match(path):
                agent_id, alias_id, session_id = match.groups()
                frames = self.owner.invoke_agent(agent_id, alias_id, session_id, body)
                self._stream(
                    frames,
                    {"x-amzn-bedrock-agent-content-type": "application/json", "x-amz-bedrock-agent-session-id": session_id},
                )
            elif (match := self.MODEL_PATH.match(path)) and match.group(2) == "converse":
                self._json(200, self.owner.converse(match.group(1), body))
            else:
                raise StandInError(404, "UnknownOperationException", f"the local Bedrock stand-in does not play POST {path}")
        except StandInError as exc:
            self._error(exc)
        except Exception as exc:
            log.exception("the Bedrock stand-in failed")
            self._error(StandInError(500, "InternalServerException", f"local stand-in failure: {type(exc).__name__}: {exc}"))

    def _send(self, status: int, content_type: str, payload: bytes, headers: dict[str, str]) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the caller gave up waiting (slow mode): as in AWS, nobody reads it
            log.debug("bedrock stand-in: the caller left before the answer")

    def _stream(self, frames: bytes, headers: dict[str, str]) -> None:
        self._send(200, EVENT_STREAM, frames, headers)

    def _json(self, status: int, document: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self._send(status, "application/json", json.dumps(document).encode(), headers or {})

    def _error(self, error: StandInError) -> None:
        # AWS's rest-json error: the code in x-amzn-ErrorType, the message in the body
        self._json(
            error.status,
            {"message": error.message},
            {"x-amzn-ErrorType": f"{error.code}:http://internal.amazon.com/coral/com.amazon.bedrock/"},
        )
