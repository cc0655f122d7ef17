"""The InterventionEngine action group: the interventions allowed for a user now, asking for one (a command on the user's stream, through the policy), the user's intervention history.

Invoked by Agents Classic (an action group with function details) or by the AgentCore Gateway (a
Lambda target whose tools are the group's): journey.lambda_kit.bedrock.ActionGroup tells the two
apart and answers both. Composition root only: the decorators, the wiring of the tools to the AWS
adapters (built on first use, once per container)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from journey.adapters.aws.agent_factories import agent_tool_adapters
from journey.app.agent_tools import AgentToolPorts
from journey.lambda_kit.bedrock import ActionGroup
from journey.lambda_kit.observability import traced

GROUP = "InterventionEngine"

logger = Logger()
metrics = Metrics()


@lru_cache(maxsize=1)
def ports() -> AgentToolPorts:
    return AgentToolPorts(**agent_tool_adapters())


action_group = ActionGroup(GROUP, ports, metrics)


@traced
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: Any, context: LambdaContext) -> dict:
    return action_group(event, context)
