"""Builds the agent's action groups' adapters on AWS from the environment, once per process (lazily,
never at import). The functions' handlers wrap them in the use cases' ``AgentToolPorts`` (adapters
never import use cases).

The read side is the HTTPS API's (``DynamoReadModels``: GetItem and Query of what the stream processor
wrote, on the state, signals and interventions tables); the one write, an agent's ``schedule``
request, is a command on the user's stream (``KinesisCommandStream``, the deadline timer's, the stream
named by ``EVENT_STREAM_NAME``). Only the InterventionEngine's function has that stream: the others
never append, so their stream adapter is built on first use, never."""

from __future__ import annotations

import os
import time
from functools import cached_property, lru_cache
from typing import Any

from journey.resources import INTERVENTIONS, STRUGGLE_SIGNALS, USER_EVENTS, USER_STATE


def now_ms() -> int:
    return int(time.time() * 1000)


class LazyCommandStream:
    """The ``CommandStream`` port, its Kinesis adapter built on the first append (a function without
    ``EVENT_STREAM_NAME`` that appends fails that call, with the variable's name)."""

    @cached_property
    def stream(self) -> Any:
        from journey.adapters.aws.kinesis import KinesisCommandStream

        return KinesisCommandStream()

    def append(self, events: list[dict]) -> list[str]:
        failed: list[str] = self.stream.append(events)
        return failed


@lru_cache(maxsize=1)
def agent_tool_adapters() -> dict[str, Any]:
    """The adapters by the name of the port each one fills (``journey.app.agent_tools.AgentToolPorts``)."""
    from journey.adapters.aws.dynamodb import TableNames
    from journey.adapters.aws.read_models import DynamoReadModels
    from journey.interventions.catalog import load_catalog
    from journey.settings import load_settings

    tables = TableNames(
        state=os.environ[USER_STATE.env],
        events=os.environ.get(USER_EVENTS.env, ""),  # the journal: no tool reads it
        signals=os.environ[STRUGGLE_SIGNALS.env],
        interventions=os.environ[INTERVENTIONS.env],
    )
    reads = DynamoReadModels(tables)
    return {
        "users": reads,
        "analytics": reads,
        "commands": LazyCommandStream(),
        "catalog": load_catalog(),
        "settings": load_settings(),
        "clock_ms": now_ms,
    }
