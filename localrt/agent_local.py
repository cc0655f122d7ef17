"""The escalation path on the local runtime: the escalation queue, the agent invoker behind its SQS event
source mapping, the three action groups, and the local stand-in for Amazon Bedrock that plays the agent
(docs/local-runtime.md, "AI decisions").

When the template declares an SQS event source mapping (the escalation queue → the agent invoker), the
runtime builds an :class:`AgentPath`:

* the invoker's and the action groups' handlers are loaded from their asset directories like the
  processor's, each with its environment from the template (``localrt.provision.function_environment``;
  the harness ARN and the agent's ids are the stand-in's named placeholders). One process plays every
  sandbox, so the environments join; the agent functions' own Powertools service name is in force
  while their modules are imported (their logger and metrics take it then), the processor's after;
* :class:`localrt.bedrock_standin.BedrockStandIn` is started on 127.0.0.1 and the functions' boto3
  clients reach it through ``AWS_ENDPOINT_URL_BEDROCK_AGENTCORE``, ``..._BEDROCK_AGENT_RUNTIME`` and
  ``..._BEDROCK_RUNTIME`` (set in this process only, restored at stop). It calls the action groups
  through :class:`LocalActionGroups`: the real handlers with the AgentCore Gateway's Lambda-target event
  and context, or Agents Classic's action-group event;
* :class:`localrt.sqs_esm.SqsEventSourceMapping` delivers the queue to the invoker. In AWS the agent
  path's functions run in their own sandboxes, beside the stream processor's, so here they run on their
  own threads, not under the processor's invocation lock: each agent function's Powertools metrics are
  its own (:func:`isolate_metrics`; Powertools shares them between every ``Metrics()`` of a process), and
  what they print reaches ``function.log`` a whole line at a time (:class:`LineWriter`). The action
  groups run inside the invoker's invocation (the stand-in calls them while the invoker waits for its
  answer).

Two clocks. The stream plays simulated time (each simulated user on their own clock), but what the agent
path measures is real: its time budget, retries and circuit breaker run on the wall clock, as in AWS.
So :class:`AgentClock` translates at the sandbox's edges: each escalation message is handed to the
invoker with its times (``escalatedAt``, ``expiresAt``) moved onto the wall clock (its arrival in the
user's time ↔ when it was sent to the queue), and each record the agent path appends to the stream (the
invoker's ``escalation`` command, the InterventionEngine's ``schedule`` command) is moved back onto its
user's clock, and arrives then (the answer comes as many real seconds after the escalation as it took).
The demo gives the escalations an answer grace of a simulated day: the stream's clock (and a user's next
session) runs hours ahead within a real second, and would otherwise find an escalation unanswered before
the agent had a real second to answer."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from journey.resources import ACTION_GROUPS
from localrt.bedrock_standin import (
    GATEWAY_SEPARATOR,
    LABEL,
    MODES,
    PLACEHOLDER_AGENT_ALIAS_ID,
    PLACEHOLDER_AGENT_ID,
    BedrockStandIn,
)
from localrt.esm import LambdaContext
from localrt.provision import Provisioned, function_environment
from localrt.sqs_esm import SqsEventSourceMapping, SqsMappingSpec, sqs_mappings
from localrt.template import FunctionSpec, Template

if TYPE_CHECKING:
    from localrt.runtime import LocalRuntime

log = logging.getLogger(__name__)
BEDROCK_ENV = "LOCALRT_BEDROCK"  # ok (default) | failing | slow, when the runtime is not told
ENDPOINT_VARIABLES = (
    "AWS_ENDPOINT_URL_BEDROCK_AGENTCORE",
    "AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME",
    "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
)
SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
PLACEHOLDER_GATEWAY_ID = "localstandin-gateway"
# caches of the agent path's wiring, process-wide in the library: emptied so a later runtime gets fresh ones
WIRING_CACHES = (
    ("journey.adapters.aws.agent_factories", "agent_tool_adapters"),
    ("journey.adapters.aws.agent_invoker_factories", "invoker_adapters"),
    ("journey.adapters.aws.bedrock", "_client"),
)


def bedrock_mode(value: str | None = None) -> str:
    """The stand-in's mode asked for (argument, else ``LOCALRT_BEDROCK``, else ``ok``)."""
    mode = (value or os.environ.get(BEDROCK_ENV) or "ok").strip().lower()
    if mode not in MODES:
        raise ValueError(f"the Bedrock stand-in's mode must be one of {', '.join(MODES)}, got {mode!r}")
    return mode


