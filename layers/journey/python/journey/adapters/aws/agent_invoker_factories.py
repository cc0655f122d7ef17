"""Builds the agent invoker's adapters on AWS from the environment, once per process (lazily, never at
import). The handler wraps them in the use case's ``EscalationPorts`` (adapters never import use cases).

The agent by ``JOURNEY_AGENT__MODE``: ``agentcore`` → :class:`HarnessAgent` on ``AGENT_HARNESS_ARN``;
``classic`` → :class:`ClassicAgent` on ``AGENT_ID`` / ``AGENT_ALIAS_ID``; ``none`` → no agent (every
escalation falls back to the rules, reason ``disabled``). The command stream is the event stream the
deadline timer appends to (``EVENT_STREAM_NAME``)."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from journey.resources import Env
from journey.settings import load_settings


@lru_cache(maxsize=1)
def invoker_adapters() -> dict[str, Any]:
    """The adapters by the name of the port each one fills (``journey.app.agent_ports.EscalationPorts``)."""
    from journey.adapters.aws.bedrock_agents import ClassicAgent, HarnessAgent
    from journey.adapters.aws.kinesis import KinesisCommandStream

    cfg = load_settings().agent
    agent: Any = None
    if cfg.mode == "agentcore":
        agent = HarnessAgent(os.environ[Env.HARNESS_ARN], cfg.model_id, cfg.time_budget_ms)
    elif cfg.mode == "classic":
        agent = ClassicAgent(os.environ[Env.AGENT_ID], os.environ[Env.AGENT_ALIAS_ID], cfg.model_id, cfg.time_budget_ms)
    return {"agent": agent, "commands": KinesisCommandStream()}
