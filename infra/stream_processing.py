"""The stream and its processor: Kinesis on demand ▸ event source mapping ▸ stream processor Lambda."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import DeploymentConfig
from infra.function import JourneyFunction, Observability
from infra.nag import acknowledge
from infra.storage import QUARANTINE_PREFIX, JourneyStorage
from journey.resources import EXIT_RISK_MODELS_PREFIX, INTERVENTIONS, STRUGGLE_SIGNALS, USER_EVENTS, USER_STATE, Env

SERVICE_NAME = "journey-orchestrator"
METRICS_NAMESPACE = "JourneyOrchestrator"


class StreamProcessing(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        key: kms.IKey,
        storage: JourneyStorage,
        topic: sns.ITopic,
        analytics_table_arn: str | None,
        analytics_names: tuple[str, str] | None,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.stream = kinesis.Stream(
            self,
            "EventStream",
            stream_mode=kinesis.StreamMode.ON_DEMAND,
            encryption=kinesis.StreamEncryption.KMS,
            encryption_key=key,
            retention_period=Duration.hours(24),
            removal_policy=removal_policy,
        )
        acknowledge(
            self.stream,
            "AwsSolutions-KDS3",
            "A customer-managed key (rotation on) is used on purpose: one key policy governs the stream, tables, "
            "topics, queue and quarantine, and access to it is auditable.",
        )
        self.failures = sqs.Queue(
            self,
            "OnFailureDestination",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            self.failures,
            "AwsSolutions-SQS3",
            "This queue is the event source mapping's on-failure destination (a dead-letter target itself); "
            "it holds batch metadata for redrive and needs no dead-letter queue of its own.",
        )

        environment = {
            **storage.table_environment(),
            Env.INTERVENTIONS_TOPIC_ARN: topic.topic_arn,
            Env.QUARANTINE_BUCKET: storage.quarantine.bucket_name,
            Env.TIMESTREAM_ENABLED: "true" if analytics_names else "false",
            Env.PUSH_PROVIDER: config.push_provider,
            Env.DEFAULT_TENANT: config.default_tenant,  # the same tenant the API assumes (events naming none)
            # the trained exit-risk model (-c exitRiskModel=<version>; "": the points model, docs/exit-risk.md)
            Env.MODELS_BUCKET: storage.models.bucket_name,
            Env.RISK_MODEL_VERSION: config.exit_risk_model,
        }
        if config.push_provider == "eum":
            environment[Env.EUM_APPLICATION_ID] = config.eum_application_id
        if analytics_names:
            environment[Env.TIMESTREAM_DATABASE], environment[Env.TIMESTREAM_TABLE] = analytics_names
        self.processor = JourneyFunction(
            self,
            "StreamProcessor",
            code="stream_processor",
            description="Kinesis batch ▸ detect struggle and exit risk ▸ decide and deliver interventions",
            environment=environment,
            observability=Observability(SERVICE_NAME, METRICS_NAMESPACE, trace_aws_calls=config.trace_aws_calls),
            log_key=key,
            removal_policy=removal_policy,
            memory_mb=1024,
            timeout=Duration.seconds(60),
        )
        self.function = self.processor.function
        self.event_source = sources.KinesisEventSource(
            self.stream,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=config.batch_size,
            max_batching_window=Duration.seconds(config.batching_window_s),
            bisect_batch_on_error=True,
            retry_attempts=config.retry_attempts,
            max_record_age=Duration.seconds(config.max_record_age_s),
            parallelization_factor=config.parallelization_factor,
            report_batch_item_failures=True,
            on_failure=sources.SqsDlq(self.failures),
        )
        self.function.add_event_source(self.event_source)
        self._grant_least_privilege(config, key, storage, topic, analytics_table_arn)

    def hand_escalations_to(self, queue: sqs.IQueue | None, *, agent_mode: str) -> None:
        """Who decides the hard cases (infra/agent.py): the agent behind ``queue``, to which the processor
        sends each escalation, or, with no queue (agent mode none), the rules alone."""
        self.function.add_environment(Env.AGENT_MODE, agent_mode)
        if queue is None:
            return
        self.function.add_environment(Env.ESCALATION_QUEUE_URL, queue.queue_url)
        # SendMessage only; the queue's key (GenerateDataKey, Decrypt) is granted with the tables'
        self.function.add_to_role_policy(iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[queue.queue_arn]))

    def _grant_least_privilege(self, config, key, storage, topic, analytics_table_arn) -> None:
        fn = self.function
        for table in storage.tables.values():
            table.grant(fn, "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem")
        key.grant(fn, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey")
        topic.grant_publish(fn)
        fn.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:PutObject"], resources=[storage.quarantine.arn_for_objects("quarantine/*")])
        )
        acknowledge(
            fn,
            f"AwsSolutions-IAM5[Resource::<{_logical(storage.quarantine)}.Arn>/quarantine/*]",
            "Quarantine objects are written under the quarantine/ prefix, one object per rejected record (and deleted "
            "there, every version, when their user is erased); keys are not known in advance.",
        )
        # the trained exit-risk model: read-only, model files only (models are published from outside the stack).
        # Without s3:ListBucket, S3 answers a missing key with 403 AccessDenied, not 404 (the loader treats both
        # as "no such model" and scores with the points model).
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[storage.models.arn_for_objects(f"{EXIT_RISK_MODELS_PREFIX}*")]
            )
        )
        acknowledge(
            fn,
            f"AwsSolutions-IAM5[Resource::<{_logical(storage.models)}.Arn>/{EXIT_RISK_MODELS_PREFIX}*]",
            "The processor reads the exit-risk model version its configuration names (models/exit-risk/<version>/model.json); "
            "versions are published after deployment, so their keys are not known when the policy is written. Read only.",
        )
        # erasure (a command the processor folds): find the user's items by partition key in the four tables it
        # owns (Identities and PrivacyAudit are written with BatchWriteItem, granted above), and remove every
        # version of the user's quarantined records (the bucket is versioned) under quarantine/<owner hash>/
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:Query"],
                resources=[storage.table(spec).table_arn for spec in (USER_STATE, USER_EVENTS, STRUGGLE_SIGNALS, INTERVENTIONS)],
            )
        )
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket", "s3:ListBucketVersions"],
                resources=[storage.quarantine.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{QUARANTINE_PREFIX}*"]}},
            )
        )
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:DeleteObject", "s3:DeleteObjectVersion"],
                resources=[storage.quarantine.arn_for_objects(f"{QUARANTINE_PREFIX}*")],
            )
        )
        for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*"):
            acknowledge(
                fn,
                f"AwsSolutions-IAM5[Action::{action}]",
                "Added by the L2 grants for the encrypted stream and on-failure queue (SqsDlq); scoped to the one data key.",
            )
        for spec in (STRUGGLE_SIGNALS, INTERVENTIONS):  # the tables with indexes (the state table's: see stack.py)
            acknowledge(
                fn,
                f"AwsSolutions-IAM5[Resource::<{_logical(storage.table(spec))}.Arn>/index/*]",
                "Table.grant adds the table's index ARNs; BatchGetItem/BatchWriteItem never act on an index.",
            )
        stack = Stack.of(self)
        if config.push_provider == "sns":
            fn.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["sns:Publish"],
                    resources=[stack.format_arn(service="sns", resource="endpoint", resource_name="*")],
                )
            )
            acknowledge(
                fn,
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sns:<AWS::Region>:<AWS::AccountId>:endpoint/*]",
                "Mobile push goes to per-device SNS platform endpoints created at app install; their ARNs are not known at deploy.",
            )
        elif config.push_provider == "eum":
            fn.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["mobiletargeting:SendMessages"],
                    resources=[
                        stack.format_arn(
                            service="mobiletargeting", resource="apps", resource_name=f"{config.eum_application_id}/messages"
                        )
                    ],
                )
            )
        if analytics_table_arn:
            fn.add_to_role_policy(iam.PolicyStatement(actions=["timestream:WriteRecords"], resources=[analytics_table_arn]))
            fn.add_to_role_policy(iam.PolicyStatement(actions=["timestream:DescribeEndpoints"], resources=["*"]))
            acknowledge(
                fn,
                "AwsSolutions-IAM5[Resource::*]",
                "timestream:DescribeEndpoints supports no resource-level permissions (the SDK's endpoint discovery).",
            )


def _logical(construct) -> str:
    return Stack.of(construct).get_logical_id(construct.node.default_child)
