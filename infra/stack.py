"""The orchestrator stack: composes storage, delivery, analytics, stream processing, monitoring, the
deadline timer, the HTTPS API and the agent of the hard cases (AI decisions)."""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from constructs import Construct

from infra.agent import JourneyAgent
from infra.analytics import JourneyAnalytics
from infra.api import JourneyApi
from infra.config import DeploymentConfig
from infra.deadlines import DeadlineTimer
from infra.delivery import InterventionDelivery
from infra.function import Observability
from infra.monitoring import JourneyMonitoring
from infra.nag import acknowledge, logical_id
from infra.storage import JourneyStorage
from infra.stream_processing import METRICS_NAMESPACE, SERVICE_NAME, StreamProcessing
from journey.resources import INTERVENTIONS, USER_STATE


class JourneyOrchestratorStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        removal = RemovalPolicy.RETAIN if config.stage == "prod" else RemovalPolicy.DESTROY
        key = kms.Key(
            self,
            "DataKey",
            description="Encrypts the journey stream, tables, topics, queues, quarantine, the pseudonym key and logs at rest",
            enable_key_rotation=True,
            pending_window=Duration.days(7),
            removal_policy=removal,
        )
        storage = JourneyStorage(self, "Storage", key=key, removal_policy=removal)
        delivery = InterventionDelivery(self, "Delivery", key=key)
        analytics = JourneyAnalytics(self, "Analytics", key=key, stage=config.stage) if config.timestream_enabled else None
        processing = StreamProcessing(
            self,
            "Processing",
            config=config,
            key=key,
            storage=storage,
            topic=delivery.topic,
            analytics_table_arn=analytics.table.attr_arn if analytics else None,
            analytics_names=(analytics.database.ref, analytics.table.attr_name) if analytics else None,
            removal_policy=removal,
        )
        monitoring = JourneyMonitoring(
            self,
            "Monitoring",
            key=key,
            function=processing.function,
            failures=processing.failures,
            iterator_age_ms=config.iterator_age_alarm_ms,
            namespace=METRICS_NAMESPACE,
            service=SERVICE_NAME,
        )
        state_table = storage.table(USER_STATE)
        acknowledge(
            processing.function,
            f"AwsSolutions-IAM5[Resource::<{logical_id(state_table)}.Arn>/index/*]",
            "Table.grant adds the state table's index ARNs (its due index); BatchGetItem/BatchWriteItem never act on an index.",
        )
        timer = DeadlineTimer(
            self,
            "Deadlines",
            key=key,
            state_table=state_table,
            stream=processing.stream,
            observability=Observability(SERVICE_NAME, METRICS_NAMESPACE, trace_aws_calls=config.trace_aws_calls),
            alarm_topic=monitoring.alarm_topic,
            removal_policy=removal,
        )
        api = JourneyApi(
            self,
            "Api",
            config=config,
            key=key,
            storage=storage,
            stream=processing.stream,
            alarm_topic=monitoring.alarm_topic,
            metrics_namespace=METRICS_NAMESPACE,
            removal_policy=removal,
        )
        # after the processor: its event source mapping stays the template's first (the local runtime runs that one)
        self.agent = JourneyAgent(
            self,
            "Agent",
            config=config,
            key=key,
            storage=storage,
            stream=processing.stream,
            processing=processing,
            alarm_topic=monitoring.alarm_topic,
            metrics_namespace=METRICS_NAMESPACE,
            removal_policy=removal,
        )
        CfnOutput(self, "ApiFunctionName", value=api.function.function_name)
        CfnOutput(self, "EventStreamName", value=processing.stream.stream_name)
        CfnOutput(self, "InterventionsTopicArn", value=delivery.topic.topic_arn)
        CfnOutput(self, "InterventionsTableName", value=storage.table(INTERVENTIONS).table_name)
        CfnOutput(self, "OnFailureQueueUrl", value=processing.failures.queue_url)
        CfnOutput(self, "QuarantineBucketName", value=storage.quarantine.bucket_name)
        CfnOutput(
            self,
            "ModelsBucketName",
            value=storage.models.bucket_name,
            description="Trained exit-risk models (python -m ml.publish --bucket <this>; docs/exit-risk.md)",
        )
        CfnOutput(self, "StreamProcessorFunctionName", value=processing.function.function_name)
        CfnOutput(self, "DeadlineTimerFunctionName", value=timer.function.function_name)
        CfnOutput(self, "DeadlineScheduleName", value=timer.schedule.ref)