@dataclass
class AgentLambdaContext(LambdaContext):
    """Lambda's context with ``client_context`` (the AgentCore Gateway passes the tool's name in it)."""

    client_context: Any = None
    identity: Any = None


@dataclass
class ClientContext:
    custom: dict[str, Any] = field(default_factory=dict)
    env: dict[str, Any] = field(default_factory=dict)
    client: Any = None


# --- the two clocks -----------------------------------------------------------------------------------


class AgentClock:
    """Moves the agent path's times between each user's simulated clock and the wall clock (above).

    ``offsets[userId]`` = wall ms − simulated ms of the user's latest escalation handed to the invoker:
    its arrival in the user's time (``expiresAt`` − the budget − the grace, as the processor set it) is
    the moment it was sent to the queue (``SentTimestamp``)."""

    def __init__(self, window_ms: int):
        self.window_ms = window_ms  # time budget + answer grace: expiresAt - arrival
        self.offsets: dict[str, int] = {}
        self._thread = threading.local()  # .active: this thread runs the agent path (its puts are translated)

    @property
    def active(self) -> bool:
        return bool(getattr(self._thread, "active", False))

    @contextmanager
    def on_this_thread(self) -> Iterator[None]:
        """The agent path runs on this thread for a while: the stream records it puts are its."""
        before = self.active
        self._thread.active = True
        try:
            yield
        finally:
            self._thread.active = before

    def present(self, message: dict[str, Any]) -> None:
        """Move one queue message's times onto the wall clock (in place; its MD5 follows)."""
        try:
            body = json.loads(message["Body"])
            user, escalated, expires = body["userId"], int(body["escalatedAt"]), int(body["expiresAt"])
        except (KeyError, TypeError, ValueError):
            return  # not an escalation: the invoker reports it as it is
        sent = int(message.get("Attributes", {}).get("SentTimestamp") or time.time() * 1000)
        offset = sent - max(escalated, expires - self.window_ms)
        self.offsets[str(user)] = offset
        body["escalatedAt"], body["expiresAt"] = escalated + offset, expires + offset
        message["Body"] = json.dumps(body, separators=(",", ":"))
        message["MD5OfBody"] = hashlib.md5(message["Body"].encode()).hexdigest()

    def to_user(self, user: str, wall_ms: int) -> int | None:
        offset = self.offsets.get(user)
        return None if offset is None else wall_ms - offset


class AgentCommands:
    """Botocore hooks on the agent path's Kinesis client: each record it puts during an agent batch is
    stamped and arrives on its user's clock (:class:`AgentClock`), and is counted."""

    def __init__(self, clock: AgentClock, rt: LocalRuntime):
        self.clock, self.rt = clock, rt
        self.appended = 0
        self._hooked = None

    def hook(self) -> None:
        from journey.adapters.aws.clients import client

        kinesis = client("kinesis")
        if kinesis is self._hooked:
            return
        for operation in ("PutRecords", "PutRecord"):
            kinesis.meta.events.register(f"provide-client-params.kinesis.{operation}", self._present)
            kinesis.meta.events.register(f"after-call.kinesis.{operation}", self._arrived)
        self._hooked = kinesis

    def _present(self, params: dict, context: dict, **_: Any) -> None:
        if not self.clock.active:
            return
        records: list[dict] = params.get("Records", [params])
        arrivals = []
        for record in records:
            arrival = self._to_user(record)
            arrivals.append((record.get("PartitionKey", ""), arrival))
        context["localrt_agent_arrivals"] = arrivals

    def _to_user(self, record: dict) -> float | None:
        try:
            event = json.loads(record["Data"])
            at = self.clock.to_user(record["PartitionKey"], int(event["timestamp"]))
        except (KeyError, TypeError, ValueError):
            at = None
        if at is None:  # not a user the agent path has seen: the stream's newest arrival
            newest = max((m.newest_arrival_s or 0.0 for m in self.rt.mappings), default=0.0)
            return newest or None
        event["timestamp"] = at
        record["Data"] = json.dumps(event, separators=(",", ":")).encode()
        return at / 1000

    def _arrived(self, parsed: dict, context: dict, **_: Any) -> None:
        arrivals = context.pop("localrt_agent_arrivals", None)
        if arrivals is None:
            return
        results = parsed.get("Records") if "Records" in parsed else [parsed]
        accepted = [
            (key, result["SequenceNumber"], arrival)
            for (key, arrival), result in zip(arrivals, results or [], strict=False)
            if result.get("SequenceNumber") and not result.get("ErrorCode")
        ]
        self.rt.arrivals.given(accepted)
        self.appended += len(accepted)


