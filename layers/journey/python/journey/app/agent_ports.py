"""The ports of the AI use cases: the agent that decides escalations, the model that analyses a
user's context, and the cache of its analyses. ``journey.adapters.aws.bedrock_agents``,
``bedrock_converse`` and ``context_cache`` implement them on AWS; tests wire fakes.

The values they exchange and the errors they raise are the domain's (``journey.agent.invocation``,
``journey.agent.context``): adapters produce them and never import use-case modules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from journey.agent.context import AnalysisRequest, AnalystAnswer, CachedAnalysis
from journey.agent.invocation import (
    AgentError,
    AgentReply,
    AgentRequest,
    AgentThrottled,
    AgentTimedOut,
    AgentUnavailable,
    MalformedAgentReply,
)
from journey.app.ports import CommandStream

__all__ = [
    "Agent",
    "AgentError",
    "AgentReply",
    "AgentRequest",
    "AgentThrottled",
    "AgentTimedOut",
    "AgentUnavailable",
    "AnalysisCache",
    "AnalysisRequest",
    "AnalystAnswer",
    "CachedAnalysis",
    "ContextAnalyst",
    "ContextPorts",
    "EscalationPorts",
    "MalformedAgentReply",
]


class Agent(Protocol):
    def invoke(self, request: AgentRequest) -> AgentReply:
        """Ask the agent to decide one escalation, and read its whole answer, within
        ``request.timeout_s``. Every failure is raised as one of the :class:`AgentError`\\ s:
        :class:`AgentThrottled` (a later attempt may pass), :class:`AgentTimedOut`,
        :class:`AgentUnavailable`, :class:`MalformedAgentReply`, each with its reason."""


class ContextAnalyst(Protocol):
    def analyse(self, request: AnalysisRequest) -> AnalystAnswer:
        """One structured analysis within ``request.timeout_s``, validated; failures raised as
        :class:`AgentError`\\ s (a reply that does not fit the schema: :class:`MalformedAgentReply`)."""


class AnalysisCache(Protocol):
    def get(self, user_id: str) -> CachedAnalysis | None:
        """The user's cached analysis (None: none, or unreadable). May return a stale one: the use
        case judges freshness. Failures raise ``JourneyError`` (``TransientError`` when a retry may fix it)."""

    def put(self, user_id: str, entry: CachedAnalysis, expires_at_ms: int) -> None:
        """Keep the user's analysis until ``expires_at_ms`` (the item's TTL). Failures raise as ``get``'s do."""


@dataclass
class EscalationPorts:
    """What the agent invoker talks to: the agent (None: no agent deployed, the rules decide), and the
    event stream it appends its ``escalation`` command to."""

    agent: Agent | None
    commands: CommandStream


@dataclass
class ContextPorts:
    """What the context analysis talks to (None: not configured; the analysis is then unavailable)."""

    analyst: ContextAnalyst | None
    cache: AnalysisCache | None
