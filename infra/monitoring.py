"""Alarms that point at the runbook: iterator age, on-failure queue depth, function errors."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct


class JourneyMonitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        function: lambda_.IFunction,
        failures: sqs.IQueue,
        iterator_age_ms: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarm_topic = sns.Topic(self, "AlarmTopic", display_name="Journey orchestrator alarms", master_key=key, enforce_ssl=True)
        action = actions.SnsAction(self.alarm_topic)
        self.alarms = [
            cloudwatch.Alarm(
                self,
                "IteratorAgeAlarm",
                alarm_description="Processor falls behind the stream (runbook: iterator age)",
                metric=function.metric("IteratorAge", statistic="Maximum", period=Duration.minutes(1)),
                threshold=iterator_age_ms,
                evaluation_periods=5,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            cloudwatch.Alarm(
                self,
                "OnFailureQueueAlarm",
                alarm_description="Batches gave up after retries; redrive them (runbook: on-failure destination)",
                metric=failures.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)),
                threshold=0,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            cloudwatch.Alarm(
                self,
                "ProcessorErrorsAlarm",
                alarm_description="Stream processor invocations failing (runbook: function errors)",
                metric=function.metric_errors(period=Duration.minutes(5)),
                threshold=0,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
        ]
        for alarm in self.alarms:
            alarm.add_alarm_action(action)
