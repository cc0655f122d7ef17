"""The deadline timer: an EventBridge Scheduler schedule invokes the timer function every minute; it
finds the users whose state has something due (the state table's sparse ``DueIndex``) and appends a
timer command to each one's stream. Only the stream processor writes user state (DESIGN.md rule 1),
so the timer's role can read the index and put records, nothing else."""

from __future__ import annotations

import json

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.function import JourneyFunction, Observability
from infra.monitoring import alarms_to
from journey.resources import DUE_INDEX, USER_STATE, Env

RATE = "rate(1 minute)"
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"  # the Scheduler's context attribute, replaced at each run
DEFAULT_MAX_USERS = 10_000


class DeadlineTimer(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        state_table: dynamodb.ITable,
        stream: kinesis.IStream,
        observability: Observability,
        alarm_topic: sns.ITopic,
        removal_policy: RemovalPolicy,
        max_users_per_run: int = DEFAULT_MAX_USERS,
    ) -> None:
        super().__init__(scope, construct_id)
        self.timer = JourneyFunction(
            self,
            "DeadlineTimer",
            code="deadline_timer",
            description="Every minute: a timer command onto the stream of each user with something due",
            environment={
                USER_STATE.env: state_table.table_name,
                Env.EVENT_STREAM_NAME: stream.stream_name,
                Env.TIMER_MAX_USERS: str(max_users_per_run),
            },
            observability=observability,
            log_key=key,
            removal_policy=removal_policy,
            memory_mb=256,
            timeout=Duration.seconds(50),  # a run ends before the next one starts
        )
        fn = self.function = self.timer.function
        # a failed run is not retried: the next one, a minute later, finds the same users (the index is
        # the truth, not the invocations), and an old run retried late would only repeat its commands
        fn.configure_async_invoke(retry_attempts=0, max_event_age=Duration.minutes(1))
        fn.add_to_role_policy(
            iam.PolicyStatement(actions=["dynamodb:Query"], resources=[f"{state_table.table_arn}/index/{DUE_INDEX.name}"])
        )
        fn.add_to_role_policy(iam.PolicyStatement(actions=["kinesis:PutRecords"], resources=[stream.stream_arn]))
        # the index is read through the table's key, the stream is written with it
        key.grant(fn, "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey")

        stack = Stack.of(self)
        self.role = iam.Role(
            self,
            "ScheduleRole",
            description="EventBridge Scheduler invokes the deadline timer, and nothing else",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={
                    "StringEquals": {
                        "aws:SourceAccount": stack.account,
                        "aws:SourceArn": stack.format_arn(
                            service="scheduler", resource="schedule-group", resource_name="default"
                        ),
                    }
                },
            ),
        )
        self.role.add_to_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[fn.function_arn]))
        self.schedule = scheduler.CfnSchedule(
            self,
            "Schedule",
            description="The deadline timer, every minute (its input carries the run's scheduled time)",
            schedule_expression=RATE,
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            state="ENABLED",
            target=scheduler.CfnSchedule.TargetProperty(
                arn=fn.function_arn,
                role_arn=self.role.role_arn,
                input=json.dumps({"scheduledTime": SCHEDULED_TIME}),
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(maximum_event_age_in_seconds=60, maximum_retry_attempts=3),
            ),
        )
        self.schedule.node.add_dependency(self.role)  # the role's policy exists before the first invocation
        self.alarms = self._alarms(observability, alarm_topic)

    def _alarms(self, observability: Observability, topic: sns.ITopic) -> list[cloudwatch.Alarm]:
        failures = cloudwatch.Metric(
            namespace=observability.metrics_namespace,
            metric_name="TimerCommandFailures",
            dimensions_map={"service": observability.service},
            statistic="Sum",
            period=Duration.minutes(5),
        )
        specs = {
            "TimerCommandFailuresAlarm": (
                "Timer commands could not be appended to users' streams (runbook: deadline timer)",
                failures,
                0,
                1,
                cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            "DeadlineTimerErrorsAlarm": (
                "Deadline timer runs failing (runbook: deadline timer)",
                self.function.metric_errors(period=Duration.minutes(5)),
                2,
                1,
                cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            "DeadlineTimerNotRunningAlarm": (
                "The deadline timer has not run for 5 minutes: nothing due is declared (runbook: deadline timer)",
                self.function.metric_invocations(period=Duration.minutes(5)),
                1,
                1,
                cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                cloudwatch.TreatMissingData.BREACHING,
            ),
        }
        return alarms_to(self, topic, specs)
