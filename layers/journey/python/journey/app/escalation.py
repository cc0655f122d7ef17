"""The agent invoker's use case: resolve one escalation (a hard case the stream processor handed over)
with the agent, within its time budget, or let the rules' decision stand, and say which.

The agent acts through its tools: what it schedules reaches the user's stream as ``schedule``
commands (the action groups append them; the stream processor folds them through the policy). This
use case only asks, waits at most the budget, and closes the escalation with ONE ``escalation``
command carrying the provenance (who decided, why, the model, latency, tokens). The stream processor
never waits for any of it: it holds the rules' decision until this command or the escalation's
deadline comes.

Time budget: ``min(start + time_budget_ms, expiresAt, not_after_ms)``. The agent call is given what is
left (``AgentRequest.timeout_s``: the adapters pass it to Bedrock and their read timeout) and is
waited for at most that plus :data:`GUARD_MS` on a worker thread, so even an adapter that hangs
cannot hold the invoker past the budget. Throttling is retried (full-jitter exponential backoff) only
while the budget allows another call; no sleep ever runs past the budget. The clients make one
attempt each (no SDK retries): this use case owns the retries because it owns the budget."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, TypeVar

import orjson

from journey.agent.breaker import CircuitBreaker
from journey.agent.escalation import Escalation
from journey.agent.invocation import AgentError, AgentReply, AgentThrottled, AgentTimedOut, ToolCall, agent_session_id
from journey.agent.prompts import escalation_prompt, session_attributes
from journey.app.agent_ports import Agent, AgentRequest, AgentUnavailable, EscalationPorts
from journey.errors import JourneyError, TransientError
from journey.events.commands import escalation_command
from journey.settings import AgentSettings

T = TypeVar("T")
REQUESTED_BY = "agent-invoker"
MIN_CALL_MS = 250  # a call with less of the budget left than this is not started
GUARD_MS = 250  # how long past the budget the invoker waits for an adapter to report its own timeout
BACKOFF_BASE_MS = 200
BACKOFF_CAP_MS = 2_000


class Fallback:
    """Why the rules' decision stands (the reason code: the metric ``FallbackReason_<code>``)."""

    EXPIRED = "expired"  # the escalation's deadline passed (or too little of it was left) before a call
    CIRCUIT_OPEN = "circuit_open"  # the breaker is open: Bedrock kept failing
    DISABLED = "disabled"  # no agent is deployed (JOURNEY_AGENT__MODE=none)
    THROTTLED = "throttled"  # still throttled when the retries or the budget ran out
    TIMEOUT = "timeout"  # no answer within the budget
    UNAVAILABLE = "unavailable"  # refused or failed (the reason says which)
    MALFORMED = "malformed"  # an answer the contract does not allow (the reason names what)


class InvalidEscalation(JourneyError):
    """A queue message that is not an escalation: permanent (a redelivery reads the same bytes)."""


@dataclass(frozen=True, slots=True)
class Resolution:
    """How one escalation was closed, and the command that says so."""

    escalation_id: str
    decider: str  # "agent" | "fallback"
    code: str  # agent: "scheduled" | "no_intervention"; fallback: a Fallback code
    reason: str
    model: str = ""
    latency_ms: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    attempts: int = 0  # agent calls made
    tool_calls: tuple[ToolCall, ...] = ()
    command: dict[str, Any] = field(default_factory=dict)

    def log_fields(self) -> dict[str, Any]:
        return {
            "escalationId": self.escalation_id,
            "decider": self.decider,
            "code": self.code,
            "reason": self.reason[:500],
            "model": self.model,
            "latencyMs": self.latency_ms,
            "inputTokens": self.input_tokens,
            "outputTokens": self.output_tokens,
            "attempts": self.attempts,
            "toolCalls": [f"{call.name}:{call.status}" for call in self.tool_calls],
        }


def read_escalation(body: str | bytes) -> Escalation:
    """An SQS message body as an :class:`Escalation`; raise :class:`InvalidEscalation` with the reason."""
    try:
        message = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidEscalation(f"the message body is not JSON ({exc})") from None
    if not isinstance(message, dict):
        raise InvalidEscalation(f"the message body is a JSON {type(message).__name__}, not an object")
    try:
        return Escalation.from_message(message)
    except ValueError as exc:
        raise InvalidEscalation(str(exc)) from None


