"""What both agent deployments share: the tools (read from ``infra/agent_tools.json``, generated from
``journey.agent.tools`` by ``make agent-tools``: infra imports nothing from the library but
``journey.resources``), the agent's instructions, and the IAM statements of a Bedrock model."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam

from journey.resources import ACTION_GROUPS

TOOLS_MANIFEST = Path(__file__).resolve().parent / "agent_tools.json"
# Bedrock's cross-Region inference profiles are named <geography>.<model id> (us.amazon.nova-2-lite-v1:0)
_PROFILE_PREFIXES = ("us", "eu", "apac", "global", "jp", "au", "ca", "us-gov")
# the keys of a JSON schema the AgentCore Gateway's SchemaDefinition takes (no maxLength, minimum, pattern...:
# the action groups validate those themselves, journey.agent.tools.parse_arguments)
GATEWAY_SCHEMA_KEYS = ("type", "description", "properties", "required", "items")

INSTRUCTION = """\
You decide how to help one app user who is struggling. Each request is one escalation: it names the \
escalation id, the user id, the struggle signal (type, feature, severity), why the rules escalated it, \
the rules' own choice of intervention, and the user's exit risk and segment.

How to decide:
1. Look at the facts first when they help: the user's open struggle signals, their recent \
interventions and what became of them, and their video engagement when videos are involved.
2. Call list_allowed_interventions for the user. You may choose ONLY among the interventions it \
returns as allowed; never invent an intervention, a channel, an offer or a message.
3. If one of them fits the user's situation better than doing nothing, call schedule_intervention \
once, with the escalation id from the request, the interventionType and channel exactly as listed, \
and a one- or two-sentence rationale that states only facts from the tools' answers.
4. Schedule at most one intervention per escalation. If nothing allowed fits, or a call is refused, \
schedule nothing and say why in one sentence: the rules' decision then stands.

Rules you never break: act only for the user and escalation of the request; state only facts the \
data holds, never invented urgency, scarcity, deadlines or consequences; do not retry a refused \
schedule with another intervention to get around the policy (consent, quiet hours, frequency cap, \
cooldown and holdout are decided by the policy, not by you); answer in one short paragraph."""


@dataclass(frozen=True)
class ActionGroupTools:
    """One action group of the manifest: both deployments' schemas of its tools."""

    name: str
    description: str
    functions: list[dict[str, Any]]  # Agents Classic's functionSchema.functions
    mcp_tools: list[dict[str, Any]]  # the AgentCore Gateway target's tools (name, description, inputSchema)

    @property
    def code(self) -> str:
        """The function folder of the group (functions/<code>/): StruggleDetection -> struggle_detection."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.name).lower()

    def gateway_tools(self) -> list[dict[str, Any]]:
        """The MCP tools as the Gateway's inline tool schema takes them (its SchemaDefinition's keys only)."""
        return [
            {"name": tool["name"], "description": tool["description"], "inputSchema": gateway_schema(tool["inputSchema"])}
            for tool in self.mcp_tools
        ]


def gateway_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON schema reduced to what AWS::BedrockAgentCore::GatewayTarget's SchemaDefinition holds."""
    reduced: dict[str, Any] = {
        key: schema[key] for key in GATEWAY_SCHEMA_KEYS if key in schema and key not in ("properties", "items")
    }
    if "properties" in schema:
        reduced["properties"] = {name: gateway_schema(spec) for name, spec in schema["properties"].items()}
    if "items" in schema:
        reduced["items"] = gateway_schema(schema["items"])
    return reduced


def load_tools(path: Path = TOOLS_MANIFEST) -> dict[str, ActionGroupTools]:
    """The action groups of the manifest by name, in journey.resources.ACTION_GROUPS' order."""
    groups = {group["name"]: group for group in json.loads(path.read_text())["actionGroups"]}
    if list(groups) != list(ACTION_GROUPS):
        raise ValueError(f"{path.name} has action groups {list(groups)}, expected {list(ACTION_GROUPS)}: run 'make agent-tools'")
    return {
        name: ActionGroupTools(name, group["description"], group["functions"], group["mcpTools"])
        for name, group in groups.items()
    }


def invoke_model_statements(scope, model_id: str, actions: list[str], *, read_profile: bool = False) -> list[iam.PolicyStatement]:
    """Least privilege to run one model: the inference profile and, only through it, the foundation model
    in the Regions the profile routes to; or, for a plain model id, the foundation model in this Region.
    (The Converse API is authorized by bedrock:InvokeModel, ConverseStream by ...WithResponseStream.)
    ``read_profile``: also bedrock:GetInferenceProfile on the profile (Bedrock Agents reads it)."""
    stack = Stack.of(scope)
    prefix, _, base = model_id.partition(".")
    if prefix not in _PROFILE_PREFIXES:
        model = stack.format_arn(service="bedrock", account="", resource="foundation-model", resource_name=model_id)
        return [iam.PolicyStatement(actions=actions, resources=[model])]
    profile = stack.format_arn(service="bedrock", resource="inference-profile", resource_name=model_id)
    # the profile routes each request to one of its Regions (a global profile: to any); the model is
    # invoked there, so its ARN names every Region, and the condition admits it only through this profile
    models = stack.format_arn(
        service="bedrock",
        region="*",
        account="",
        resource="foundation-model",
        resource_name=base,
        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
    )
    return [
        iam.PolicyStatement(actions=[*actions, *(["bedrock:GetInferenceProfile"] if read_profile else [])], resources=[profile]),
        iam.PolicyStatement(
            actions=actions, resources=[models], conditions={"StringLike": {"bedrock:InferenceProfileArn": profile}}
        ),
    ]


def foundation_models_finding(model_id: str) -> str | None:
    """The cdk-nag finding of the statement above that names every Region (None for a plain model id)."""
    prefix, _, base = model_id.partition(".")
    if prefix not in _PROFILE_PREFIXES:
        return None
    return f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*::foundation-model/{base}]"


MODEL_REASON = (
    "A cross-Region inference profile runs the model in any Region of its geography, so the foundation model's ARN "
    "names every Region; the statement's condition (bedrock:InferenceProfileArn) admits it only through this one profile."
)


def safe_name(text: str, allowed: str, limit: int) -> str:
    """A resource name from the stack's: characters outside ``allowed`` become '_' or '-', runs collapse."""
    replacement = "_" if "_" in allowed else "-"
    name = re.sub(rf"[^{allowed}]+", replacement, text).strip("_-")
    return name[:limit].rstrip("_-")
