"""AI decisions: who decides the hard cases the rules escalate (``-c agent=agentcore|classic|none``).

The stream processor sends each escalation to a queue (KMS, TLS only, a dead-letter queue after three
receives); the agent invoker consumes it in small batches (partial batch responses), asks the agent
within its time budget and appends what was decided to the user's stream as a command event (the
processor stays the only writer: DESIGN.md rule 1). The agent's three action groups are Lambda
functions that read the tables (and, the InterventionEngine, append the schedule command); their
schemas come from ``infra/agent_tools.json``. The agent itself is an AgentCore harness and gateway
(``infra/agent_core.py``) or a Bedrock agent and alias (``infra/agent_classic.py``). With ``none``
nothing of this is deployed and the processor's rules decide alone.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.agent_classic import ClassicAgent
from infra.agent_core import AgentCoreHarness
from infra.agent_spec import load_tools
from infra.config import DeploymentConfig
from infra.function import JourneyFunction, Observability
from infra.monitoring import alarms_to
from infra.storage import JourneyStorage
from infra.stream_processing import StreamProcessing
from journey.resources import (
    FEATURE_STRUGGLE_INDEX,
    INTERVENTIONS,
    STRUGGLE_SIGNALS,
    TENANT_DAY_INDEX,
    USER_STATE,
    Env,
)

AGENT_SERVICE_NAME = "journey-agent"  # its own Powertools service: its metrics never mix with the processor's
POLICY_GATE = "InterventionEngine"  # the action group that also serves as the harness's before-tool-call hook
# the invoker resolves a batch's escalations one after another, each within its time budget (8 s by
# default, JOURNEY_AGENT__TIME_BUDGET_MS): 3 of them and the Lambda's margin fit in 45 s
INVOKER_TIMEOUT = Duration.seconds(45)
ACTION_GROUP_TIMEOUT = Duration.seconds(10)
INVOKER_BATCH_SIZE = 3
INVOKER_MAX_CONCURRENCY = 5  # the event source's ceiling: bounds the Bedrock load without throttled receives
MAX_RECEIVE_COUNT = 3
READ_TABLES = (USER_STATE, STRUGGLE_SIGNALS, INTERVENTIONS)


class JourneyAgent(Construct):
    """``.queue`` (None in mode none), ``.invoker``, ``.action_groups`` by name, and ``.core`` or ``.classic``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        key: kms.IKey,
        storage: JourneyStorage,
        stream: kinesis.IStream,
        processing: StreamProcessing,
        alarm_topic: sns.ITopic,
        metrics_namespace: str,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.mode = config.agent_mode
        self.queue: sqs.Queue | None = None
        self.core: AgentCoreHarness | None = None
        self.classic: ClassicAgent | None = None
        self.action_groups: dict[str, lambda_.Function] = {}
        if self.mode == "none":  # the rules decide alone: no queue, no functions, no agent
            processing.hand_escalations_to(None, agent_mode=self.mode)
            return

        self._observability = Observability(AGENT_SERVICE_NAME, metrics_namespace, trace_aws_calls=config.trace_aws_calls)
        self._key, self._removal_policy = key, removal_policy
        tools = load_tools()
        for name, group in tools.items():
            self.action_groups[name] = self._action_group(name, group.code, group.description, storage, stream)

        environment = {
            Env.AGENT_MODE: self.mode,
            Env.EVENT_STREAM_NAME: stream.stream_name,
            Env.AGENT_MODEL_ID: config.agent_model_id,
        }
        if self.mode == "agentcore":
            self.core = AgentCoreHarness(
                self,
                "Core",
                key=key,
                tools=tools,
                functions=self.action_groups,
                policy_gate=self.action_groups[POLICY_GATE],
                model_id=config.agent_model_id,
                policy_hook=config.harness_policy_hook,
            )
            environment[Env.HARNESS_ARN] = self.core.harness.attr_arn
        else:
            self.classic = ClassicAgent(
                self, "Classic", key=key, tools=tools, functions=self.action_groups, model_id=config.agent_model_id
            )
            environment[Env.AGENT_ID] = self.classic.agent.attr_agent_id
            environment[Env.AGENT_ALIAS_ID] = self.classic.alias.attr_agent_alias_id

        self.handler = self._function(
            "Invoker",
            "agent_invoker",
            "Escalation queue ▸ ask the agent within its time budget ▸ its decision onto the user's stream",
            environment,
            INVOKER_TIMEOUT,
        )
        self.invoker = self.handler.function
        self.dead_letters = sqs.Queue(
            self,
            "EscalationDeadLetters",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        self.queue = sqs.Queue(
            self,
            "EscalationQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            # AWS's guidance for a Lambda consumer: at least six times the function's timeout
            visibility_timeout=Duration.seconds(6 * INVOKER_TIMEOUT.to_seconds()),
            # an escalation is decided by the rules at its deadline (minutes) whatever happens here
            retention_period=Duration.hours(1),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letters, max_receive_count=MAX_RECEIVE_COUNT),
        )
        self.invoker.add_event_source(
            sources.SqsEventSource(
                self.queue,
                batch_size=INVOKER_BATCH_SIZE,
                report_batch_item_failures=True,
                max_concurrency=INVOKER_MAX_CONCURRENCY,
            )
        )
        self._grant_invoker(key, stream)
        processing.hand_escalations_to(self.queue, agent_mode=self.mode)
        self.alarms = self._alarms(alarm_topic)
        self._outputs()

    def _function(
        self, construct_id: str, code: str, description: str, environment: dict[str, str], timeout: Duration
    ) -> JourneyFunction:
        return JourneyFunction(
            self,
            construct_id,
            code=code,
            description=description,
            environment=environment,
            observability=self._observability,
            log_key=self._key,
            removal_policy=self._removal_policy,
            memory_mb=512,
            timeout=timeout,
        )

    def _action_group(
        self, name: str, code: str, description: str, storage: JourneyStorage, stream: kinesis.IStream
    ) -> lambda_.Function:
        """One action group's function: it reads the tables; the InterventionEngine also appends the
        schedule command to the user's stream (the processor folds it through the policy)."""
        environment = {**storage.table_environment(*READ_TABLES), Env.AGENT_MODE: self.mode}
        if name == POLICY_GATE:
            environment[Env.EVENT_STREAM_NAME] = stream.stream_name
        fn = self._function(
            name, code, f"Agent action group {name}: {description}"[:256], environment, ACTION_GROUP_TIMEOUT
        ).function
        tables = [storage.table(spec).table_arn for spec in READ_TABLES]
        indexes = [
            f"{storage.table(STRUGGLE_SIGNALS).table_arn}/index/{FEATURE_STRUGGLE_INDEX}",
            f"{storage.table(STRUGGLE_SIGNALS).table_arn}/index/{TENANT_DAY_INDEX}",
            f"{storage.table(INTERVENTIONS).table_arn}/index/{TENANT_DAY_INDEX}",
        ]
        fn.add_to_role_policy(
            iam.PolicyStatement(actions=["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"], resources=tables)
        )
        fn.add_to_role_policy(iam.PolicyStatement(actions=["dynamodb:Query"], resources=indexes))
        if name == POLICY_GATE:
            fn.add_to_role_policy(
                iam.PolicyStatement(actions=["kinesis:PutRecord", "kinesis:PutRecords"], resources=[stream.stream_arn])
            )
            self._key.grant(fn, "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey")
        else:
            self._key.grant(fn, "kms:Decrypt", "kms:DescribeKey")
        return fn

    def _grant_invoker(self, key: kms.IKey, stream: kinesis.IStream) -> None:
        """Ask the agent, put the decision on the stream; nothing else (no table: the processor writes)."""
        fn = self.invoker
        fn.add_to_role_policy(
            iam.PolicyStatement(actions=["kinesis:PutRecord", "kinesis:PutRecords"], resources=[stream.stream_arn])
        )
        key.grant(fn, "kms:GenerateDataKey")  # the stream is encrypted with the data key (the queue's Decrypt: the event source)
        if self.core is not None:
            # InvokeHarness is authorized on the harness and on the runtime behind it, both by the harness's ARN
            fn.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["bedrock-agentcore:InvokeHarness", "bedrock-agentcore:InvokeAgentRuntime"],
                    resources=[self.core.harness.attr_arn],
                )
            )
        elif self.classic is not None:
            fn.add_to_role_policy(
                iam.PolicyStatement(actions=["bedrock:InvokeAgent"], resources=[self.classic.alias.attr_agent_alias_arn])
            )

    def _alarms(self, topic: sns.ITopic) -> list[cloudwatch.Alarm]:
        assert self.queue is not None
        specs = {
            "EscalationDeadLettersAlarm": (
                "Escalations the agent invoker gave up on after three receives; the rules decided them (runbook: agent escalations)",
                self.dead_letters.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)),
                0,
            ),
            "AgentInvokerErrorsAlarm": (
                "Agent invoker invocations failing (runbook: agent escalations)",
                self.invoker.metric_errors(period=Duration.minutes(5)),
                0,
            ),
        }
        return alarms_to(self, topic, specs)

    def _outputs(self) -> None:
        stack = Stack.of(self)
        assert self.queue is not None
        CfnOutput(stack, "EscalationQueueUrl", value=self.queue.queue_url)
        CfnOutput(stack, "EscalationDeadLetterQueueUrl", value=self.dead_letters.queue_url)
        CfnOutput(stack, "AgentInvokerFunctionName", value=self.invoker.function_name)
        if self.core is not None:
            CfnOutput(stack, "AgentHarnessArn", value=self.core.harness.attr_arn)
            CfnOutput(stack, "AgentGatewayUrl", value=self.core.gateway.attr_gateway_url)
        if self.classic is not None:
            CfnOutput(stack, "AgentId", value=self.classic.agent.attr_agent_id)
            CfnOutput(stack, "AgentAliasId", value=self.classic.alias.attr_agent_alias_id)