def backoff_ms(attempt: int, rng: random.Random) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2^attempt)) before retry number ``attempt + 1``."""
    return rng.uniform(0, min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2**attempt))


def resolve(
    escalation: Escalation,
    ports: EscalationPorts,
    cfg: AgentSettings,
    breaker: CircuitBreaker,
    clock: Callable[[], int],
    sleep: Callable[[float], None],
    rng: random.Random | None = None,
    not_after_ms: int | None = None,
) -> Resolution:
    """Resolve ``escalation`` within its budget and append its ``escalation`` command.

    ``clock``: epoch ms; ``sleep``: seconds; ``not_after_ms``: a hard stop of the caller's own (the
    Lambda invocation's remaining time). A failed append raises :class:`TransientError` (the message
    is redelivered; the command's id is the escalation's, so a redelivery cannot close it twice)."""
    start = clock()
    deadline = min(start + cfg.time_budget_ms, escalation.expiresAt, not_after_ms or escalation.expiresAt)
    if ports.agent is None:
        resolution = _fallback(escalation, Fallback.DISABLED, "no agent is deployed (JOURNEY_AGENT__MODE=none)")
    elif escalation.expiresAt - start < MIN_CALL_MS:
        left = max(0, escalation.expiresAt - start)
        resolution = _fallback(escalation, Fallback.EXPIRED, f"the escalation's deadline left {left} ms, too little for a call")
    elif deadline - start < MIN_CALL_MS:
        left = max(0, deadline - start)
        resolution = _fallback(
            escalation, Fallback.TIMEOUT, f"the invocation's remaining time left {left} ms, too little for a call"
        )
    elif not breaker.allow(start):
        resolution = _fallback(escalation, Fallback.CIRCUIT_OPEN, "the circuit breaker is open after repeated agent failures")
    else:
        resolution = _ask(escalation, ports.agent, cfg, breaker, clock, sleep, rng or random.Random(), start, deadline)
    return _close(escalation, resolution, ports, clock())


def _ask(
    escalation: Escalation,
    agent: Agent,
    cfg: AgentSettings,
    breaker: CircuitBreaker,
    clock: Callable[[], int],
    sleep: Callable[[float], None],
    rng: random.Random,
    start: int,
    deadline: int,
) -> Resolution:
    prompt, attributes = escalation_prompt(escalation), session_attributes(escalation)
    session = agent_session_id(escalation.tenant, escalation.userId)
    attempts = 0
    error: AgentError | None = None
    while True:
        remaining = deadline - clock()
        if remaining < MIN_CALL_MS:
            break
        attempts += 1
        request = AgentRequest(session, escalation.userId, escalation.escalationId, prompt, attributes, remaining / 1000)
        try:
            reply = call_within(
                partial(agent.invoke, request),
                (remaining + GUARD_MS) / 1000,
                f"no answer within the time budget ({remaining} ms left at the call)",
            )
        except AgentThrottled as exc:
            error = exc
            if attempts > cfg.max_retries:
                break
            delay = backoff_ms(attempts - 1, rng)
            if clock() + delay + MIN_CALL_MS > deadline:
                exc.reason = f"{exc.reason} (no budget left for retry {attempts})"
                break
            sleep(delay / 1000)
            continue
        except AgentError as exc:
            error = exc
            break
        breaker.record_success()
        return _agent_decided(escalation, reply, attempts)
    failure: AgentError = error or AgentTimedOut("the time budget ran out")
    breaker.record_failure(clock())
    return _fallback(
        escalation,
        failure.code,
        failure.reason,
        model=failure.model,
        latency_ms=max(failure.latency_ms, clock() - start),
        input_tokens=failure.input_tokens,
        output_tokens=failure.output_tokens,
        attempts=attempts,
    )


def call_within(call: Callable[[], T], wait_s: float, timeout_reason: str) -> T:
    """``call()`` on a worker thread, waited for at most ``wait_s``: raise :class:`AgentTimedOut` with
    ``timeout_reason`` when it has not returned by then. A worker left behind ends by itself (the
    adapters' read timeout is the budget); its answer is discarded. An :class:`AgentError` is raised
    as it is, anything else as :class:`AgentUnavailable` (an adapter's bug is a failed call, counted
    and logged, never a hung invoker)."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append((True, call()))
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread, which classifies it
            outcome.append((False, exc))

    worker = threading.Thread(target=run, name="bedrock-call", daemon=True)
    worker.start()
    worker.join(max(0.0, wait_s))
    if not outcome:
        raise AgentTimedOut(timeout_reason)
    ok, result = outcome[0]
    if ok:
        return result
    if isinstance(result, AgentError):
        raise result
    raise AgentUnavailable(f"the adapter failed unexpectedly: {type(result).__name__}: {result}") from result


def _agent_decided(escalation: Escalation, reply: AgentReply, attempts: int) -> Resolution:
    code = "scheduled" if reply.scheduled() else "no_intervention"
    summary = " ".join(reply.text.split())
    return Resolution(
        escalation_id=escalation.escalationId,
        decider="agent",
        code=code,
        reason=f"{code}: {summary}" if summary else code,
        model=reply.model,
        latency_ms=reply.latency_ms,
        input_tokens=reply.input_tokens,
        output_tokens=reply.output_tokens,
        attempts=attempts,
        tool_calls=reply.tool_calls,
    )


def _fallback(escalation: Escalation, code: str, detail: str, **provenance: Any) -> Resolution:
    return Resolution(
        escalation_id=escalation.escalationId, decider="fallback", code=code, reason=f"{code}: {detail}", **provenance
    )


def _close(escalation: Escalation, resolution: Resolution, ports: EscalationPorts, now_ms: int) -> Resolution:
    command = escalation_command(
        escalation.userId,
        escalation.tenant,
        escalation.escalationId,
        resolution.decider,
        resolution.reason,
        requested_by=REQUESTED_BY,
        at_ms=now_ms,
        model=resolution.model,
        latency_ms=resolution.latency_ms,
        input_tokens=resolution.input_tokens,
        output_tokens=resolution.output_tokens,
    )
    if ports.commands.append([command]):
        raise TransientError(
            f"the escalation command of {escalation.escalationId} could not be appended ({resolution.decider}: "
            f"{resolution.code}); the message is redelivered"
        )
    return replace(resolution, command=command)
