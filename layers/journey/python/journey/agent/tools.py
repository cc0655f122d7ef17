"""The agent's tools, defined once: the three action groups, each tool's name, description and
parameter model. Both deployments' schemas come from here (Agents Classic's function schemas,
the AgentCore Gateway's MCP tool schemas: :func:`manifest`, written to ``infra/agent_tools.json`` by
``make agent-tools``), and so does the action groups' validation of what the model sends
(:func:`parse_arguments`).

Every tool acts on the one user of the escalation it was called for; the user id the model passes
is checked against it where the deployment carries it (docs/agent.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from journey.resources import ACTION_GROUPS

# Agents Classic allows 5 parameters per function and these types; MCP takes JSON schema
UserId = Annotated[str, StringConstraints(min_length=1, max_length=128, strip_whitespace=True)]
GATEWAY_TOOL_SEPARATOR = "___"  # the AgentCore Gateway names a target's tool "<target>___<tool>"


class _Arguments(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class UserArguments(_Arguments):
    userId: UserId = Field(description="the pseudonymous id of the user the escalation is about")


class HotspotArguments(_Arguments):
    userId: UserId = Field(description="the user of the escalation (the hot spots are of their app)")
    featureId: Annotated[str, StringConstraints(max_length=128)] | None = Field(
        None, description="one feature's hot spots; leave out for the tenant's top features"
    )
    days: int = Field(7, ge=1, le=90, description="how many days back, 1 to 90")


class VideoArguments(_Arguments):
    userId: UserId = Field(description="the pseudonymous id of the user the escalation is about")
    videoId: Annotated[str, StringConstraints(min_length=1, max_length=128)] = Field(description="the video's id")


class ScheduleArguments(_Arguments):
    userId: UserId = Field(description="the pseudonymous id of the user the escalation is about")
    escalationId: Annotated[str, StringConstraints(min_length=1, max_length=128)] = Field(
        description="the escalation this answers (given in the request)"
    )
    interventionType: Annotated[str, StringConstraints(min_length=1, max_length=128)] = Field(
        description="one of the interventionType values list_allowed_interventions returned"
    )
    channel: Annotated[str, StringConstraints(pattern="^(in_app|push|sns)$")] | None = Field(
        None, description="in_app, push or sns; leave out to use the first channel the policy allows"
    )
    rationale: Annotated[str, StringConstraints(max_length=1000)] = Field(
        "", description="one or two sentences: why this intervention helps this user now"
    )


@dataclass(frozen=True, slots=True)
class Tool:
    group: str  # one of journey.resources.ACTION_GROUPS
    name: str
    description: str
    arguments: type[_Arguments]


TOOLS: tuple[Tool, ...] = (
    Tool(
        "StruggleDetection",
        "get_open_signals",
        "The user's struggle signals of the last 7 days that are not resolved yet: type (rage_tap, repeated_attempts, "
        "error_pattern, screen_loop, abandonment, help_seeking), feature, severity, when, and what became of each.",
        UserArguments,
    ),
    Tool(
        "StruggleDetection",
        "get_feature_hotspots",
        "Where the user's app makes people struggle: signals per feature and type over the last days, for one feature "
        "or the top ones.",
        HotspotArguments,
    ),
    Tool(
        "VideoIntelligence",
        "get_video_engagement",
        "How the user watched one video: views, watch time, completion, replayed and skipped parts, pauses, playback "
        "speed, with its interest score and comprehension indicators.",
        VideoArguments,
    ),
    Tool(
        "VideoIntelligence",
        "get_video_summary",
        "The user's engagement across the videos they watched recently: interest score, comprehension indicators and "
        "readiness signals (is the user ready for the next step?).",
        UserArguments,
    ),
    Tool(
        "InterventionEngine",
        "list_allowed_interventions",
        "The interventions that may reach the user right now: the catalog's entries for the user's open escalation "
        "with the channels the policy allows (consent, quiet hours, frequency cap, cooldown, holdout), and for each "
        "one that is not allowed, why.",
        UserArguments,
    ),
    Tool(
        "InterventionEngine",
        "schedule_intervention",
        "Ask for one intervention of the catalog for the user's open escalation. It goes through the same policy as "
        "every other decision; a refusal comes back with its reason. At most one is sent per escalation.",
        ScheduleArguments,
    ),
    Tool(
        "InterventionEngine",
        "get_intervention_history",
        "The user's recent interventions, newest first: type, channel, who decided (rules or agent), and what became "
        "of each (delivered, acted, dismissed, resolved).",
        UserArguments,
    ),
)
TOOLS_BY_NAME: dict[str, Tool] = {tool.name: tool for tool in TOOLS}
if {tool.group for tool in TOOLS} != set(ACTION_GROUPS) or len(TOOLS_BY_NAME) != len(TOOLS):
    raise ValueError("every action group needs its tools, and tool names must be unique")

GROUP_DESCRIPTIONS: dict[str, str] = {
    "StruggleDetection": "Reads the struggle signals the rules detected: a user's open ones, a feature's hot spots.",
    "VideoIntelligence": "Reads what a user's video watching says: interest, comprehension, readiness.",
    "InterventionEngine": "What may be sent to a user now, asking for one (through the policy), and what was sent before.",
}

_CLASSIC_TYPES = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean"}


class ToolArgumentsError(ValueError):
    """What the model sent does not fit the tool: the message says which argument and why."""


def input_schema(tool: Tool) -> dict[str, Any]:
    """The tool's arguments as a JSON schema (the MCP tool's ``inputSchema``): plain types only."""
    schema = tool.arguments.model_json_schema()
    properties: dict[str, Any] = {}
    for name, spec in schema["properties"].items():
        kind = spec.get("type") or next(
            (option["type"] for option in spec.get("anyOf", []) if option.get("type") != "null"), "string"
        )
        prop: dict[str, Any] = {"type": kind, "description": spec.get("description", "")}
        for constraint in ("minimum", "maximum", "maxLength", "pattern"):
            if constraint in spec:
                prop[constraint] = spec[constraint]
        properties[name] = prop
    return {"type": "object", "properties": properties, "required": list(schema.get("required", []))}


def function_schema(group: str) -> list[dict[str, Any]]:
    """Agents Classic's ``functionSchema.functions`` for one action group."""
    functions = []
    for tool in TOOLS:
        if tool.group != group:
            continue
        schema = input_schema(tool)
        parameters = {
            name: {
                "type": _CLASSIC_TYPES.get(spec["type"], "string"),
                "description": spec["description"] or name,
                "required": name in schema["required"],
            }
            for name, spec in schema["properties"].items()
        }
        functions.append({"name": tool.name, "description": tool.description, "parameters": parameters})
    return functions