# --- the action groups, as the stand-in calls them ------------------------------------------------------


@dataclass
class LoadedFunction:
    spec: FunctionSpec
    arn: str
    handler: Callable[[Any, Any], Any]

    def context(self, client_context: Any = None) -> AgentLambdaContext:
        context = AgentLambdaContext(
            function_name=self.spec.logical_id,
            invoked_function_arn=self.arn,
            memory_limit_in_mb=self.spec.memory_mb,
            timeout_s=self.spec.timeout_s,
            client_context=client_context,
        )
        context._deadline = time.time() + self.spec.timeout_s
        return context


class LocalActionGroups:
    """The action groups' real handlers, invoked as each deployment invokes them (the stand-in's
    :class:`localrt.bedrock_standin.ActionGroups`). Counts every call by tool and how it ended."""

    def __init__(self, functions: dict[str, LoadedFunction], targets: dict[str, str], clock: AgentClock):
        self.functions = functions  # action group -> its function
        self.targets = targets  # Gateway target name -> action group
        self.clock = clock
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def _count(self, tool: str, failed: bool) -> None:
        with self._lock:
            self.calls[f"{tool}:{'error' if failed else 'ok'}"] += 1

    def gateway(self, target: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        function = self.functions[self.targets.get(target, target)]
        custom = {
            "bedrockAgentCoreToolName": f"{target}{GATEWAY_SEPARATOR}{tool}",
            "bedrockAgentCoreGatewayId": PLACEHOLDER_GATEWAY_ID,
            "bedrockAgentCoreTargetId": target,
            "bedrockAgentCoreMessageVersion": "1.0",
            "bedrockAgentCoreAwsRequestId": str(uuid.uuid4()),
            "bedrockAgentCoreMcpMessageId": str(uuid.uuid4()),
        }
        with self.clock.on_this_thread():
            answer = function.handler(dict(arguments), function.context(ClientContext(custom=custom)))
        self._count(tool, isinstance(answer, dict) and bool(answer.get("isError")))
        return answer

    def classic(
        self, group: str, function_name: str, parameters: list[dict[str, str]], session: dict[str, Any]
    ) -> dict[str, Any]:
        function = self.functions[group]
        event = {
            "messageVersion": "1.0",
            "agent": {"name": "local-stand-in", "id": PLACEHOLDER_AGENT_ID, "alias": PLACEHOLDER_AGENT_ALIAS_ID, "version": "1"},
            "inputText": session.get("inputText", ""),
            "sessionId": session.get("sessionId", ""),
            "actionGroup": group,
            "function": function_name,
            "parameters": parameters,
            "sessionAttributes": session.get("sessionAttributes") or {},
            "promptSessionAttributes": session.get("promptSessionAttributes") or {},
        }
        with self.clock.on_this_thread():
            answer = function.handler(event, function.context())
        state = ((answer or {}).get("response") or {}).get("functionResponse", {}).get("responseState")
        self._count(function_name, bool(state))
        return answer

    def before_tool_call(self, tool: str, arguments: dict[str, Any]) -> tuple[str, str]:
        # The harness's before-tool-call hook (the InterventionEngine as the policy gate) is not played:
        # AgentCore publishes no event shape for a Lambda hook target that the function could be given.
        # The same gate sits in the action group itself, and the processor's check is the one that counts.
        return "", ""


# --- one process, many sandboxes ------------------------------------------------------------------------


def isolate_metrics(module: Any) -> None:
    """Give each ``Metrics`` of a handler module its own metric, dimension and metadata sets: Powertools
    shares them between every ``Metrics()`` of a process (one sandbox in Lambda), and the agent path's
    functions run here beside the processor, whose sets they must neither flush nor clear."""
    from aws_lambda_powertools import Metrics

    for value in list(vars(module).values()):
        if isinstance(value, Metrics):
            value.metric_set, value.dimension_set, value.metadata_set = {}, {}, {}
            value.default_dimensions = {}
            provider = value.provider
            provider.metric_set, provider.dimension_set = value.metric_set, value.dimension_set
            provider.metadata_set, provider.default_dimensions = value.metadata_set, value.default_dimensions


class LineWriter:
    """``sys.stdout`` for sandboxes running side by side: what a thread prints reaches the file a whole
    line at a time (``print`` writes the text and the newline apart; EMF lines must not interleave)."""

    def __init__(self, stream: Any):
        self.stream = stream
        self._pending = threading.local()
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        pending = getattr(self._pending, "text", "") + text
        if "\n" in pending:
            done, _, pending = pending.rpartition("\n")
            with self._lock:
                self.stream.write(done + "\n")
        self._pending.text = pending
        return len(text)

    def flush(self) -> None:
        with self._lock:
            self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


# --- the whole path -----------------------------------------------------------------------------------


class AgentPath:
    """The escalation path of one local runtime (see the module): ``start_polling``, ``idle``, ``stop``,
    ``summary``."""

    def __init__(self, rt: LocalRuntime, spec: SqsMappingSpec, mode: str):
        if rt.provisioned is None:
            raise RuntimeError("the escalation path starts once the runtime has provisioned the template")
        self.rt, self.spec, self.mode = rt, spec, mode
        self.provisioned: Provisioned = rt.provisioned
        self.template: Template = rt.template
        self.saved_streams: list[tuple[logging.StreamHandler, Any]] = []
        self.invoker = self._load(spec.function, "agent_invoker")
        from journey.settings import load_settings

        agent = load_settings().agent
        self.clock = AgentClock(agent.time_budget_ms + agent.answer_grace_ms)
        groups = self._action_group_functions()
        self.groups = LocalActionGroups(
            {group: self._load(lid, f"action_group_{group}") for group, lid in groups.items()},
            self._gateway_targets(),
            self.clock,
        )
        self.commands = AgentCommands(self.clock, rt)
        self.standin = BedrockStandIn(
            self.groups, mode, self.provisioned.region, agent.model_id, agent.time_budget_ms, self._gateway_name()
        ).start()
        rt._set_env(dict.fromkeys(ENDPOINT_VARIABLES, self.standin.endpoint))
        self._forget_wiring()
        self.saved_stdout = sys.stdout
        sys.stdout = LineWriter(sys.stdout)  # type: ignore[assignment]
        queue_url = self.provisioned.queue_urls[spec.queue]
        redrive = self.template.resources[spec.queue].get("Properties", {}).get("RedrivePolicy") or {}
        dead_letter = redrive.get("deadLetterTargetArn", {}).get("Fn::GetAtt", [None])[0]
        self.mapping = SqsEventSourceMapping(
            spec,
            sqs=rt.clients["sqs"],
            queue_url=queue_url,
            queue_arn=self.provisioned.arns[spec.queue],
            invoke=self.invoker.handler,
            context_factory=self.invoker.context,
            region=self.provisioned.region,
            dead_letter_url=self.provisioned.queue_urls.get(dead_letter) if dead_letter else None,
            around_batch=self._batch,
        )
        log.info("escalation path: %s → %s, %s (mode %s)", spec.queue, spec.function, LABEL, mode)

    # --- loading -------------------------------------------------------------------------------------
    def _load(self, function_id: str, name: str) -> LoadedFunction:
        """A function's handler, imported with its own environment (the Powertools service name only
        while importing: its logger and metrics take it then; the processor's stays in force)."""
        spec = self.template.functions[function_id]
        env = function_environment(self.template, self.provisioned, function_id)
        clashes = sorted(
            k for k, v in env.items() if k != SERVICE_NAME and os.environ.get(k, v) != v and k not in self.rt.extra_env
        )
        if clashes:
            log.warning(
                "%s needs other values of %s than the functions already loaded: the first ones stay", function_id, clashes
            )
        self.rt._set_env({k: v for k, v in env.items() if k not in os.environ and k not in self.rt.extra_env})
        module_name, attribute = spec.handler.rsplit(".", 1)
        saved = os.environ.get(SERVICE_NAME)
        if env.get(SERVICE_NAME):
            os.environ[SERVICE_NAME] = env[SERVICE_NAME]
        try:
            module_spec = importlib.util.spec_from_file_location(f"local_function_{name}", spec.code_path / f"{module_name}.py")
            if module_spec is None or module_spec.loader is None:
                raise RuntimeError(f"no handler module {module_name}.py in {spec.code_path}")
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
        finally:
            if saved is None:
                os.environ.pop(SERVICE_NAME, None)
            else:
                os.environ[SERVICE_NAME] = saved
        self._capture_logs(env.get(SERVICE_NAME))
        isolate_metrics(module)
        return LoadedFunction(spec, self.provisioned.arns[function_id], getattr(module, attribute))

    def _capture_logs(self, service: str | None) -> None:
        """The agent functions' logs go to ``function.log`` with the processor's, as to CloudWatch Logs."""
        handle = self.rt._log_handle
        if not service or handle is None:
            return
        for handler in logging.getLogger(service).handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is not handle:
                self.saved_streams.append((handler, handler.stream))
                handler.stream = handle

    def _action_group_functions(self) -> dict[str, str]:
        """Action group -> function logical id, from the template's Gateway targets or agent."""
        found: dict[str, str] = {}
        for target in self.template.of_type("AWS::BedrockAgentCore::GatewayTarget").values():
            props = target["Properties"]
            arn = props.get("TargetConfiguration", {}).get("Mcp", {}).get("Lambda", {}).get("LambdaArn", {})
            if "Fn::GetAtt" in arn:
                found[props["Name"]] = arn["Fn::GetAtt"][0]
        for agent in self.template.of_type("AWS::Bedrock::Agent").values():
            for group in agent["Properties"].get("ActionGroups", []):
                arn = group.get("ActionGroupExecutor", {}).get("Lambda", {})
                if isinstance(arn, dict) and "Fn::GetAtt" in arn:
                    found[group["ActionGroupName"]] = arn["Fn::GetAtt"][0]
        for group in ACTION_GROUPS:  # no agent resource (a template without one): by the function's name
            if group not in found:
                found[group] = next(lid for lid in self.template.functions if group in lid)
        return found

    def _gateway_targets(self) -> dict[str, str]:
        targets = {
            t["Properties"]["Name"]: t["Properties"]["Name"]
            for t in self.template.of_type("AWS::BedrockAgentCore::GatewayTarget").values()
        }
        return targets or {group: group for group in ACTION_GROUPS}

    def _gateway_name(self) -> str:
        for harness in self.template.of_type("AWS::BedrockAgentCore::Harness").values():
            for tool in harness["Properties"].get("Tools", []):
                if tool.get("Type") == "agentcore_gateway" and tool.get("Name"):
                    return str(tool["Name"])
        return "journey_tools"

    @staticmethod
    def _forget_wiring() -> None:
        import importlib

        for module_name, function in WIRING_CACHES:
            try:
                cached = getattr(importlib.import_module(module_name), function, None)
            except ImportError:
                continue
            if cached is not None and hasattr(cached, "cache_clear"):
                cached.cache_clear()

    # --- running -------------------------------------------------------------------------------------
    @contextmanager
    def _batch(self, messages: list[dict]) -> Iterator[None]:
        """Around one invocation of the invoker: its messages on the wall clock, its stream records back on
        their users' clocks (and the stream's poller waits for their arrivals)."""
        self.commands.hook()
        for message in messages:
            self.clock.present(message)
        with self.rt.arrivals.putting(), self.clock.on_this_thread():
            yield

    def start_polling(self) -> None:
        self.mapping.start()

    def idle(self) -> bool:
        return self.mapping.all_idle()

    def stop(self) -> None:
        self.mapping.stop()
        self.standin.stop()
        if isinstance(sys.stdout, LineWriter):
            sys.stdout.flush()
            sys.stdout = self.saved_stdout
        for handler, stream in self.saved_streams:
            handler.stream = stream
        self.saved_streams.clear()
        self._forget_wiring()

    def summary(self) -> dict[str, Any]:
        return {
            "bedrock_standin": self.standin.summary(),
            "agent_invoker": {**self.mapping.stats.as_dict(), "dead_letters": self.mapping.dead_letters()},
            "tool_calls": dict(sorted(self.groups.calls.items())),
            "agent_commands_appended": self.commands.appended,
        }


def agent_path(rt: LocalRuntime, mode: str | None = None) -> AgentPath | None:
    """The runtime's escalation path, or None when the template declares no SQS event source mapping
    (``-c agent=none``: the rules decide alone)."""
    specs = sqs_mappings(rt.template)
    if not specs:
        return None
    if len(specs) > 1:
        log.warning("the template has %d SQS event source mappings; the local runtime runs the first", len(specs))
    return AgentPath(rt, specs[0], bedrock_mode(mode))
