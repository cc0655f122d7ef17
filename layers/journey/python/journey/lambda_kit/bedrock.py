"""The agent's action groups on Lambda: one :class:`ActionGroup` per function serves its group's tools
(``journey.agent.tools.TOOLS``) to both deployments, and answers every error in one place.

* **Agents Classic** (function details): Powertools' ``BedrockAgentFunctionResolver``, one tool
  registered per tool of the group. The input event carries ``messageVersion``, ``agent``,
  ``actionGroup``, ``function``, ``parameters`` (``[{name, type, value}]``, every value a string) and
  ``sessionAttributes``; the answer is ``response.functionResponse.responseBody.TEXT.body`` with
  ``responseState`` on errors (https://docs.aws.amazon.com/bedrock/latest/userguide/agents-lambda.html).
  The invoker puts the escalation's user in ``sessionAttributes.userId``: a tool asked about any other
  user is refused.
* **AgentCore Gateway** (Lambda target): the event is the tool's arguments, nothing else; the tool's
  name is ``context.client_context.custom["bedrockAgentCoreToolName"]``, ``<target>___<tool>`` (the
  prefix stripped by ``journey.agent.tools.tool_name``), beside ``bedrockAgentCoreGatewayId``,
  ``bedrockAgentCoreTargetId``, ``bedrockAgentCoreMessageVersion``, ``bedrockAgentCoreAwsRequestId``
  (https://docs.aws.amazon.com/bedrock-agentcore/latest/devguide/gateway-add-target-lambda.html,
  "Lambda function input format"; gateway-tool-naming.html). The Gateway asks for "a valid JSON
  response that can be parsed by the gateway" and documents no error shape of its own: a function error
  reaches the model as the Gateway's "An internal error occurred" (gateway-debugging.html), losing the
  reason. So a refusal is answered, not raised, as an MCP ``CallToolResult`` with ``isError`` (the shape
  AWS Labs' ``run-mcp-servers-with-aws-lambda`` Gateway target handler returns, and the one proposed in
  aws/agent-toolkit-for-aws#60), with the reason both as its text and as ``error``.

Errors: arguments that do not fit the tool (``ToolArgumentsError``) come back with the message, a
refusal (``ToolRefused``) with its reason, a transient failure as ``retry later: ...``, anything else
as ``internal_error`` (logged): in Agents Classic each one with ``responseState`` FAILURE, never as a
successful answer. (AWS documents FAILURE as "the agent throws a DependencyFailedException for the
current session" and REPROMPT as "passes a response string to the model to reprompt it": the state
is one constant, :data:`ERROR_STATE`.)"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import BedrockAgentFunctionResolver, BedrockFunctionResponse
from aws_lambda_powertools.event_handler.bedrock_agent_function import BedrockFunctionsResponseBuilder
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import BedrockAgentFunctionEvent

from journey.agent.tools import TOOLS, ToolArgumentsError, tool_name
from journey.app.agent_tools import AgentToolPorts, ToolRefused, run_tool
from journey.errors import TransientError

log = logging.getLogger(__name__)

ERROR_STATE: Literal["FAILURE", "REPROMPT"] = "FAILURE"  # issue 12: errors come back as FAILURE, with the reason
SESSION_USER = "userId"  # the session attribute the agent invoker sets to the escalation's user
GATEWAY_TOOL_NAME = "bedrockAgentCoreToolName"
CLASSIC_KEYS = ("messageVersion", "agent", "actionGroup", "function")

Kind = Literal["answered", "invalid_arguments", "refused", "retry_later", "failed"]


@dataclass(frozen=True, slots=True)
class ToolAnswer:
    """What a tool call came to, whichever deployment asked: the tool's answer, or an error."""

    tool: str
    kind: Kind
    body: dict[str, Any] = field(default_factory=dict)
    error: str = ""  # the reason, for every kind but "answered"

    @property
    def retryable(self) -> bool:
        return self.kind == "retry_later"


def answer(name: str, raw: Any, ports: Callable[[], AgentToolPorts], session_user: str = "") -> ToolAnswer:
    """Run a tool and map what it raises, the one place errors become answers."""
    tool = tool_name(name)
    try:
        if not isinstance(raw, dict):
            raise ToolArgumentsError(f"{tool}: the arguments must be a JSON object")
        return ToolAnswer(tool, "answered", run_tool(name, raw, ports(), session_user))
    except ToolArgumentsError as exc:
        return ToolAnswer(tool, "invalid_arguments", error=str(exc))
    except ToolRefused as exc:
        return ToolAnswer(tool, "refused", error=str(exc))
    except TransientError as exc:
        log.warning("tool %s failed transiently: %s", tool, exc)
        return ToolAnswer(tool, "retry_later", error=f"retry later: {exc}")
    except Exception:  # answered as a failure the agent sees, and logged in full
        log.exception("tool %s failed", tool)
        return ToolAnswer(tool, "failed", error="internal_error: the tool failed; the error is logged")


