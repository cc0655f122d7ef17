"""Alarms that point at the runbook (docs/runbook.md, one section per alarm): iterator age,
on-failure queue depth, function errors, quarantined records, unconfirmed sends, clock skew and late
events, partition keys that are not user ids, users whose data the store refused, an exit-risk model
that cannot be loaded."""

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
        namespace: str,
        service: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarm_topic = sns.Topic(
            self, "AlarmTopic", display_name="Journey orchestrator alarms", master_key=key, enforce_ssl=True
        )

        def app_metric(name: str) -> cloudwatch.Metric:  # the processor's own EMF metrics
            return cloudwatch.Metric(
                namespace=namespace,
                metric_name=name,
                dimensions_map={"service": service},
                statistic="Sum",
                period=Duration.minutes(5),
            )

        alarms = {
            "IteratorAgeAlarm": (
                "Processor falls behind the stream (runbook: iterator age)",
                function.metric("IteratorAge", statistic="Maximum", period=Duration.minutes(1)),
                iterator_age_ms,
                5,
            ),
            "OnFailureQueueAlarm": (
                "Batches gave up after retries; redrive them (runbook: on-failure destination)",
                failures.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)),
                0,
                1,
            ),
            "ProcessorErrorsAlarm": (
                "Stream processor invocations failing (runbook: function errors)",
                function.metric_errors(period=Duration.minutes(5)),
                0,
                1,
            ),
            "QuarantineAlarm": (
                "Producers are sending records the processor rejects (runbook: quarantined records)",
                app_metric("EventsRejected"),
                100,
                1,
            ),
            "UnconfirmedSendsAlarm": (
                "Sends whose outcome is unknown after a crash (runbook: unconfirmed sends)",
                app_metric("InterventionsUnconfirmed"),
                0,
                1,
            ),
            "UndeliverableSendsAlarm": (
                "Channels refuse sends for good (runbook: undeliverable sends)",
                app_metric("InterventionsUndeliverable"),
                10,
                1,
            ),
            "ClockSkewAlarm": (
                "Events stamped after their arrival, clamped (runbook: clock skew and late events)",
                app_metric("FutureDatedEvents"),
                50,
                1,
            ),
            "LateEventsAlarm": (
                "Many events arrive late or stale: no sends for them (runbook: clock skew and late events)",
                app_metric("LateEvents"),
                500,
                3,
            ),
            "StaleDecisionsAlarm": (
                "Struggle found in events that were already old on arrival (runbook: clock skew and late events)",
                app_metric("StaleDecisions"),
                50,
                3,
            ),
            "PartitionKeyAlarm": (
                "Producers key records by something other than the user id (runbook: partition key mismatch)",
                app_metric("PartitionKeyMismatch"),
                0,
                1,
            ),
            "ExitRiskModelAlarm": (
                "The configured exit-risk model cannot be loaded; the points model scores (runbook: exit-risk model)",
                app_metric("ExitRiskModelUnavailable"),
                0,
                2,
            ),
            "UnstorableUsersAlarm": (
                "The store refused a user's data; their records are quarantined (runbook: unstorable users)",
                app_metric("UnstorableUsers"),
                0,
                1,
            ),
        }
        self.alarms = alarms_to(self, self.alarm_topic, alarms)


def alarms_to(
    scope: Construct,
    topic: sns.ITopic,
    specs: dict[str, tuple],
) -> list[cloudwatch.Alarm]:
    """One alarm per spec, each notifying ``topic``. A spec is ``(description, metric, threshold)``,
    optionally followed by evaluation periods (1), comparison (greater than the threshold) and how
    missing data is treated (not breaching): the one way every construct declares its alarms."""
    alarms = []
    for alarm_id, (description, metric, threshold, *more) in specs.items():
        periods = more[0] if len(more) > 0 else 1
        comparison = more[1] if len(more) > 1 else cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
        missing = more[2] if len(more) > 2 else cloudwatch.TreatMissingData.NOT_BREACHING
        alarm = cloudwatch.Alarm(
            scope,
            alarm_id,
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=periods,
            comparison_operator=comparison,
            treat_missing_data=missing,
        )
        alarm.add_alarm_action(actions.SnsAction(topic))
        alarms.append(alarm)
    return alarms
