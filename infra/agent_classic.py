"""The agent on Bedrock Agents ("Agents Classic", ``-c agent=classic``), for accounts that still have
it: one agent (the model, the instructions, the three action groups with function schemas, each run
by its Lambda function), prepared on deploy, and an alias the invoker calls."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from aws_cdk import Stack
from aws_cdk import aws_bedrock as bedrock
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

IDLE_SESSION_TTL_S = 600  # one escalation per session; a session left open ends after 10 minutes
ALIAS_NAME = "live"


class ClassicAgent(Construct):
    """``.agent`` (``attr_agent_id``) and ``.alias`` (``attr_agent_alias_id``, ``attr_agent_alias_arn``)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        tools: dict[str, ActionGroupTools],
        functions: Mapping[str, lambda_.IFunction],
        model_id: str,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        agents = stack.format_arn(service="bedrock", resource="agent", resource_name="*")
        self.role = iam.Role(
            self,
            "AgentRole",
            description="Bedrock Agents runs the journey agent: its model, and its session data with the stack's key",
            assumed_by=iam.ServicePrincipal(
                "bedrock.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}, "ArnLike": {"aws:SourceArn": agents}},
            ),
        )
        for statement in invoke_model_statements(self, model_id, ["bedrock:InvokeModel"], read_profile=True):
            self.role.add_to_policy(statement)
        # the agent's resources are encrypted with the stack's key, in the agent's encryption context only
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[key.key_arn],
                conditions={"StringLike": {"kms:EncryptionContext:aws:bedrock:arn": agents}},
            )
        )
        action_groups = [
            {
                "actionGroupName": name,
                "description": group.description,
                "actionGroupExecutor": {"lambda": functions[name].function_arn},
                "functionSchema": {"functions": group.functions},
                "actionGroupState": "ENABLED",
            }
            for name, group in tools.items()
        ]
        self.agent = bedrock.CfnAgent(
            self,
            "Agent",
            agent_name=safe_name(f"{stack.stack_name}-agent", "0-9a-zA-Z_-", 100),
            description="Decides the hard cases of the journey orchestrator among the catalog's interventions, through the policy",
            foundation_model=model_id,
            instruction=INSTRUCTION,
            agent_resource_role_arn=self.role.role_arn,
            customer_encryption_key_arn=key.key_arn,
            idle_session_ttl_in_seconds=IDLE_SESSION_TTL_S,
            auto_prepare=True,
            action_groups=action_groups,
        )
        self.agent.node.add_dependency(self.role)
        for name, fn in functions.items():
            fn.add_permission(
                f"InvokedByAgent{name}",
                principal=iam.ServicePrincipal("bedrock.amazonaws.com"),
                action="lambda:InvokeFunction",
                source_account=stack.account,
                source_arn=self.agent.attr_agent_arn,
            )
        # An alias without a routing configuration points at a new version of the prepared agent; its
        # description carries a digest of the agent's definition so that any change updates the alias too.
        digest = hashlib.sha256(
            json.dumps([model_id, INSTRUCTION, {name: group.functions for name, group in tools.items()}], sort_keys=True).encode()
        ).hexdigest()[:12]
        self.alias = bedrock.CfnAgentAlias(
            self,
            "Alias",
            agent_id=self.agent.attr_agent_id,
            agent_alias_name=ALIAS_NAME,
            description=f"The version the agent invoker calls (definition {digest})",
        )
        if finding := foundation_models_finding(model_id):
            acknowledge(self.role, finding, MODEL_REASON)
