"""The agent on Amazon Bedrock AgentCore (``-c agent=agentcore``, the default): a Gateway whose three
Lambda targets are the action groups (MCP tools, AWS_IAM inbound, the gateway's own role outbound),
and a managed harness (model, instructions, the gateway as its only tool, no memory) whose
before-tool-call hook is the InterventionEngine function: the policy gate, which also sits in the
action group itself."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_bedrockagentcore as agentcore
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.agent_spec import (
    INSTRUCTION,
    MODEL_REASON,
    ActionGroupTools,
    foundation_models_finding,
    invoke_model_statements,
    safe_name,
)
from infra.nag import acknowledge

GATEWAY_TOOL = "journey_tools"  # the harness's name for the gateway (its tools: @journey_tools/<target>___<tool>)
POLICY_GATE_HOOK = "policy_gate"
HOOK_TIMEOUT_S = 10
HARNESS_TIMEOUT_S = 25  # within the invoker's own 30 s
MAX_ITERATIONS = 8  # a few reads, the allowed list, one schedule
MAX_TOKENS = 1024


class AgentCoreHarness(Construct):
    """``.harness`` (its ``attr_arn`` is what the invoker calls), ``.gateway``, ``.targets`` by group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        tools: dict[str, ActionGroupTools],
        functions: Mapping[str, lambda_.IFunction],
        policy_gate: lambda_.IFunction,
        model_id: str,
        policy_hook: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.gateway_role = _service_role(self, "GatewayRole", "gateway", "The AgentCore Gateway invokes the action groups")
        self.gateway_role.add_to_policy(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[fn.function_arn for fn in functions.values()])
        )
        # the gateway's configuration is encrypted with the stack's key (through AgentCore only)
        self.gateway_role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:CreateGrant", "kms:DescribeKey", "kms:Decrypt", "kms:GenerateDataKey"],
                resources=[key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"bedrock-agentcore.{stack.region}.amazonaws.com"}},
            )
        )
        self.gateway = agentcore.CfnGateway(
            self,
            "Gateway",
            name=safe_name(f"{stack.stack_name}-tools", "0-9a-zA-Z-", 100).replace("--", "-"),
            description="The journey agent's tools: the StruggleDetection, VideoIntelligence and InterventionEngine action groups",
            protocol_type="MCP",
            authorizer_type="AWS_IAM",  # SigV4: only principals granted bedrock-agentcore:InvokeGateway (the harness)
            role_arn=self.gateway_role.role_arn,
            kms_key_arn=key.key_arn,
        )
        self.gateway.node.add_dependency(self.gateway_role)
        self.targets: dict[str, agentcore.CfnGatewayTarget] = {}
        for name, group in tools.items():
            target = agentcore.CfnGatewayTarget(
                self,
                f"{name}Target",
                name=name,
                description=group.description,
                gateway_identifier=self.gateway.attr_gateway_identifier,
                target_configuration={
                    "mcp": {
                        "lambda": {
                            "lambdaArn": functions[name].function_arn,
                            "toolSchema": {"inlinePayload": group.gateway_tools()},
                        }
                    }
                },
                credential_provider_configurations=[{"credentialProviderType": "GATEWAY_IAM_ROLE"}],
            )
            self.targets[name] = target

        self.role = _service_role(self, "HarnessRole", "harness", "The AgentCore harness runs the journey agent")
        for statement in invoke_model_statements(
            self, model_id, ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
        ):
            self.role.add_to_policy(statement)
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["bedrock-agentcore:InvokeGateway"], resources=[self.gateway.attr_gateway_arn])
        )
        if policy_hook:  # the hook runs as the harness's role
            self.role.add_to_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[policy_gate.function_arn]))
        runtime_logs = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name="/aws/bedrock-agentcore/runtimes/*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[runtime_logs, f"{runtime_logs}:log-stream:*"],
            )
        )
        self.harness = agentcore.CfnHarness(
            self,
            "Harness",
            harness_name=safe_name(stack.stack_name, "a-zA-Z0-9_", 40),
            execution_role_arn=self.role.role_arn,
            model={"bedrockModelConfig": {"modelId": model_id, "temperature": 0, "maxTokens": MAX_TOKENS}},
            system_prompt=[{"text": INSTRUCTION}],
            tools=[
                {
                    "type": "agentcore_gateway",
                    "name": GATEWAY_TOOL,
                    "config": {"agentCoreGateway": {"gatewayArn": self.gateway.attr_gateway_arn, "outboundAuth": {"awsIam": {}}}},
                }
            ],
            # the gateway's tools only: no shell, no file operations, no browser or code interpreter
            allowed_tools=[f"@{GATEWAY_TOOL}"],
            hooks=[_policy_gate_hook(policy_gate)] if policy_hook else None,
            memory={"disabled": {}},  # each escalation stands alone; nothing about users is kept by the harness
            max_iterations=MAX_ITERATIONS,
            max_tokens=MAX_TOKENS,
            timeout_seconds=HARNESS_TIMEOUT_S,
        )
        self.harness.node.add_dependency(self.role, *self.targets.values())
        if policy_hook:
            acknowledge(
                self.harness,
                "CloudFormation-Validate::F3002",
                "Hooks is a property of AWS::BedrockAgentCore::Harness in aws-cdk-lib 2.275's resource specification; the "
                "validator bundled with it predates it. Where a Region's CloudFormation does not take it yet, deploy with "
                "-c harnessPolicyHook=false: the policy gate stays in the InterventionEngine action group.",
            )
        self._acknowledge(model_id)

    def _acknowledge(self, model_id: str) -> None:
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/bedrock-agentcore/runtimes/*]",
            "The harness's managed runtime writes its logs to a log group named after the runtime AgentCore creates for it; "
            "that id is not known at deploy time (scoped to AgentCore runtime log groups of this account and Region).",
        )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/bedrock-agentcore/runtimes/*:log-stream:*]",
            "The harness's managed runtime writes log streams it names itself, in log groups whose runtime id is not known "
            "at deploy time (scoped to AgentCore runtime log groups of this account and Region).",
        )
        if finding := foundation_models_finding(model_id):
            acknowledge(self.role, finding, MODEL_REASON)


def _policy_gate_hook(policy_gate: lambda_.IFunction) -> dict:
    """Before each tool call the harness asks the policy gate (the InterventionEngine function); when the gate
    fails or is slow the call is denied: a tool call the policy did not see is not made."""
    return {
        "beforeToolCall": {
            "name": POLICY_GATE_HOOK,
            "target": {"lambda": {"arn": policy_gate.function_arn, "failureMode": "deny", "timeoutSeconds": HOOK_TIMEOUT_S}},
        }
    }


def _service_role(scope: Construct, construct_id: str, resource: str, description: str) -> iam.Role:
    """A role only AgentCore may assume, and only for a gateway or harness of this account and Region."""
    stack = Stack.of(scope)
    return iam.Role(
        scope,
        construct_id,
        description=description,
        assumed_by=iam.ServicePrincipal(
            "bedrock-agentcore.amazonaws.com",
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {"aws:SourceArn": stack.format_arn(service="bedrock-agentcore", resource=resource, resource_name="*")},
            },
        ),
    )
