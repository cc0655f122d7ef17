"""One call of the agent (or of the context analyst's model): what is asked, what comes back, and the
ways it fails. The adapters (``journey.adapters.aws.bedrock_*``) produce these from Bedrock's
answers and classify every failure into one of the errors below, once; the use cases
(``journey.app.escalation``, ``journey.app.context_analysis``) decide what each one means.

They live in the domain, not in ``app/``, because the adapters raise and return them and adapters
never import use-case modules (the import contract)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from journey.errors import JourneyError, TransientError

SESSION_PREFIX = "journey-"


def agent_session_id(tenant: str, user_id: str) -> str:
    """The agent's session of one user: stable (the same user's escalations share the agent's
    session memory), never the user id itself, and within every API's rules: 40 characters of
    ``[a-z0-9-]`` (AgentCore's runtimeSessionId takes 33 to 100 of ``[a-zA-Z0-9][a-zA-Z0-9-_]*``;
    InvokeAgent's sessionId 2 to 100 of ``[0-9a-zA-Z._:-]``)."""
    return SESSION_PREFIX + hashlib.blake2b(f"{tenant}|{user_id}".encode(), digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class AgentRequest:
    """Ask the agent to decide one escalation."""

    session_id: str
    user_id: str
    escalation_id: str
    prompt: str
    session_attributes: dict[str, str]  # userId, escalationId, tenant: the action groups check what the model sends against them
    timeout_s: float  # what is left of the time budget: the adapter must answer (or fail) within it


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool the agent called, and how it ended: ``success`` / ``error`` (AgentCore's tool result),
    ``returned`` (Agents Classic's observation came back), ``called`` (no result seen)."""

    name: str
    status: str


@dataclass(frozen=True, slots=True)
class AgentReply:
    """The agent's answer, with what it cost."""

    text: str
    tool_calls: tuple[ToolCall, ...]
    model: str
    input_tokens: int
    output_tokens: int
    latency_ms: int  # what the caller waited, call to last event
    stop_reason: str = ""
    hooks: tuple[tuple[str, str], ...] = ()  # AgentCore hook events seen: (hook name, allow | deny)

    def scheduled(self) -> bool:
        """The agent asked for an intervention (``schedule_intervention`` returned without error)."""
        return any(call.name == "schedule_intervention" and call.status != "error" for call in self.tool_calls)


@dataclass(frozen=True, slots=True)
class ModelCall:
    """One Converse call's provenance: the model and what it cost."""

    model: str
    input_tokens: int
    output_tokens: int
    latency_ms: int
    stop_reason: str = ""


class AgentError(JourneyError):
    """An agent call that gave no usable answer. ``reason`` says why in words a person can act on;
    what the call cost is kept where it is known (a malformed answer still used tokens). ``code`` is
    the fallback's reason code (the metric, the escalation command)."""

    code = "unavailable"

    def __init__(
        self, reason: str, *, model: str = "", input_tokens: int = 0, output_tokens: int = 0, latency_ms: int = 0
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.model = model
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens
        self.latency_ms = latency_ms


class AgentThrottled(AgentError, TransientError):
    """Bedrock refused the call for its rate or quota: a later attempt may pass (the use case retries
    it with jittered backoff, within the budget)."""

    code = "throttled"


class AgentUnavailable(AgentError):
    """The call failed: refused (validation, access, a missing agent), or the service failed."""

    code = "unavailable"


class AgentTimedOut(AgentError):
    """No answer within the time budget."""

    code = "timeout"


class MalformedAgentReply(AgentError):
    """An answer that is not one the contract allows (the stream cut short, a tool input that is not
    JSON, text where the forced tool was due, a value the schema refuses): ``reason`` names what."""

    code = "malformed"
