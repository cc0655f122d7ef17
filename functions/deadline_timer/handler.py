"""Deadline timer: invoked by an EventBridge Scheduler schedule every minute with the target input
``{"scheduledTime": "<aws.scheduler.scheduled-time>"}`` (the Scheduler puts the run's scheduled time
there, ISO 8601). Composition root only: the decorators, the wiring, one call into the use case."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from journey.adapters.aws.factories import timer_ports
from journey.app.deadlines import DEFAULT_LIMIT, wake_due_users
from journey.lambda_kit.observability import traced
from journey.resources import Env

logger = Logger()
metrics = Metrics()


def scheduled_ms(event: dict) -> int:
    """The run's "now" in epoch ms: the schedule's scheduled time, else (a manual invocation, an input
    without it) the clock."""
    value = event.get("scheduledTime") if isinstance(event, dict) else None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
            return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp() * 1000)
        except ValueError:
            logger.warning("scheduledTime is not ISO 8601: using the clock", extra={"scheduledTime": value[:64]})
    return int(time.time() * 1000)


@traced
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    limit = int(os.environ.get(Env.TIMER_MAX_USERS) or DEFAULT_LIMIT)
    report = wake_due_users(timer_ports(), scheduled_ms(event), limit)
    metrics.add_metric(name="DueUsers", unit=MetricUnit.Count, value=report.found)
    metrics.add_metric(name="TimerCommands", unit=MetricUnit.Count, value=report.appended)
    metrics.add_metric(name="TimerCommandFailures", unit=MetricUnit.Count, value=len(report.failed))
    summary = {
        "scheduled_ms": report.scheduled_ms,
        "due_users": report.found,
        "commands": report.appended,
        "failed": len(report.failed),
        "failed_users": report.failed[:20],
        "limit": limit,
    }
    if report.limit_reached:
        logger.warning("deadline timer reached its limit: the rest wait for the next run", extra=summary)
    logger.info("deadline timer run", extra=summary)
    return {key: value for key, value in summary.items() if key != "failed_users"}
