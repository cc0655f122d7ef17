"""The stream and its processor: Kinesis on demand ▸ event source mapping ▸ stream processor Lambda."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import DeploymentConfig
from infra.nag import acknowledge
from infra.storage import JourneyStorage

ROOT = Path(__file__).resolve().parent.parent
JOURNEY_LAYER = ROOT / "layers" / "journey"
DEPS_LAYER = ROOT / "layers" / "deps"
RUNTIME = lambda_.Runtime.PYTHON_3_14
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
        if not (DEPS_LAYER / "python").is_dir():
            raise FileNotFoundError(
                f"{DEPS_LAYER}/python is missing: build the dependency layer first with 'make layers' (pip, no Docker)"
            )
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

        journey_layer = lambda_.LayerVersion(
            self,
            "JourneyLayer",
            code=lambda_.Code.from_asset(str(JOURNEY_LAYER), exclude=["**/__pycache__", "**/*.pyc"]),
            compatible_runtimes=[RUNTIME],
            description="journey domain library: models, normalizers, detection, policy, adapters",
        )
        deps_layer = lambda_.LayerVersion(
            self,
            "DependenciesLayer",
            code=lambda_.Code.from_asset(str(DEPS_LAYER), exclude=["**/__pycache__", "**/*.pyc"]),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[lambda_.Architecture.X86_64],
            description="third-party runtime dependencies (pip --platform manylinux2014_x86_64, no Docker)",
        )
        log_group = logs.LogGroup(
            self,
            "ProcessorLogs",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=removal_policy,
        )
        tables = storage.tables
        environment = {
            "STATE_TABLE": tables["UserState"].table_name,
            "EVENTS_TABLE": tables["UserEvents"].table_name,
            "SIGNALS_TABLE": tables["StruggleSignals"].table_name,
            "INTERVENTIONS_TABLE": tables["Interventions"].table_name,
            "INTERVENTIONS_TOPIC_ARN": topic.topic_arn,
            "QUARANTINE_BUCKET": storage.quarantine.bucket_name,
            "JOURNEY_SWITCHES__TIMESTREAM_ENABLED": "true" if analytics_names else "false",
            "JOURNEY_SWITCHES__PUSH_PROVIDER": config.push_provider,
            **({"EUM_APPLICATION_ID": config.eum_application_id} if config.push_provider == "eum" else {}),
            "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": "INFO",
            # the X-Ray SDK (subsegments per AWS call) costs ~300 ms of cold start: opt-in
            "POWERTOOLS_TRACE_DISABLED": "false" if config.trace_aws_calls else "true",
        }
        if analytics_names:
            environment["TIMESTREAM_DATABASE"], environment["TIMESTREAM_TABLE"] = analytics_names
        self.function = lambda_.Function(
            self,
            "StreamProcessor",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.X86_64,
            handler="handler.lambda_handler",
            code=lambda_.Code.from_asset(str(ROOT / "functions" / "stream_processor"), exclude=["**/__pycache__"]),
            layers=[journey_layer, deps_layer],
            memory_size=1024,
            timeout=Duration.seconds(60),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            environment=environment,
            description="Kinesis batch ▸ detect struggle and exit risk ▸ decide and deliver interventions",
        )
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
            "Quarantine objects are written under the quarantine/ prefix, one object per batch; keys are not known in advance.",
        )
        acknowledge(
            fn,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray PutTraceSegments/PutTelemetryRecords and timestream:DescribeEndpoints support no resource-level permissions.",
        )
        acknowledge(
            fn,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "The AWS-managed basic execution role grants only CloudWatch Logs writes for this function's logs.",
        )
        for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*"):
            acknowledge(
                fn,
                f"AwsSolutions-IAM5[Action::{action}]",
                "Added by the L2 grants for the encrypted stream and on-failure queue (SqsDlq); scoped to the one data key.",
            )
        acknowledge(
            fn,
            f"AwsSolutions-IAM5[Resource::<{_logical(storage.tables['StruggleSignals'])}.Arn>/index/*]",
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


def _logical(construct) -> str:
    return Stack.of(construct).get_logical_id(construct.node.default_child)