def mcp_tools(group: str) -> list[dict[str, Any]]:
    """The AgentCore Gateway target's inline tool schemas for one action group."""
    return [
        {"name": tool.name, "description": tool.description, "inputSchema": input_schema(tool)}
        for tool in TOOLS
        if tool.group == group
    ]


def manifest() -> dict[str, Any]:
    """What infra reads (``infra/agent_tools.json``): per action group, both deployments' schemas."""
    return {
        "actionGroups": [
            {
                "name": group,
                "description": GROUP_DESCRIPTIONS[group],
                "functions": function_schema(group),
                "mcpTools": mcp_tools(group),
            }
            for group in ACTION_GROUPS
        ]
    }


def manifest_text() -> str:
    return json.dumps(manifest(), indent=2, sort_keys=True) + "\n"


def tool_name(name: str) -> str:
    """A tool's own name from the name a caller used (the Gateway prefixes its target's name)."""
    return name.rsplit(GATEWAY_TOOL_SEPARATOR, 1)[-1]


def parse_arguments(name: str, raw: dict[str, Any]) -> _Arguments:
    """Validate what the model sent for a tool (Agents Classic sends every value as a string: numbers
    are converted); raise :class:`ToolArgumentsError` naming the argument and the problem."""
    tool = TOOLS_BY_NAME.get(tool_name(name))
    if tool is None:
        raise ToolArgumentsError(f"no tool named {name!r}; the tools are {', '.join(TOOLS_BY_NAME)}")
    try:
        return tool.arguments.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors())
        raise ToolArgumentsError(f"{tool.name}: {problems}") from None