def as_text(body: Any) -> str:
    """The response body's text (Agents Classic: ``responseBody.TEXT.body``)."""
    return body if isinstance(body, str) else json.dumps(body, separators=(",", ":"), default=str)


def gateway_result(result: ToolAnswer) -> dict[str, Any]:
    """The Gateway target's answer: the tool's JSON, or an MCP ``CallToolResult`` with ``isError``."""
    if result.kind == "answered":
        return result.body
    return {
        "isError": True,
        "content": [{"type": "text", "text": result.error}],
        "error": result.error,
        "retryable": result.retryable,
    }


def gateway_tool(context: Any) -> str:
    """The tool a Gateway invocation asks for (``<target>___<tool>``), "" for any other invocation."""
    custom = getattr(getattr(context, "client_context", None), "custom", None)
    if not isinstance(custom, dict):
        return ""
    # the devguide spells it bedrockAgentCoreToolName; early samples read bedrockagentcoreToolName
    return str(custom.get(GATEWAY_TOOL_NAME) or custom.get("bedrockagentcoreToolName") or "")


def is_classic(event: Any) -> bool:
    return isinstance(event, dict) and all(key in event for key in CLASSIC_KEYS)


class ActionGroup:
    """One action group's tools behind one Lambda function, for both deployments."""

    def __init__(self, group: str, ports: Callable[[], AgentToolPorts], metrics: Metrics | None = None):
        self.group = group
        self.ports = ports
        self.metrics = metrics
        self.tools = {tool.name: tool for tool in TOOLS if tool.group == group}
        if not self.tools:
            raise ValueError(f"no tools in action group {group!r}")
        self.resolver = BedrockAgentFunctionResolver(serializer=as_text)
        for tool in self.tools.values():
            self.resolver.tool(name=tool.name, description=tool.description)(self._classic_tool(tool.name))

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        """Either deployment's invocation, told apart by its shape."""
        if gateway_tool(context):
            return self.gateway(event, context)
        if is_classic(event):
            return self.classic(event, context)
        log.warning("an invocation neither Agents Classic's nor the Gateway's: refused")
        return gateway_result(self._count(ToolAnswer("", "invalid_arguments", error="unrecognized invocation: no tool named")))

    # --- Agents Classic ------------------------------------------------------------------------------
    def classic(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        function = str(event.get("function", ""))
        if function not in self.tools:
            # the resolver would answer an unknown function as a successful text: refuse it here
            refused = self._count(
                ToolAnswer(
                    function, "invalid_arguments", error=f"no tool {function!r} in {self.group}; it has {', '.join(self.tools)}"
                )
            )
            response = BedrockFunctionResponse(body=refused.error, response_state=ERROR_STATE)
            return BedrockFunctionsResponseBuilder(response).build(BedrockAgentFunctionEvent(event), serializer=as_text)
        return self.resolver.resolve(event, context)

    def _classic_tool(self, name: str) -> Callable[[], BedrockFunctionResponse]:
        def call() -> BedrockFunctionResponse:
            event = self.resolver.current_event
            if event is None:  # the resolver always sets it before calling a tool
                raise RuntimeError("no current event")
            raw = {parameter.name: parameter.value for parameter in event.parameters}
            session_user = str(event.session_attributes.get(SESSION_USER) or "")
            result = self._count(answer(name, raw, self.ports, session_user))
            if result.kind == "answered":
                return BedrockFunctionResponse(body=result.body)
            return BedrockFunctionResponse(body=result.error, response_state=ERROR_STATE)

        call.__name__ = name
        return call

    # --- AgentCore Gateway ---------------------------------------------------------------------------
    def gateway(self, event: Any, context: Any) -> dict[str, Any]:
        name = tool_name(gateway_tool(context))
        if name not in self.tools:
            result = ToolAnswer(
                name, "invalid_arguments", error=f"no tool {name!r} in {self.group}; it has {', '.join(self.tools)}"
            )
        else:
            result = answer(name, event, self.ports)
        return gateway_result(self._count(result))

    def _count(self, result: ToolAnswer) -> ToolAnswer:
        if result.kind != "answered":
            log.info("tool %s: %s (%s)", result.tool, result.kind, result.error[:300])
        if self.metrics is not None:
            self.metrics.add_metric(name="ToolCalls", unit=MetricUnit.Count, value=1)
            self.metrics.add_metric(name=f"Tool_{result.kind}", unit=MetricUnit.Count, value=1)
            if result.tool in self.tools:
                self.metrics.add_metric(name=f"Tool_{result.tool}", unit=MetricUnit.Count, value=1)
        return result
